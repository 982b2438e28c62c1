//! `apply` against the strict Timestream endpoint (tests/it/fakes/strict/) with
//! added latency per request: end-to-end records per second and CPU per
//! record, by `--concurrency`. `cargo bench --bench apply_throughput`;
//! results and what bounds them are in docs/performance.md. Nothing here
//! asserts a time.
//!
//! The endpoint runs in this process (one thread); `outatime` runs as a
//! child, as CI runs it. CPU comes from /proc/self/stat: this process's own
//! time is the endpoint's, the reaped children's is outatime's.

mod common;
#[allow(dead_code)] // the bench runs part of the fake
#[path = "../tests/it/fakes"]
mod fakes {
    mod http;
    pub mod strict;
}

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{env_levels, env_number, stat_cpu, telemetry_scenario};
use fakes::strict::{Faults, StrictEndpoint};

/// Series × points per series = records (multi layout: one record each).
const SERIES: usize = 50;
/// Points per series; OUTATIME_BENCH_POINTS overrides it.
const POINTS: usize = 6_000;

fn points() -> usize {
    env_number("OUTATIME_BENCH_POINTS", POINTS)
}
const LATENCY: Duration = Duration::from_millis(20);

struct Run {
    concurrency: usize,
    records: u64,
    seconds: f64,
    endpoint_cpu: f64,
    outatime_cpu: f64,
    throttled: u64,
}

fn run(dir: &Path, concurrency: usize, round: usize) -> Run {
    let endpoint = StrictEndpoint::start();
    endpoint.set_faults(Faults {
        latency: LATENCY,
        ..Faults::default()
    });
    std::fs::write(
        dir.join("outatime.yaml"),
        format!(
            "targets:\n  strict:\n    kind: timestream\n    region: us-east-1\n    database: bench\n    endpoint_url: {}\n    table_prefix: \"c{concurrency}r{round}_\"\n",
            endpoint.url()
        ),
    )
    .unwrap();
    let report = dir.join(format!("report-{concurrency}-{round}.json"));
    let (cpu_before, children_before) = stat_cpu("/proc/self/stat");
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_outatime"))
        .args(["apply", "s.scenario", "--target", "strict", "--create"])
        .args(["--concurrency", &concurrency.to_string()])
        .arg("--report")
        .arg(&report)
        .current_dir(dir)
        .env("AWS_ACCESS_KEY_ID", "bench")
        .env("AWS_SECRET_ACCESS_KEY", "bench")
        .output()
        .expect("outatime runs");
    let seconds = started.elapsed().as_secs_f64();
    let (cpu_after, children_after) = stat_cpu("/proc/self/stat");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let stats = endpoint.stats();
    Run {
        concurrency,
        records: report["records"].as_u64().unwrap_or(0),
        seconds,
        endpoint_cpu: cpu_after - cpu_before,
        outatime_cpu: children_after - children_before,
        throttled: stats.throttled,
    }
}

fn main() {
    // `cargo test --benches` runs benches once with no `--bench`: skip then.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let dir = std::env::temp_dir().join(format!("outatime-apply-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Within the default 6 h memory store: the preflight lets it through.
    let scenario = telemetry_scenario("apply throughput", SERIES, points());
    std::fs::write(dir.join("s.scenario"), scenario).unwrap();
    let rounds = env_number("OUTATIME_BENCH_ROUNDS", 3);
    println!(
        "{} records a run, {} ms added per request, median of {rounds} runs (end to end: load, compile, preflight, writes)",
        SERIES * points(),
        LATENCY.as_millis()
    );
    println!(
        "{:>11} {:>12} {:>10} {:>12} {:>10} {:>12} {:>12}",
        "concurrency",
        "ceiling r/s",
        "records/s",
        "% ceiling",
        "seconds",
        "outatime µs/r",
        "endpoint µs/r"
    );
    // OUTATIME_BENCH_CONCURRENCY=8,32 picks the levels (e.g. for a profile).
    for concurrency in env_levels("OUTATIME_BENCH_CONCURRENCY", &[4, 8, 16, 32, 64]) {
        let mut runs: Vec<Run> = (0..rounds).map(|r| run(&dir, concurrency, r)).collect();
        runs.sort_by(|a, b| a.seconds.total_cmp(&b.seconds));
        let median = &runs[rounds / 2];
        let rate = median.records as f64 / median.seconds;
        let ceiling = concurrency as f64 * 100.0 / LATENCY.as_secs_f64();
        let per_record = |cpu: f64| cpu * 1e6 / median.records.max(1) as f64;
        println!(
            "{:>11} {:>12.0} {:>10.0} {:>11.0}% {:>10.2} {:>12.2} {:>12.2}{}",
            median.concurrency,
            ceiling,
            rate,
            100.0 * rate / ceiling,
            median.seconds,
            per_record(median.outatime_cpu),
            per_record(median.endpoint_cpu),
            if median.throttled > 0 {
                format!("  ({} throttled)", median.throttled)
            } else {
                String::new()
            }
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
