//! The HTTP/1.1 server both fakes stand on (the strict Timestream
//! endpoint in `strict/`, the InfluxDB one in `influx/`): a listener on
//! 127.0.0.1 served by its own thread with a current-thread tokio runtime
//! (one core for the endpoint, the rest for the client under test),
//! keep-alive connections, bodies sized by Content-Length or sent chunked,
//! `Expect: 100-continue`, and the request line split into method, path and
//! decoded query parameters. What to answer is the endpoint's: a function
//! from a request to a [`Reply`].
//!
//! Not a module of `common`: a bench that includes one fake includes this
//! module beside it (see `mod.rs`), and nothing of the tests' helpers.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::ops::Range;
use std::pin::Pin;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;

const MAX_HEAD: usize = 64 * 1024;

/// One request, its body left in the connection's buffer.
pub(super) struct Request {
    pub method: String,
    pub path: String,
    /// Query parameters, percent-decoded, in the order sent.
    pub query: Vec<(String, String)>,
    /// Header names in lower case, in the order sent.
    pub headers: Vec<(String, String)>,
    /// The client asked to close the connection after the response.
    pub close: bool,
    /// The body's place in the buffer (decoded if it came chunked).
    pub body: Range<usize>,
    /// How many bytes at the buffer's start this request took.
    pub consumed: usize,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        param(&self.query, name)
    }
}

/// The first value of a header, its name in any case.
pub(super) fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The last value of a query parameter.
pub(super) fn param<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    query
        .iter()
        .rev()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// What to send back, and when.
#[derive(Default)]
pub(super) struct Reply {
    /// `None`: close the connection without a reply.
    pub bytes: Option<Vec<u8>>,
    /// Waited out before the reply is sent, after `gate`.
    pub delay: Duration,
    /// Awaited first: the reply waits until it completes.
    pub gate: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
    /// Kept until the reply is sent, or until the connection ends first.
    pub guard: Option<Box<dyn Send>>,
}

impl Reply {
    pub fn after(delay: Duration, bytes: Option<Vec<u8>>) -> Reply {
        Reply {
            bytes,
            delay,
            ..Reply::default()
        }
    }
}

/// A listener on a free port of 127.0.0.1, not yet served.
pub(super) struct Listener {
    listener: std::net::TcpListener,
    address: SocketAddr,
}

impl Listener {
    /// Panics if it cannot bind; `what` names the endpoint.
    pub fn bind(what: &str) -> Listener {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap_or_else(|e| panic!("bind the {what}: {e}"));
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let address = listener.local_addr().expect("the listener's address");
        Listener { listener, address }
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Serves every connection on a thread named `thread_name`, answering
    /// each request with `answer` (given the request and its body). A
    /// request whose body is larger than `max_body` closes its connection.
    pub fn serve<A>(self, thread_name: &str, max_body: usize, answer: A) -> Server
    where
        A: Fn(&Request, &[u8]) -> Reply + Send + Sync + 'static,
    {
        let (stop, stopped) = oneshot::channel();
        let listener = self.listener;
        let answer = Arc::new(answer);
        let thread = std::thread::Builder::new()
            .name(thread_name.into())
            .spawn(move || run(listener, answer, max_body, stopped))
            .unwrap_or_else(|e| panic!("spawn the {thread_name} thread: {e}"));
        Server {
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

/// A served listener. Dropping it stops the thread and closes every
/// connection.
pub(super) struct Server {
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The endpoints' wall clock, in ns since the epoch.
pub(super) fn now_nanos() -> i64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since_epoch.as_nanos()).unwrap_or(i64::MAX)
}

fn run<A>(
    listener: std::net::TcpListener,
    answer: Arc<A>,
    max_body: usize,
    stopped: oneshot::Receiver<()>,
) where
    A: Fn(&Request, &[u8]) -> Reply + Send + Sync + 'static,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("an in-test endpoint's runtime");
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
        let accept = async {
            loop {
                match listener.accept().await {
                    Ok((stream, _)) => {
                        tokio::spawn(serve(answer.clone(), max_body, stream));
                    }
                    // Out of file descriptors, most likely: let connections close.
                    Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
                }
            }
        };
        tokio::select! {
            () = accept => {}
            _ = stopped => {}
        }
    });
    // Dropping the runtime here ends every connection task.
}

async fn serve<A>(answer: Arc<A>, max_body: usize, mut stream: TcpStream)
where
    A: Fn(&Request, &[u8]) -> Reply + Send + Sync + 'static,
{
    let _ = stream.set_nodelay(true);
    let mut buffer = Vec::with_capacity(64 * 1024);
    while let Ok(Some(request)) = read_request(&mut stream, &mut buffer, max_body).await {
        let reply = answer(&request, &buffer[request.body.clone()]);
        buffer.drain(..request.consumed);
        let _guard = reply.guard;
        if let Some(gate) = reply.gate {
            gate.await;
        }
        if !reply.delay.is_zero() {
            tokio::time::sleep(reply.delay).await;
        }
        let Some(bytes) = reply.bytes else { return };
        if stream.write_all(&bytes).await.is_err() || request.close {
            return;
        }
    }
}

/// Reads the next request into `buffer`, which keeps any bytes of the
/// request after it. `None`: the client closed the connection between
/// requests.
async fn read_request(
    stream: &mut TcpStream,
    buffer: &mut Vec<u8>,
    max_body: usize,
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
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default();
    let mut close = request_line.ends_with("HTTP/1.0");
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let path = percent_decode(path, false)?;
    let query = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((percent_decode(name, true)?, percent_decode(value, true)?))
        })
        .collect::<io::Result<Vec<_>>>()?;
    let mut headers = Vec::new();
    let mut content_length = 0;
    let mut chunked = false;
    let mut expect_continue = false;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
        match name.as_str() {
            "content-length" => {
                content_length = value
                    .parse()
                    .map_err(|_| invalid("Content-Length is not a number"))?
            }
            "transfer-encoding" => chunked = value.to_ascii_lowercase().contains("chunked"),
            "connection" => close = value.eq_ignore_ascii_case("close"),
            "expect" => expect_continue = value.eq_ignore_ascii_case("100-continue"),
            _ => {}
        }
        headers.push((name, value.to_owned()));
    }
    if expect_continue && buffer.len() == head_end {
        stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await?;
    }
    let body = if chunked {
        read_chunked(stream, buffer, head_end, max_body).await?
    } else {
        if content_length > max_body {
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
        method,
        path,
        query,
        headers,
        close,
        consumed: body.end,
        body,
    }))
}

/// A complete response; `content_type` empty for none (204).
pub(super) fn response(
    status: u16,
    content_type: &str,
    extra_headers: &[(&str, String)],
    body: &[u8],
) -> Vec<u8> {
    use std::io::Write;
    let reason = match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        413 => "Request Entity Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Error",
    };
    let mut out = Vec::with_capacity(body.len() + 200);
    write!(out, "HTTP/1.1 {status} {reason}\r\n").expect("writing to a Vec cannot fail");
    if !content_type.is_empty() {
        write!(out, "Content-Type: {content_type}\r\n").expect("writing to a Vec cannot fail");
    }
    for (name, value) in extra_headers {
        write!(out, "{name}: {value}\r\n").expect("writing to a Vec cannot fail");
    }
    write!(out, "Content-Length: {}\r\n\r\n", body.len()).expect("writing to a Vec cannot fail");
    out.extend_from_slice(body);
    out
}

/// Strict where `percent_encoding`'s decoder is lenient: a `%` not
/// followed by two hex digits is an error, so that a client's broken
/// escape shows.
fn percent_decode(text: &str, plus_is_space: bool) -> io::Result<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'%' => {
                let hex = bytes
                    .get(at + 1..at + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| invalid("bad percent escape"))?;
                out.push(hex);
                at += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                at += 1;
            }
            byte => {
                out.push(byte);
                at += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| invalid("a decoded query parameter is not UTF-8"))
}

async fn read_more(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> io::Result<usize> {
    buffer.reserve(64 * 1024);
    stream.read_buf(buffer).await
}

/// Reads a chunked body and puts the decoded bytes in place of the chunks,
/// right after the head.
async fn read_chunked(
    stream: &mut TcpStream,
    buffer: &mut Vec<u8>,
    head_end: usize,
    max_body: usize,
) -> io::Result<Range<usize>> {
    loop {
        if let Some((decoded, taken)) = decode_chunks(&buffer[head_end..])? {
            let end = head_end + decoded.len();
            buffer.splice(head_end..head_end + taken, decoded);
            return Ok(head_end..end);
        }
        if buffer.len() - head_end > 2 * max_body {
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
