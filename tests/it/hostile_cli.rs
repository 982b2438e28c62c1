//! The command line against what a hostile or careless user gives it
//! (issue 18): a stderr nobody reads, absurd numbers, outputs that cannot
//! be written, a 1 KB file that declares millions of series, a byte-order
//! mark, and a target whose names are not Timestream's. Each test failed
//! before its fix; none of them may see a panic (exit 101).

use crate::common::Run;
use crate::fakes::influx;

/// `clean` holds the scenario's names to its target's rules, as `check
/// --target`, `apply` and `verify` do: a table `t` is too short for
/// Timestream and fine for InfluxDB.
#[test]
fn clean_holds_names_to_the_rules_of_its_targets_kind() {
    let endpoint = influx::InfluxEndpoint::start(influx::Config::default());
    let config = format!(
        "targets:\n  influx:\n    kind: influxdb\n    api: v2\n    url: {}\n    org: outatime\n    bucket: e2e\n    token_env: OUTATIME_TEST_INFLUX_TOKEN\n",
        endpoint.url()
    );
    let scenario = "scenario \"short names\"\ntable t\ngenerate into t {\n  series device = \"a1\"\n  from now - 5m to now every 1m\n  measure v double = constant(value: 1)\n}\n";
    let work = Run::new("clean-rules")
        .file("s.scenario", scenario)
        .file("outatime.yaml", config);
    let token = [("OUTATIME_TEST_INFLUX_TOKEN", influx::TOKEN)];
    let target = ["--target", "influx"];
    let (code, _, stderr) = work
        .again(&["apply", "s.scenario", "--create"])
        .args(&target)
        .run_with(&token);
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, stderr) = work
        .again(&["clean", "s.scenario", "--yes"])
        .args(&target)
        .run_with(&token);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("Timestream"), "{stderr}");
    assert!(stdout.contains("deleted 1 table(s)"), "{stdout}");
    let left: Vec<_> = endpoint
        .points("e2e")
        .into_iter()
        .filter(|p| p.measurement == "t")
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
