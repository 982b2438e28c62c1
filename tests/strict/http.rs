//! Just enough of an HTTP/1.1 server for the SDK's hyper client: keep-alive
//! connections, bodies sized by Content-Length or sent chunked, and
//! `Expect: 100-continue`. The SDK sends Content-Length for these operations;
//! chunked bodies are decoded anyway so that a client change cannot make
//! requests silently empty.

use std::io;
use std::ops::Range;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 16 * 1024 * 1024;

/// One request, its body left in the connection's buffer.
pub(super) struct Request {
    pub target: Option<String>,
    pub authorization: Option<String>,
    /// The client asked to close the connection after the response.
    pub close: bool,
    /// The body's place in the buffer (decoded if it came chunked).
    pub body: Range<usize>,
    /// How many bytes at the buffer's start this request took.
    pub consumed: usize,
}

/// Reads the next request into `buffer`, which keeps any bytes of the
/// request after it. `None`: the client closed the connection between
/// requests.
pub(super) async fn read_request(
    stream: &mut TcpStream,
    buffer: &mut Vec<u8>,
) -> io::Result<Option<Request>> {
    let head_end = loop {
        if let Some(at) = find(buffer, b"\r\n\r\n") {
            break at + 4;
        }
        if buffer.len() > MAX_HEAD {
            return Err(invalid("request head too large"));
        }
        if read_more(stream, buffer).await? == 0 {
            return match buffer.is_empty() {
                true => Ok(None),
                false => Err(io::ErrorKind::UnexpectedEof.into()),
            };
        }
    };
    let head = std::str::from_utf8(&buffer[..head_end])
        .map_err(|_| invalid("request head is not UTF-8"))?;
    let mut lines = head.split("\r\n");
    let mut close = lines.next().unwrap_or_default().ends_with("HTTP/1.0");
    let mut target = None;
    let mut authorization = None;
    let mut content_length = 0;
    let mut chunked = false;
    let mut expect_continue = false;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let (name, value) = (name.trim(), value.trim());
        if name.eq_ignore_ascii_case("content-length") {
            content_length = value
                .parse()
                .map_err(|_| invalid("Content-Length is not a number"))?;
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.to_ascii_lowercase().contains("chunked");
        } else if name.eq_ignore_ascii_case("x-amz-target") {
            target = Some(value.to_owned());
        } else if name.eq_ignore_ascii_case("authorization") {
            authorization = Some(value.to_owned());
        } else if name.eq_ignore_ascii_case("connection") {
            close = value.eq_ignore_ascii_case("close");
        } else if name.eq_ignore_ascii_case("expect") {
            expect_continue = value.eq_ignore_ascii_case("100-continue");
        }
    }
    if expect_continue && buffer.len() == head_end {
        stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await?;
    }
    let body = if chunked {
        read_chunked(stream, buffer, head_end).await?
    } else {
        if content_length > MAX_BODY {
            return Err(invalid("body too large"));
        }
        while buffer.len() < head_end + content_length {
            if read_more(stream, buffer).await? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
        head_end..head_end + content_length
    };
    Ok(Some(Request {
        target,
        authorization,
        close,
        consumed: body.end,
        body,
    }))
}

/// A complete response with a JSON body.
pub(super) fn response(status: u16, body: &[u8], request_id: u64) -> Vec<u8> {
    use std::io::Write;
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        500 => "Internal Server Error",
        _ => "Error",
    };
    let mut out = Vec::with_capacity(body.len() + 160);
    write!(
        out,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/x-amz-json-1.0\r\n\
         Content-Length: {}\r\nx-amzn-RequestId: STRICT{request_id:020}\r\n\r\n",
        body.len()
    )
    .expect("writing to a Vec cannot fail");
    out.extend_from_slice(body);
    out
}

async fn read_more(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> io::Result<usize> {
    buffer.reserve(16 * 1024);
    stream.read_buf(buffer).await
}

/// Reads a chunked body and puts the decoded bytes in place of the chunks,
/// right after the head.
async fn read_chunked(
    stream: &mut TcpStream,
    buffer: &mut Vec<u8>,
    head_end: usize,
) -> io::Result<Range<usize>> {
    loop {
        if let Some((decoded, taken)) = decode_chunks(&buffer[head_end..])? {
            let end = head_end + decoded.len();
            buffer.splice(head_end..head_end + taken, decoded);
            return Ok(head_end..end);
        }
        if buffer.len() - head_end > 2 * MAX_BODY {
            return Err(invalid("body too large"));
        }
        if read_more(stream, buffer).await? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
    }
}

/// The decoded body and the bytes its chunks took, or `None` while the last
/// chunk has not arrived.
fn decode_chunks(bytes: &[u8]) -> io::Result<Option<(Vec<u8>, usize)>> {
    let mut decoded = Vec::new();
    let mut at = 0;
    loop {
        let Some(line_end) = find(&bytes[at..], b"\r\n") else {
            return Ok(None);
        };
        let line = std::str::from_utf8(&bytes[at..at + line_end])
            .map_err(|_| invalid("chunk size is not UTF-8"))?;
        let size_text = line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| invalid("chunk size is not hexadecimal"))?;
        at += line_end + 2;
        if size == 0 {
            // Trailer fields, if any, then an empty line.
            loop {
                let Some(end) = find(&bytes[at..], b"\r\n") else {
                    return Ok(None);
                };
                at += end + 2;
                if end == 0 {
                    return Ok(Some((decoded, at)));
                }
            }
        }
        if bytes.len() < at + size + 2 {
            return Ok(None);
        }
        decoded.extend_from_slice(&bytes[at..at + size]);
        if &bytes[at + size..at + size + 2] != b"\r\n" {
            return Err(invalid("chunk data is not followed by CRLF"));
        }
        at += size + 2;
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}
