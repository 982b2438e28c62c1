//! The listener `outatime test --listen` runs: it takes the webhook
//! notifications of Prometheus Alertmanager (payload `"version": "4"`) and
//! of Grafana's webhook contact point, and keeps each with the time it
//! arrived. A small HTTP/1.1 server on a thread of its own: a request a
//! connection, its body read up to [`MAX_BODY`], answered `200` once
//! parsed, `400` with the reason otherwise.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The largest notification taken: Alertmanager's are a few KiB an alert.
pub(crate) const MAX_BODY: usize = 16 << 20;

/// The most notification bytes kept for one run; past it, a notification
/// is answered 507 and not kept (a sender that floods the listener cannot
/// take the machine's memory).
pub(crate) const MAX_KEPT: usize = 64 << 20;

/// Connections served at once; past them, a connection is closed unread.
pub(crate) const MAX_CONNECTIONS: usize = 64;

/// One notification received.
#[derive(Clone, Debug)]
pub(crate) struct Notification {
    /// Nanoseconds since the epoch, on this machine's clock.
    pub received_at: i64,
    /// `alertmanager` or `grafana`, read from the payload's shape.
    pub sender: &'static str,
    pub alerts: Vec<ReceivedAlert>,
    /// The payload as it came, for the report.
    pub payload: serde_json::Value,
}

#[derive(Clone, Debug)]
pub(crate) struct ReceivedAlert {
    /// `firing` or `resolved`.
    pub status: String,
    pub labels: BTreeMap<String, String>,
}

/// What the listener has received so far, and the bytes it holds.
#[derive(Clone, Default)]
pub(crate) struct Inbox(Arc<Mutex<(Vec<Notification>, usize)>>);

impl Inbox {
    pub(crate) fn snapshot(&self) -> Vec<Notification> {
        self.0.lock().map(|n| n.0.clone()).unwrap_or_default()
    }

    /// Keeps `n`, of `bytes` bytes, unless that would pass [`MAX_KEPT`].
    fn push(&self, n: Notification, bytes: usize) -> bool {
        let Ok(mut all) = self.0.lock() else {
            return false;
        };
        if all.1 + bytes > MAX_KEPT {
            return false;
        }
        all.1 += bytes;
        all.0.push(n);
        true
    }
}

/// A running listener; it stops with the process.
pub(crate) struct Listener {
    pub address: SocketAddr,
    pub inbox: Inbox,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot listen on {address}: {error}")]
pub(crate) struct ListenError {
    pub address: String,
    #[source]
    pub error: std::io::Error,
}

/// Listens on `address` (`127.0.0.1:9095`, `:9095` for every interface).
pub(crate) fn listen(address: &str) -> Result<Listener, ListenError> {
    let full = if address.starts_with(':') {
        format!("0.0.0.0{address}")
    } else {
        address.to_string()
    };
    let fail = |error| ListenError {
        address: address.to_string(),
        error,
    };
    let listener = TcpListener::bind(&full).map_err(fail)?;
    let bound = listener.local_addr().map_err(fail)?;
    let inbox = Inbox::default();
    let taken = inbox.clone();
    let open = Arc::new(AtomicUsize::new(0));
    std::thread::Builder::new()
        .name("outatime-listener".into())
        .spawn(move || {
            for stream in listener.incoming().flatten() {
                if open.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
                    open.fetch_sub(1, Ordering::SeqCst);
                    drop(stream);
                    continue;
                }
                let (inbox, open) = (taken.clone(), open.clone());
                // One thread a connection: a slow client never holds up
                // the next notification.
                let spawned = std::thread::Builder::new()
                    .name("outatime-notification".into())
                    .spawn(move || {
                        serve(stream, &inbox);
                        open.fetch_sub(1, Ordering::SeqCst);
                    });
                if spawned.is_err() {
                    // The thread was not made: its count is given back by
                    // no one else.
                    continue;
                }
            }
        })
        .map_err(fail)?;
    Ok(Listener {
        address: bound,
        inbox,
    })
}

fn serve(stream: TcpStream, inbox: &Inbox) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut writer = match stream.try_clone() {
        Ok(w) => w,
        Err(_) => return,
    };
    let (status, text) = match read_request(stream) {
        Ok(Request::Notification(body)) => match notification(&body) {
            Ok(n) => {
                if inbox.push(n, body.len()) {
                    ("200 OK", "received\n".to_string())
                } else {
                    (
                        "507 Insufficient Storage",
                        format!("outatime keeps at most {MAX_KEPT} bytes of notifications a run\n"),
                    )
                }
            }
            Err(reason) => ("400 Bad Request", format!("{reason}\n")),
        },
        Ok(Request::Other) => ("200 OK", "outatime test: POST notifications here\n".into()),
        Err(Refusal::TooLarge) => (
            "413 Payload Too Large",
            format!("a notification is at most {MAX_BODY} bytes\n"),
        ),
        Err(Refusal::Bad(reason)) => ("400 Bad Request", format!("{reason}\n")),
    };
    let _ = write!(
        writer,
        "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    );
}

enum Request {
    Notification(Vec<u8>),
    Other,
}

/// Why a request is not taken.
enum Refusal {
    TooLarge,
    Bad(String),
}

impl From<String> for Refusal {
    fn from(reason: String) -> Refusal {
        Refusal::Bad(reason)
    }
}

impl From<&str> for Refusal {
    fn from(reason: &str) -> Refusal {
        Refusal::Bad(reason.to_string())
    }
}

fn read_request(stream: TcpStream) -> Result<Request, Refusal> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the request: {e}"))?;
    let method = line
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string();
    let mut length = None;
    let mut chunked = false;
    loop {
        let mut header = String::new();
        let n = reader
            .read_line(&mut header)
            .map_err(|e| format!("cannot read the headers: {e}"))?;
        if n == 0 || header == "\r\n" || header == "\n" {
            break;
        }
        let Some((name, value)) = header.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(value.parse::<usize>().map_err(|_| "a bad Content-Length")?);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.eq_ignore_ascii_case("chunked");
        }
    }
    if method != "POST" {
        return Ok(Request::Other);
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).map_err(|e| e.to_string())?;
            let size = usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16)
                .map_err(|_| "a bad chunk size")?;
            if size == 0 {
                break;
            }
            if body.len() + size > MAX_BODY {
                return Err(Refusal::TooLarge);
            }
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).map_err(|e| e.to_string())?;
            body.extend_from_slice(&chunk[..size]);
        }
    } else {
        let length = length.ok_or("a POST without Content-Length")?;
        if length > MAX_BODY {
            return Err(Refusal::TooLarge);
        }
        body.resize(length, 0);
        reader
            .read_exact(&mut body)
            .map_err(|e| format!("cannot read the body: {e}"))?;
    }
    Ok(Request::Notification(body))
}

/// A webhook payload: Alertmanager's (`version` `4`) or Grafana's (an
/// `orgId`, or `version` `1`); both carry `alerts` with `status` and
/// `labels`.
fn notification(body: &[u8]) -> Result<Notification, String> {
    let payload: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
    let alerts = payload["alerts"]
        .as_array()
        .ok_or("no `alerts` list: not an Alertmanager or Grafana webhook payload")?;
    let sender = if payload["version"] == "4" {
        "alertmanager"
    } else if payload.get("orgId").is_some() || payload["version"] == "1" {
        "grafana"
    } else {
        "webhook"
    };
    let alerts = alerts
        .iter()
        .map(|a| ReceivedAlert {
            status: a["status"]
                .as_str()
                .or(payload["status"].as_str())
                .unwrap_or("firing")
                .to_string(),
            labels: a["labels"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect(),
        })
        .collect();
    Ok(Notification {
        received_at: super::wall_now(),
        sender,
        alerts,
        payload,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alertmanager_and_grafana_payloads_are_read_and_others_refused() {
        let am = br#"{"version":"4","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"A","truck":"t1"},"startsAt":"2026-12-08T10:00:00Z"}]}"#;
        let n = notification(am).unwrap();
        assert_eq!(n.sender, "alertmanager");
        assert_eq!(n.alerts[0].labels["truck"], "t1");
        assert_eq!(n.alerts[0].status, "firing");
        let grafana = br#"{"orgId":1,"version":"1","status":"resolved","alerts":[{"labels":{"alertname":"B"}}]}"#;
        let n = notification(grafana).unwrap();
        assert_eq!(
            (n.sender, n.alerts[0].status.as_str()),
            ("grafana", "resolved")
        );
        assert!(notification(b"{}").unwrap_err().contains("no `alerts`"));
        assert!(notification(b"nope").unwrap_err().starts_with("not JSON"));
    }

    #[test]
    fn the_inbox_keeps_no_more_than_its_bound() {
        let inbox = Inbox::default();
        let n = notification(br#"{"version":"4","alerts":[]}"#).unwrap();
        assert!(inbox.push(n.clone(), MAX_KEPT - 10));
        assert!(!inbox.push(n.clone(), 11));
        assert!(inbox.push(n, 10));
        assert_eq!(inbox.snapshot().len(), 2);
    }

    #[test]
    fn a_posted_notification_reaches_the_inbox_and_a_bad_one_gets_400() {
        let listener = listen("127.0.0.1:0").unwrap();
        let post = |body: &str| {
            let mut s = TcpStream::connect(listener.address).unwrap();
            write!(
                s,
                "POST /alerts HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
            .unwrap();
            let mut answer = String::new();
            s.read_to_string(&mut answer).unwrap();
            answer
        };
        assert!(
            post(r#"{"version":"4","alerts":[{"status":"firing","labels":{"alertname":"A"}}]}"#)
                .starts_with("HTTP/1.1 200")
        );
        assert!(post("[1]").starts_with("HTTP/1.1 400"));
        // A body past the limit is refused from its Content-Length, unread.
        let mut s = TcpStream::connect(listener.address).unwrap();
        write!(
            s,
            "POST /alerts HTTP/1.1\r\nContent-Length: {}\r\n\r\n",
            MAX_BODY + 1
        )
        .unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
        let got = listener.inbox.snapshot();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].alerts[0].labels["alertname"], "A");
    }
}
