//! The strict Timestream endpoint (tests/it/fakes/strict/) as a process of its own,
//! for bench/peers/run's writer workload: boto3 and `outatime apply` write
//! to it in turn, and it says what each stored.
//!
//! `cargo run --release --example strict_endpoint [LATENCY_MS]` prints
//! `url http://127.0.0.1:PORT`, then answers one line of stdin at a time:
//! `digest DATABASE TABLE` prints `records N digest HEX`, the BLAKE3 of the
//! table's records in the store's order (dimensions, measure name, time),
//! numbers re-printed from their parsed value so that two writers' float
//! formatting does not count. It exits when stdin closes.

#[allow(dead_code)] // the example runs part of the fake
#[path = "../../tests/it/fakes"]
mod fakes {
    mod http;
    pub mod strict;
}

use std::io::{BufRead, Write};
use std::time::Duration;

use fakes::strict::{Faults, Stored, StoredValue, StrictEndpoint, ValueKind};

fn main() {
    let latency_ms = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20);
    let endpoint = StrictEndpoint::start();
    endpoint.set_faults(Faults {
        latency: Duration::from_millis(latency_ms),
        ..Faults::default()
    });
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "url {}", endpoint.url());
    let _ = out.flush();
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let words: Vec<&str> = line.split_whitespace().collect();
        let answer = match words.as_slice() {
            ["digest", database, table] => {
                if endpoint.has_table(database, table) {
                    digest(&endpoint.stored(database, table))
                } else {
                    format!("no table {database}.{table}")
                }
            }
            _ => format!("unknown command: {line}"),
        };
        let _ = writeln!(out, "{answer}");
        let _ = out.flush();
    }
}

fn digest(records: &[Stored]) -> String {
    let mut hasher = blake3::Hasher::new();
    for record in records {
        let mut line = String::new();
        for (name, value) in &record.dimensions {
            line.push_str(&format!("{name}={value},"));
        }
        line.push_str(&format!("|{}|{}|", record.measure_name, record.time_ns));
        match &record.value {
            StoredValue::Single(kind, text) => line.push_str(&value(*kind, text)),
            StoredValue::Multi(measures) => {
                for (name, (kind, text)) in measures {
                    line.push_str(&format!("{name}:{},", value(*kind, text)));
                }
            }
        }
        line.push('\n');
        hasher.update(line.as_bytes());
    }
    format!("records {} digest {}", records.len(), hasher.finalize())
}

/// A value with its kind; a number as its parsed value, not its text.
fn value(kind: ValueKind, text: &str) -> String {
    match kind {
        ValueKind::Double | ValueKind::Bigint => match text.parse::<f64>() {
            Ok(number) => format!("{kind:?}={number:?}"),
            Err(_) => format!("{kind:?}?{text}"),
        },
        _ => format!("{kind:?}={text}"),
    }
}
