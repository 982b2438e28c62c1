//! The compiler's hot paths: `cargo bench`. Numbers and what bounds them
//! are in docs/performance.md; nothing here asserts a time.

use std::path::{Path, PathBuf};

use outatime::JsonLines;
use outatime::Loaded;
use outatime::render::Style;

fn main() {
    divan::main();
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("outatime-bench-{name}"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn load(dir: &Path, scenario: &str) -> Loaded {
    std::fs::write(dir.join("s.scenario"), scenario).unwrap();
    outatime::load(&dir.join("s.scenario"), Default::default(), Style::PLAIN)
        .unwrap_or_else(|f| panic!("{}", f.text))
}

/// 100 series × 1,000 instants, two measures: 100,000 records.
fn generated() -> Loaded {
    let mut s =
        String::from("scenario \"bench\"\nseed 7\ntable telemetry\ngenerate into telemetry {\n");
    for i in 0..100 {
        s.push_str(&format!(
            "  series device_id = \"sim-{i:03}\", site = \"lab\"\n"
        ));
    }
    s.push_str("  from now - 1000m to now every 1m\n");
    s.push_str("  measure temperature double = sine(period: 24h, amplitude: 3, mean: 4) + noise(sigma: 0.3)\n");
    s.push_str("  measure battery bigint = ramp(from: 100, to: 80)\n}\n");
    load(&scratch("generate"), &s)
}

#[divan::bench(sample_count = 20)]
fn generate_100k_records_to_jsonl(bencher: divan::Bencher) {
    let loaded = generated();
    bencher
        .counter(divan::counter::ItemsCount::new(100_000usize))
        .bench(|| {
            let mut sink = JsonLines::new(std::io::sink(), &loaded.prepared.catalog);
            loaded
                .prepared
                .run(1_800_000_000_000_000_000, &mut sink)
                .unwrap();
            sink.finish().unwrap();
        });
}

#[divan::bench(sample_count = 20)]
fn generate_100k_records_without_output(bencher: divan::Bencher) {
    struct Nothing;
    impl outatime::Sink for Nothing {
        fn record(
            &mut self,
            record: &outatime::Record,
            _: &outatime::Catalog,
        ) -> std::io::Result<()> {
            divan::black_box(record);
            Ok(())
        }
    }
    let loaded = generated();
    bencher
        .counter(divan::counter::ItemsCount::new(100_000usize))
        .bench(|| {
            loaded
                .prepared
                .run(1_800_000_000_000_000_000, &mut Nothing)
                .unwrap();
        });
}

/// Reading and selecting 100,000 CSV rows (prepare reads the source).
#[divan::bench(sample_count = 10)]
fn replay_100k_csv_rows(bencher: divan::Bencher) {
    let dir = scratch("replay");
    let mut csv = String::from("ts,device_id,site,temperature,door_open\n");
    for i in 0..100_000i64 {
        let t = outatime::Instant(1_709_251_200_000_000_000 + (i / 10) * 60_000_000_000);
        csv.push_str(&format!("{t},d{},oslo-1,{}.5,false\n", i % 10, i % 30));
    }
    std::fs::write(dir.join("m.csv"), csv).unwrap();
    let scenario = "scenario \"bench\"\nsource m csv \"m.csv\" {\n  time ts\n  dimensions device_id, site\n  measures temperature double, door_open boolean\n}\ntable telemetry\nreplay m into telemetry {\n  shift end to now\n}\n";
    std::fs::write(dir.join("s.scenario"), scenario).unwrap();
    bencher
        .counter(divan::counter::ItemsCount::new(100_000usize))
        .bench(|| {
            let loaded = outatime::load(&dir.join("s.scenario"), Default::default(), Style::PLAIN)
                .unwrap_or_else(|f| panic!("{}", f.text));
            divan::black_box(loaded.prepared.catalog.tables.len());
        });
}

#[divan::bench]
fn keyed_normal(bencher: divan::Bencher) {
    let key = outatime::Key::new(42).with_name("step");
    let mut t = 0i64;
    bencher.bench_local(|| {
        t += 60_000_000_000;
        key.normal(divan::black_box(t), 0)
    });
}

#[divan::bench]
fn write_time(bencher: divan::Bencher) {
    let mut out = Vec::with_capacity(64);
    let mut t = 1_800_000_000_000_000_000i64;
    bencher.bench_local(|| {
        out.clear();
        t += 60_000_000_000;
        outatime::write_time(&mut out, divan::black_box(t));
        out.len()
    });
}
