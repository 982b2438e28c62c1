//! `outatime plot -o FILE.html` through the real binary: the page read as
//! HTML (its elements nest, nothing in it names a resource to fetch), its
//! data blob read as JSON (the panels, series, windows and gaps the SVG
//! shows), its size bounded whatever the record count; then opened in
//! headless Chromium behind a proxy that records every request: the charts
//! render, the screenshot shows them, and the page asks for nothing.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{self, PLOT_LAB as SCENARIO, Run};

const ANCHOR: &str = "2026-07-01T12:00:00Z";
/// `ANCHOR` in seconds since the epoch.
const NOW: f64 = 1_782_907_200.0;
const HOUR: f64 = 3600.0;

/// Writes `out.html` from `scenario` with `extra` arguments.
fn page(name: &str, scenario: &str, extra: &[&str]) -> (Run, String) {
    let mut args = vec!["plot", "lab.scenario", "-o", "out.html"];
    args.extend_from_slice(extra);
    let run = Run::new(name).file("lab.scenario", scenario).args(&args);
    let (code, _, err) = run.run();
    assert_eq!(code, 0, "{err}");
    let html = std::fs::read_to_string(run.dir.join("out.html")).unwrap();
    (run, html)
}

/// The JSON blob the page draws.
fn blob(html: &str) -> Value {
    let open = r#"<script type="application/json" id="outatime-plot">"#;
    let start = html.find(open).expect("the data blob") + open.len();
    let end = start + html[start..].find("</script>").unwrap();
    serde_json::from_str(&html[start..end]).unwrap()
}

fn panel<'a>(blob: &'a Value, measure: &str) -> &'a Value {
    blob["panels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["measure"] == measure)
        .unwrap_or_else(|| panic!("no panel of {measure}"))
}

fn line<'a>(panel: &'a Value, name: &str) -> &'a Value {
    panel["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == name)
        .unwrap_or_else(|| panic!("no line {name} in {}", panel["measure"]))
}

fn window<'a>(panel: &'a Value, kind: &str) -> &'a Value {
    panel["anomalies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} window on {}", panel["measure"]))
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// A point's column's time span, in seconds.
fn column_span(blob: &Value, column: f64) -> (f64, f64) {
    let (from, to) = (f(&blob["from"]), f(&blob["to"]));
    let width = (to - from) / f(&blob["columns"]);
    (from + column * width, from + (column + 1.0) * width)
}

#[test]
fn the_page_holds_each_panels_series_windows_and_gaps() {
    let (_, html) = page("html-blob", SCENARIO, &["--anchor", ANCHOR]);
    let blob = blob(&html);
    assert_eq!(blob["title"], "Plot test");
    assert_eq!(blob["anchored"], true);
    assert_eq!(f(&blob["now"]), NOW);
    let mut panels: Vec<(String, String)> = blob["panels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            assert_eq!(p["table"], "lab");
            (
                p["measure"].as_str().unwrap().to_string(),
                p["type"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    panels.sort();
    assert_eq!(
        panels,
        [
            ("mode".into(), "varchar".into()),
            ("open".into(), "boolean".into()),
            ("temperature".into(), "double".into())
        ]
    );

    let temperature = panel(&blob, "temperature");
    for name in ["device=a", "device=b"] {
        assert_eq!(line(temperature, name)["named"], true);
    }
    // Every step's stretch, by its line.
    let mut steps: Vec<(String, u64)> = temperature["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["kind"].as_str().unwrap().into(),
                s["line"].as_u64().unwrap(),
            )
        })
        .collect();
    steps.sort();
    assert_eq!(steps, [("generate".into(), 5), ("generate".into(), 13)]);

    // The spike: its window, and a's line at 15 inside it, 10 outside.
    let spike = window(temperature, "spike");
    assert_eq!(spike["line"], 21);
    assert_eq!(
        (f(&spike["from"]), f(&spike["to"]).round()),
        (NOW - 8.0 * HOUR, NOW - 7.5 * HOUR)
    );
    for point in line(temperature, "device=a")["points"].as_array().unwrap() {
        let point = point.as_array().unwrap();
        let (c0, c1) = column_span(&blob, f(&point[0]));
        let max = point[1..].iter().map(f).fold(f64::MIN, f64::max);
        if c0 > f(&spike["from"]) && c1 < f(&spike["to"]) {
            assert_eq!(max, 15.0, "{point:?}");
        } else if c1 < f(&spike["from"]) || c0 > f(&spike["to"]) {
            assert_eq!(max, 10.0, "{point:?}");
        }
    }

    // The dropout: a window on every panel of the table, and b's line has
    // a gap where it starts and no point inside it.
    for measure in ["temperature", "open", "mode"] {
        let dropout = window(panel(&blob, measure), "dropout");
        assert_eq!(dropout["line"], 27);
        let (d0, d1) = (f(&dropout["from"]), f(&dropout["to"]));
        let b = line(panel(&blob, measure), "device=b");
        let gaps: Vec<f64> = b["gaps"].as_array().unwrap().iter().map(f).collect();
        assert_eq!(gaps.len(), 1, "{measure}: {gaps:?}");
        let (g0, g1) = column_span(&blob, gaps[0]);
        assert!(
            g0 <= d0 && d0 - g1 < 120.0,
            "{measure}: gap {g0}..{g1}, dropout {d0}"
        );
        for point in b["points"].as_array().unwrap() {
            let (c0, c1) = column_span(&blob, f(&point[0]));
            assert!(
                c1 <= d0 + 60.0 || c0 >= d1 - 60.0,
                "{measure}: {point} in the dropout"
            );
        }
        assert!(
            line(panel(&blob, measure), "device=a")["gaps"]
                .as_array()
                .unwrap()
                .is_empty()
        );
    }

    // Booleans are 0 and 1; varchar points are ids of the panel's values.
    for point in line(panel(&blob, "open"), "device=a")["points"]
        .as_array()
        .unwrap()
    {
        assert!(
            point.as_array().unwrap()[1..]
                .iter()
                .all(|v| f(v) == 0.0 || f(v) == 1.0)
        );
    }
    let mode = panel(&blob, "mode");
    let mut values: Vec<&str> = mode["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    values.sort();
    assert_eq!(values, ["cooling", "idle"]);
    for point in line(mode, "device=a")["points"].as_array().unwrap() {
        assert!(f(&point[1]) == 0.0 || f(&point[1]) == 1.0, "{point}");
    }
}

#[test]
fn unanchored_the_page_reads_in_offsets_from_now() {
    let (_, html) = page("html-unanchored", SCENARIO, &[]);
    let blob = blob(&html);
    assert_eq!(blob["anchored"], false);
    assert_eq!(f(&blob["now"]), 0.0);
    assert_eq!((f(&blob["from"]), f(&blob["to"])), (-12.0 * HOUR, 0.0));
    assert!(html.contains("no --anchor: times are offsets from now"));
}

/// A start tag: its name and attributes.
#[derive(Debug)]
struct Tag {
    name: String,
    attributes: Vec<(String, String)>,
}

/// Reads `html` as a browser's tokenizer would for this page: comments and
/// the doctype skipped, `<script>`/`<style>` bodies as raw text (returned
/// apart), every element closed in the order opened (void elements
/// excepted). Panics where the markup is broken.
fn parse(html: &str) -> (Vec<Tag>, Vec<(String, String)>) {
    const VOID: [&str; 6] = ["meta", "link", "br", "img", "input", "hr"];
    let mut tags = Vec::new();
    let mut raw = Vec::new();
    let mut open: Vec<String> = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        rest = &rest[at..];
        if let Some(comment) = rest.strip_prefix("<!--") {
            rest = &comment[comment.find("-->").expect("an unclosed comment") + 3..];
            continue;
        }
        if rest.starts_with("<!") {
            rest = &rest[rest.find('>').unwrap() + 1..];
            continue;
        }
        let end = rest.find('>').expect("an unclosed tag");
        let inside = &rest[1..end];
        rest = &rest[end + 1..];
        if let Some(name) = inside.strip_prefix('/') {
            let name = name.trim().to_ascii_lowercase();
            assert_eq!(
                open.pop().as_deref(),
                Some(name.as_str()),
                "</{name}> closes nothing open"
            );
            continue;
        }
        let (name, mut attrs) = inside
            .split_once(char::is_whitespace)
            .unwrap_or((inside.trim_end_matches('/'), ""));
        let name = name.to_ascii_lowercase();
        let mut attributes = Vec::new();
        loop {
            attrs = attrs.trim_start().trim_start_matches('/').trim_start();
            if attrs.is_empty() {
                break;
            }
            let key_end = attrs
                .find(|c: char| c == '=' || c.is_whitespace())
                .unwrap_or(attrs.len());
            let key = attrs[..key_end].to_ascii_lowercase();
            attrs = &attrs[key_end..];
            let mut value = String::new();
            if let Some(after) = attrs.trim_start().strip_prefix('=') {
                let after = after.trim_start();
                let quote = after.chars().next().filter(|c| *c == '"' || *c == '\'');
                let (v, next) = match quote {
                    Some(q) => {
                        let close = after[1..].find(q).expect("an unclosed attribute value");
                        (&after[1..1 + close], &after[close + 2..])
                    }
                    None => after.split_at(after.find(char::is_whitespace).unwrap_or(after.len())),
                };
                value = v.to_string();
                attrs = next;
            }
            attributes.push((key, value));
        }
        if name == "script" || name == "style" {
            let close = format!("</{name}");
            let body_end = rest
                .find(&close)
                .unwrap_or_else(|| panic!("an unclosed <{name}>"));
            raw.push((name.clone(), rest[..body_end].to_string()));
            rest = &rest[body_end..];
        }
        if !VOID.contains(&name.as_str()) && !inside.ends_with('/') {
            open.push(name.clone());
        }
        tags.push(Tag { name, attributes });
    }
    assert!(open.is_empty(), "left open: {open:?}");
    (tags, raw)
}

#[test]
fn the_page_parses_and_names_nothing_to_fetch() {
    let (_, html) = page("html-offline", SCENARIO, &["--anchor", ANCHOR]);
    let (tags, raw) = parse(&html);
    let names: Vec<&str> = tags.iter().map(|t| t.name.as_str()).collect();
    for wanted in ["html", "head", "body", "main", "title"] {
        assert!(names.contains(&wanted), "no <{wanted}> in {names:?}");
    }
    // Elements that load something, and attributes that name a resource.
    for tag in &tags {
        assert!(
            ![
                "link", "img", "iframe", "object", "embed", "base", "source", "video", "audio"
            ]
            .contains(&tag.name.as_str()),
            "<{}> in the page",
            tag.name
        );
        for (key, value) in &tag.attributes {
            let loads = [
                "src",
                "href",
                "srcset",
                "action",
                "formaction",
                "poster",
                "data",
                "background",
                "ping",
                "manifest",
            ]
            .contains(&key.as_str());
            assert!(!loads, "<{} {key}=\"{value}\"> names a resource", tag.name);
        }
    }
    let csp = tags
        .iter()
        .find(|t| {
            t.attributes
                .iter()
                .any(|(k, v)| k == "http-equiv" && v == "Content-Security-Policy")
        })
        .expect("a Content-Security-Policy");
    let policy = &csp
        .attributes
        .iter()
        .find(|(k, _)| k == "content")
        .unwrap()
        .1;
    assert!(policy.starts_with("default-src 'none';"), "{policy}");
    assert!(
        !policy.contains("connect-src") && !policy.contains("http"),
        "{policy}"
    );

    // What runs or styles the page: inline, and asks for nothing.
    let scripts: Vec<&str> = raw
        .iter()
        .filter(|(n, _)| n == "script")
        .map(|(_, b)| b.as_str())
        .collect();
    assert_eq!(scripts.len(), 3, "the data, uPlot, the page's script");
    assert!(
        scripts
            .iter()
            .any(|s| s.contains("uPlot v1.6.32") && s.contains("MIT License"))
    );
    for (name, body) in &raw {
        for call in [
            "fetch(",
            "XMLHttpRequest",
            "WebSocket",
            "EventSource",
            "sendBeacon",
            "importScripts",
            "import(",
            "@import",
            "url(",
            "src=",
            "href=",
        ] {
            assert!(!body.contains(call), "<{name}> holds `{call}`");
        }
    }
}

/// `series` sensors sampled every 30 s for `days` days.
fn long_scenario(series: usize, days: u32) -> String {
    let mut out = "scenario \"Many records\"\nseed 3\ntable plant\n\n".to_string();
    for i in 0..series {
        out += &format!(
            "generate into plant {{\n  series sensor = \"s{i}\"\n  from now - {days}d to now every 30s\n  measure load double = random_walk(start: 50, step: 1)\n}}\n\n"
        );
    }
    out
}

#[test]
fn the_file_size_does_not_grow_with_the_records() {
    let (_, small) = page("html-size-1d", &long_scenario(8, 1), &[]);
    let (_, large) = page("html-size-10d", &long_scenario(8, 10), &[]);
    // 23,040 and 230,400 records: the same columns, nearly the same file.
    let (s, l) = (small.len() as f64, large.len() as f64);
    assert!(
        l < s * 1.15 && l > s * 0.85,
        "1 day: {s} bytes, 10 days: {l} bytes"
    );
    assert!(l < 1_000_000.0, "{l} bytes");
}

/// Chromium: OUTATIME_CHROMIUM (scripts/test sets it), else `chromium` on
/// the PATH.
fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("OUTATIME_CHROMIUM").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser"].map(|n| dir.join(n)))
        .find(|p| p.is_file())
}

/// A proxy that refuses every request and records what each connection
/// to it carried: a request line, or nothing at all. Chromium opens
/// sockets it may never use (preconnects, a spare connection while
/// another one is slow) and closes them unused when it exits; those name
/// nothing, so they fetch nothing.
struct Proxy {
    port: u16,
    log: Arc<Mutex<ProxyLog>>,
}

struct ProxyLog {
    accepted: usize,
    /// The request line of each connection that sent one.
    requests: Vec<String>,
    /// Connections closed before a byte of a request line.
    silent: usize,
    /// When a connection was last accepted or finished.
    last: Instant,
}

impl Proxy {
    fn start() -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let log = Arc::new(Mutex::new(ProxyLog {
            accepted: 0,
            requests: Vec::new(),
            silent: 0,
            last: Instant::now(),
        }));
        let shared = Arc::clone(&log);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                {
                    let mut log = shared.lock().unwrap();
                    log.accepted += 1;
                    log.last = Instant::now();
                }
                let log = Arc::clone(&shared);
                std::thread::spawn(move || {
                    // No read timeout: a request line that comes late
                    // (a busy machine) is still a request. The line ends
                    // with the connection at the latest.
                    let mut first = String::new();
                    let _ = BufReader::new(&stream).read_line(&mut first);
                    {
                        let mut log = log.lock().unwrap();
                        match first.trim() {
                            "" => log.silent += 1,
                            line => log.requests.push(line.to_string()),
                        }
                        log.last = Instant::now();
                    }
                    // A definite refusal, so that nothing waits on it.
                    let _ = (&stream).write_all(
                        b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    );
                });
            }
        });
        Proxy { port, log }
    }

    /// The request lines, once every connection has sent one or closed
    /// (after Chromium has exited, which closes its sockets) and nothing
    /// has happened for a moment, so that a late one is counted.
    fn requests(&self) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            {
                let log = self.log.lock().unwrap();
                let open = log.accepted - log.requests.len() - log.silent;
                if open == 0 && log.last.elapsed() > Duration::from_millis(300) {
                    return log.requests.clone();
                }
                assert!(
                    Instant::now() < deadline,
                    "{open} connections to the proxy neither sent a request line nor closed; \
                     requests: {:?}",
                    log.requests
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Chromium's own background requests, made whatever page it shows and
/// which its switches do not all turn off: HTTPS tunnels to its Google
/// services. Sign-in's ListAccounts (accounts.google.com) and the
/// component updater (update.googleapis.com) in Chromium 156; Debian 12's
/// Chromium 148 also, on every run, a request of its own and the default
/// search engine's preconnects (www.google.com, as its `--log-net-log`
/// shows), and now and then GCM's check-in (android.clients.google.com)
/// and component downloads (redirector.gvt1.com). Any other request is
/// the page's.
const CHROMIUMS_OWN: [&str; 5] = [
    "accounts.google.com",
    "android.clients.google.com",
    "redirector.gvt1.com",
    "update.googleapis.com",
    "www.google.com",
];

/// Whether `request` (a request line) is a tunnel Chromium opens for
/// itself: `CONNECT` to port 443 of one of [`CHROMIUMS_OWN`].
fn chromiums_own(request: &str) -> bool {
    let mut words = request.split_whitespace();
    words.next() == Some("CONNECT")
        && words.next().is_some_and(|target| target.ends_with(":443"))
        && CHROMIUMS_OWN.contains(&host(request).as_str())
}

/// The host a proxied request line names: `CONNECT h:443 …`, `GET http://h/… …`.
fn host(request: &str) -> String {
    let target = request.split_whitespace().nth(1).unwrap_or("");
    let target = target.split_once("://").map_or(target, |(_, rest)| rest);
    let authority = target.split('/').next().unwrap_or("");
    authority
        .rsplit_once(':')
        .map_or(authority, |(h, _)| h)
        .to_string()
}

/// Runs headless Chromium on `page` with every request sent to the proxy
/// on `port`, and returns what it printed; `mode` is `--dump-dom` or
/// `--screenshot=PATH`.
fn chromium_run(chromium: &Path, page: &Path, profile: &Path, port: u16, mode: &str) -> String {
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--disable-default-apps",
            "--disable-domain-reliability",
            "--no-pings",
            "--disable-features=NetworkTimeServiceQuerying,OptimizationHints,MediaRouter",
            "--window-size=1200,1000",
            "--virtual-time-budget=5000",
            "--proxy-bypass-list=<-loopback>",
        ])
        .arg(format!("--proxy-server=127.0.0.1:{port}"))
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(mode)
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::piped())
        // Cargo's test environment points the loader at the build's own
        // libraries (ring's among them), which Chromium must not load.
        .env_remove("LD_LIBRARY_PATH")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Read while it runs: a DOM larger than the pipe's buffer would
    // otherwise block it.
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stdout, &mut out);
        out
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(90) {
            let _ = child.kill();
            panic!("chromium did not finish within 90 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "chromium exited {status}");
    String::from_utf8_lossy(&reader.join().unwrap()).into_owned()
}

/// The screenshot's pixels as RGB.
fn pixels(png_bytes: &[u8]) -> (u32, u32, Vec<[u8; 3]>) {
    let decoder = png::Decoder::new(png_bytes);
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let samples = info.color_type.samples();
    assert!(
        samples >= 3 && info.bit_depth == png::BitDepth::Eight,
        "{info:?}"
    );
    let rgb = buf[..info.buffer_size()]
        .chunks(samples)
        .map(|p| [p[0], p[1], p[2]])
        .collect();
    (info.width, info.height, rgb)
}

#[test]
fn the_page_renders_in_headless_chromium_and_requests_nothing() {
    let Some(chromium) = chromium() else {
        common::skip_unless_required("chromium (Debian's package; OUTATIME_CHROMIUM names it)");
        return;
    };
    // With an expectation, whose bracket the page draws on every panel.
    let scenario = format!(
        "{SCENARIO}\nexpect \"seen\" {{\n  query influxql \"SELECT count(*) FROM lab WHERE time >= $from AND time < $to\"\n  window now - 6h .. now - 5h\n  rows >= 1\n}}\n"
    );
    let (run, _) = page("html-chromium", &scenario, &["--anchor", ANCHOR]);
    let html = std::fs::read_to_string(run.dir.join("out.html")).unwrap();
    assert!(
        html.contains(r#""expectations":[{"kind":"expect","line":32"#),
        "no expectation in the page's data"
    );
    let profile = run.dir.join("profile");

    // A control page that does load something: the proxy must see it, or
    // it could not tell that the plot's page loads nothing.
    let control = run.dir.join("control.html");
    std::fs::write(
        &control,
        r#"<!DOCTYPE html><html><body><img src="http://outatime-control.invalid/x.png"></body></html>"#,
    )
    .unwrap();
    // A proxy for each page, so that nothing of one is counted for the
    // other.
    let control_proxy = Proxy::start();
    chromium_run(
        &chromium,
        &control,
        &profile,
        control_proxy.port,
        "--dump-dom",
    );
    let seen = control_proxy.requests();
    assert!(
        seen.iter().any(|r| host(r) == "outatime-control.invalid"),
        "the proxy saw: {seen:?}",
    );

    let proxy = Proxy::start();
    let port = proxy.port;

    let page = run.dir.join("out.html");
    let dom = chromium_run(&chromium, &page, &profile, port, "--dump-dom");
    let body = &dom[dom.find("<body").expect("a body")..];
    let body_tag = &body[..body.find('>').unwrap()];
    assert!(body_tag.contains(r#"data-rendered="3""#), "{body_tag}");
    assert!(
        !body_tag.contains("data-error") && !body_tag.contains("data-violations"),
        "{body_tag}"
    );
    assert_eq!(dom.matches("<canvas").count(), 3, "one chart a panel");
    for measure in ["temperature", "open", "mode"] {
        assert!(
            dom.contains(&format!(r#"data-measure="{measure}""#)),
            "no {measure} panel"
        );
    }

    let shot = run.dir.join("shot.png");
    chromium_run(
        &chromium,
        &page,
        &profile,
        port,
        &format!("--screenshot={}", shot.display()),
    );
    let (width, height, rgb) = pixels(&std::fs::read(&shot).unwrap());
    assert_eq!((width, height), (1200, 1000));
    let first = rgb[0];
    assert!(
        rgb.iter().any(|p| *p != first),
        "the screenshot is one colour"
    );
    // The named series' colours, drawn by the charts' canvases.
    for (name, colour) in [("device=a", [31, 119, 180]), ("device=b", [255, 127, 14])] {
        let n = rgb.iter().filter(|p| **p == colour).count();
        assert!(n > 500, "{name}'s colour {colour:?} on {n} pixels");
    }

    // Every request line the proxy saw, late ones too: Chromium's own.
    let page_requests: Vec<String> = proxy
        .requests()
        .into_iter()
        .filter(|r| !chromiums_own(r))
        .collect();
    assert!(
        page_requests.is_empty(),
        "the page requested: {page_requests:?}"
    );
}
