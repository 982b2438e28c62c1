//! `apply` to InfluxDB: end-to-end records per second and CPU per record,
//! by `--concurrency`, into
//! - the in-test v2 endpoint (tests/it/fakes/influx/) with 20 ms added before every
//!   reply, gzip bodies, every line parsed and checked, points not kept;
//! - a real local influxd (1.x, the v1 API): `OUTATIME_INFLUXDB_URL` when
//!   set, else one started here on a free 127.0.0.1 port in a temporary
//!   folder (removed, and influxd stopped, at the end); skipped with a
//!   notice when there is neither.
//!
//! `cargo bench --bench influx_throughput`; results and what bounds them
//! are in docs/performance.md. Nothing here asserts a time.
//!
//! `outatime` runs as a child, as CI runs it. CPU comes from /proc: this
//! process's own time is the endpoint's, the reaped child's is outatime's,
//! influxd's is read from its /proc/PID/stat (only when started here).
//!
//! Knobs: OUTATIME_BENCH_POINTS (instants per series, default 10,000: 100
//! series make 1,000,000 records), OUTATIME_BENCH_ROUNDS (3),
//! OUTATIME_BENCH_CONCURRENCY (4,8,16,32), OUTATIME_BENCH_INFLUXD_CONCURRENCY
//! (8,16; empty to skip influxd), OUTATIME_BENCH_BIN (another `outatime`
//! to run, e.g. an older build for a before/after).

mod common;
// The bench runs part of the fake; its `pub use` of the org id serves the
// tests.
#[allow(dead_code, unused_imports)]
#[path = "../tests/it/fakes"]
mod fakes {
    mod http;
    pub mod influx;
}

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{env_levels, env_number, stat_cpu, telemetry_scenario};
use fakes::influx::{Config, Faults, InfluxEndpoint, TOKEN};

/// Series × points per series = records (one line each, two fields).
const SERIES: usize = 100;
const POINTS: usize = 10_000;
const LATENCY: Duration = Duration::from_millis(20);
/// Lines in a write request (the target's cap): the latency ceiling is
/// concurrency × this / latency.
const LINES_PER_REQUEST: f64 = 5_000.0;

struct Run {
    records: u64,
    seconds: f64,
    /// The server's CPU (the endpoint, or influxd when started here).
    server_cpu: Option<f64>,
    outatime_cpu: f64,
}

/// One `outatime apply` of `s.scenario` in `dir` to the target `influx`;
/// `server` is where the server's CPU is read.
fn apply(dir: &Path, concurrency: usize, server: Option<&str>, label: &str) -> Run {
    let report = dir.join(format!("report-{label}.json"));
    let server_before = server.map(|p| stat_cpu(p).0);
    let (_, children_before) = stat_cpu("/proc/self/stat");
    let started = Instant::now();
    let binary = std::env::var("OUTATIME_BENCH_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_outatime").into());
    let output = Command::new(binary)
        .args(["apply", "s.scenario", "--target", "influx", "--create"])
        .args(["--concurrency", &concurrency.to_string()])
        .arg("--report")
        .arg(&report)
        .current_dir(dir)
        .env("OUTATIME_BENCH_INFLUX_TOKEN", TOKEN)
        .output()
        .expect("outatime runs");
    let seconds = started.elapsed().as_secs_f64();
    let (_, children_after) = stat_cpu("/proc/self/stat");
    let server_after = server.map(|p| stat_cpu(p).0);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    Run {
        records: report["records"].as_u64().unwrap_or(0),
        seconds,
        server_cpu: server_before.zip(server_after).map(|(b, a)| a - b),
        outatime_cpu: children_after - children_before,
    }
}

fn endpoint_run(dir: &Path, concurrency: usize, round: usize) -> Run {
    let endpoint = InfluxEndpoint::start(Config {
        keep_points: false,
        faults: Faults {
            latency: LATENCY,
            ..Faults::default()
        },
        ..Config::default()
    });
    std::fs::write(
        dir.join("outatime.yaml"),
        endpoint.outatime_yaml("v2", "OUTATIME_BENCH_INFLUX_TOKEN"),
    )
    .unwrap();
    // The endpoint's thread is this process's only busy one.
    apply(
        dir,
        concurrency,
        Some("/proc/self/stat"),
        &format!("v2-{concurrency}-{round}"),
    )
}

/// A table row from the median (by time) of `runs`.
fn row(concurrency: usize, ceiling: Option<f64>, mut runs: Vec<Run>) {
    runs.sort_by(|a, b| a.seconds.total_cmp(&b.seconds));
    let rates: Vec<String> = runs
        .iter()
        .map(|r| format!("{:.0}", r.records as f64 / r.seconds))
        .collect();
    let median = &runs[runs.len() / 2];
    let rate = median.records as f64 / median.seconds;
    let per_record = |cpu: f64| cpu * 1e6 / median.records.max(1) as f64;
    println!(
        "{:>11} {:>12} {:>10.0} {:>9} {:>8.2} {:>13.2} {:>13}   runs: {}",
        concurrency,
        ceiling.map_or("-".into(), |c| format!("{c:.0}")),
        rate,
        ceiling.map_or("-".into(), |c| format!("{:.0}%", 100.0 * rate / c)),
        median.seconds,
        per_record(median.outatime_cpu),
        median
            .server_cpu
            .map_or("-".into(), |c| format!("{:.2}", per_record(c))),
        rates.join(" "),
    );
}

fn header() {
    println!(
        "{:>11} {:>12} {:>10} {:>9} {:>8} {:>13} {:>13}",
        "concurrency",
        "ceiling r/s",
        "records/s",
        "% ceil",
        "seconds",
        "outatime µs/r",
        "server µs/r"
    );
}

/// influxd started here, stopped (and its folder removed) when dropped.
struct Influxd {
    child: Child,
    dir: PathBuf,
    url: String,
}

impl Drop for Influxd {
    fn drop(&mut self) {
        // SIGTERM first, so it closes its files; then SIGKILL.
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// influxd on free ports with its data in a temporary folder, as
/// scripts/test starts it; `None` when it is not installed or not up
/// within 30 s.
fn start_influxd() -> Option<Influxd> {
    let dir = std::env::temp_dir().join(format!("outatime-bench-influxd-{}", std::process::id()));
    std::fs::create_dir_all(&dir).ok()?;
    let (port, rpc) = (free_port(), free_port());
    let d = dir.display();
    let config = format!(
        "reporting-disabled = true\nreporting-enabled = false\nbind-address = \"127.0.0.1:{rpc}\"\n\
         [meta]\n  dir = \"{d}/meta\"\n[data]\n  dir = \"{d}/data\"\n  wal-dir = \"{d}/wal\"\n  query-log-enabled = false\n\
         [monitor]\n  store-enabled = false\n\
         [http]\n  enabled = true\n  bind-address = \"127.0.0.1:{port}\"\n  auth-enabled = false\n  log-enabled = false\n\
         [continuous_queries]\n  enabled = false\n[subscriber]\n  enabled = false\n\
         [[graphite]]\n  enabled = false\n[[collectd]]\n  enabled = false\n[[opentsdb]]\n  enabled = false\n[[udp]]\n  enabled = false\n"
    );
    std::fs::write(dir.join("influxdb.conf"), config).ok()?;
    let log = std::fs::File::create(dir.join("influxd.log")).ok()?;
    let child = match Command::new("influxd")
        .arg("-config")
        .arg(dir.join("influxdb.conf"))
        .stdout(log.try_clone().ok()?)
        .stderr(log)
        .stdin(Stdio::null())
        .spawn()
    {
        Ok(child) => child,
        Err(_) => {
            let _ = std::fs::remove_dir_all(&dir);
            return None;
        }
    };
    let influxd = Influxd {
        child,
        dir,
        url: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if http_status(&influxd.url, "GET", "/ping") == Some(204) {
            return Some(influxd);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    None
}

/// The status of a bodiless request to `url` (http://host:port), or `None`.
fn http_status(url: &str, method: &str, path_and_query: &str) -> Option<u16> {
    let host = url.strip_prefix("http://")?.trim_end_matches('/');
    let mut stream = TcpStream::connect(host).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .ok()?;
    write!(
        stream,
        "{method} {path_and_query} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    answer.split(' ').nth(1)?.parse().ok()
}

fn influxd_runs(dir: &Path, levels: &[usize], rounds: usize) {
    // Kept until the runs end: dropping it stops influxd.
    let mut started: Option<Influxd> = None;
    let url = match std::env::var("OUTATIME_INFLUXDB_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => match start_influxd() {
            Some(influxd) => started.insert(influxd).url.clone(),
            None => {
                println!(
                    "\nreal influxd: skipped (no OUTATIME_INFLUXDB_URL, and no influxd that starts; `apt-get install influxdb` for Debian's 1.x)"
                );
                return;
            }
        },
    };
    let pid = started.as_ref().map(|i| i.child.id());
    println!(
        "\nreal influxd at {url} (v1 API, {}), gzip, no added latency{}",
        if pid.is_some() {
            "started by the bench"
        } else {
            "OUTATIME_INFLUXDB_URL"
        },
        if pid.is_some() {
            ""
        } else {
            "; its CPU is not measured"
        }
    );
    header();
    let stat = pid.map(|p| format!("/proc/{p}/stat"));
    for &concurrency in levels {
        let runs = (0..rounds)
            .map(|round| {
                let database = format!("outatime_bench_c{concurrency}_r{round}");
                std::fs::write(
                    dir.join("outatime.yaml"),
                    format!(
                        "targets:\n  influx:\n    kind: influxdb\n    api: v1\n    url: {url}\n    database: {database}\n"
                    ),
                )
                .unwrap();
                let run = apply(
                    dir,
                    concurrency,
                    stat.as_deref(),
                    &format!("v1-{concurrency}-{round}"),
                );
                // Leave nothing behind on a server the bench did not start.
                let _ = http_status(
                    &url,
                    "POST",
                    &format!("/query?q=DROP%20DATABASE%20{database}"),
                );
                run
            })
            .collect();
        row(concurrency, None, runs);
    }
}

fn main() {
    // `cargo test --benches` runs benches once with no `--bench`: skip then.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let points = env_number("OUTATIME_BENCH_POINTS", POINTS);
    let rounds = env_number("OUTATIME_BENCH_ROUNDS", 3).max(1);
    let dir = std::env::temp_dir().join(format!("outatime-influx-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("s.scenario"),
        telemetry_scenario("influx throughput", SERIES, points),
    )
    .unwrap();
    println!(
        "{} records a run (one line, two fields each), median of {rounds} runs, end to end (load, compile, preflight, writes)",
        SERIES * points
    );
    println!(
        "\nin-test v2 endpoint: {} ms added per request, gzip, lines parsed and checked, points not kept",
        LATENCY.as_millis()
    );
    header();
    for concurrency in env_levels("OUTATIME_BENCH_CONCURRENCY", &[4, 8, 16, 32]) {
        let runs = (0..rounds)
            .map(|round| endpoint_run(&dir, concurrency, round))
            .collect();
        let ceiling = concurrency as f64 * LINES_PER_REQUEST / LATENCY.as_secs_f64();
        row(concurrency, Some(ceiling), runs);
    }
    let levels = env_levels("OUTATIME_BENCH_INFLUXD_CONCURRENCY", &[8, 16]);
    if !levels.is_empty() {
        influxd_runs(&dir, &levels, rounds);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
