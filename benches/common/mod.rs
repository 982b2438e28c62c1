//! Shared by the throughput benches (`apply_throughput`, `influx_throughput`):
//! their knobs from the environment, the scenario they apply, and CPU time
//! read from /proc.

/// A number from the environment variable `name`, else `default`.
pub fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A comma-separated list of numbers from `name` (e.g. `8,32`), else
/// `default`.
pub fn env_levels(name: &str, default: &[usize]) -> Vec<usize> {
    std::env::var(name)
        .ok()
        .map(|v| v.split(',').filter_map(|c| c.trim().parse().ok()).collect())
        .unwrap_or_else(|| default.to_vec())
}

/// `series` series of `points` instants, one a second up to `now`, into
/// one table `telemetry`, two measures each.
pub fn telemetry_scenario(name: &str, series: usize, points: usize) -> String {
    let mut s = format!("scenario \"{name}\"\nseed 7\ntable telemetry\n");
    s.push_str("generate into telemetry {\n");
    for i in 0..series {
        s.push_str(&format!(
            "  series device_id = \"sim-{i:03}\", site = \"lab\"\n"
        ));
    }
    s.push_str(&format!("  from now - {points}s to now every 1s\n"));
    s.push_str("  measure temperature double = sine(period: 1h, amplitude: 3, mean: 4) + noise(sigma: 0.3)\n");
    s.push_str("  measure battery bigint = ramp(from: 100, to: 80)\n}\n");
    s
}

/// user + system seconds from a /proc/…/stat: (own, reaped children).
pub fn stat_cpu(path: &str) -> (f64, f64) {
    let stat = std::fs::read_to_string(path).unwrap_or_default();
    // Fields after the command name, which is in parentheses.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<f64> = rest
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0.0))
        .collect();
    // utime, stime, cutime, cstime are fields 14-17 of stat(5); here 11-14
    // after the state field at index 0.
    let tick = 100.0; // USER_HZ on Linux
    let at = |i: usize| fields.get(i).copied().unwrap_or(0.0) / tick;
    (at(11) + at(12), at(13) + at(14))
}
