use proptest::prelude::*;

use super::*;
use crate::lang::literal::{Duration, Instant};
use crate::model::{AnomalyKind, Condition};

fn anomaly(
    table: &str,
    measure: Option<&str>,
    at: TimePoint,
    length: Option<i64>,
    conditions: Vec<Condition>,
) -> Anomaly {
    Anomaly {
        kind: AnomalyKind::Dropout,
        name: None,
        table: table.into(),
        measure: measure.map(str::to_string),
        filter: Filter { conditions },
        at,
        length: length.map(Duration),
        line: 1,
    }
}

fn equals(dimension: &str, value: &str) -> Condition {
    Condition {
        dimension: dimension.into(),
        test: ConditionTest::Equals(value.into()),
    }
}

/// What the check reported before the sweep: every pair, the first in
/// file order that meets.
fn every_pair(anomalies: &[&Anomaly]) -> Vec<Option<usize>> {
    (0..anomalies.len())
        .map(|b| (0..b).find(|&a| meet(anomalies[a], anomalies[b])))
        .collect()
}

/// How many pairs the check asks `meet` about.
fn pairs_asked(anomalies: &[Anomaly]) -> (Vec<Option<usize>>, usize) {
    let refs: Vec<&Anomaly> = anomalies.iter().collect();
    let mut asked = 0;
    let first = first_overlaps_by(&refs, &mut |a, b| {
        asked += 1;
        meet(a, b)
    });
    (first, asked)
}

const MANY: usize = 4000;

fn seconds(s: i64) -> TimePoint {
    TimePoint::Relative(Duration(s * 1_000_000_000))
}

/// Far fewer pairs than every pair (8 million here): the check grows with
/// the anomalies, not with their square.
fn few(asked: usize) -> bool {
    asked <= 4 * MANY
}

#[test]
fn anomalies_spread_over_time_are_not_compared_pair_by_pair() {
    let anomalies: Vec<Anomaly> = (0..MANY as i64)
        .map(|i| {
            let device = format!("d-{}", i % 10);
            anomaly(
                "t",
                Some("v"),
                seconds(i),
                Some(1_000_000_000),
                vec![equals("device", &device)],
            )
        })
        .collect();
    let (first, asked) = pairs_asked(&anomalies);
    assert!(first.iter().all(Option::is_none));
    assert!(few(asked), "{asked} pairs asked");
}

#[test]
fn one_window_for_each_of_many_series_is_not_compared_pair_by_pair() {
    let anomalies: Vec<Anomaly> = (0..MANY)
        .map(|i| {
            let device = format!("d-{i}");
            anomaly(
                "t",
                None,
                seconds(-3600),
                Some(3_600_000_000_000),
                vec![equals("device", &device)],
            )
        })
        .collect();
    let (first, asked) = pairs_asked(&anomalies);
    assert!(first.iter().all(Option::is_none));
    assert!(few(asked), "{asked} pairs asked");
}

#[test]
fn windows_listed_from_the_newest_back_find_their_first_overlap_quickly() {
    // Each starts a second before the one above it and lasts two hours: all
    // meet, and each one's first is the first anomaly.
    let anomalies: Vec<Anomaly> = (0..MANY as i64)
        .map(|i| anomaly("t", Some("v"), seconds(-i), Some(7_200_000_000_000), vec![]))
        .collect();
    let (first, asked) = pairs_asked(&anomalies);
    assert_eq!(first[0], None);
    assert!(first[1..].iter().all(|f| *f == Some(0)));
    assert!(few(asked), "{asked} pairs asked");
}

fn arb_condition() -> impl Strategy<Value = Condition> {
    let value = prop::sample::select(vec!["a", "b", "c"]);
    let test = prop_oneof![
        value.clone().prop_map(|v| ConditionTest::Equals(v.into())),
        value
            .clone()
            .prop_map(|v| ConditionTest::NotEquals(v.into())),
        prop::collection::vec(value, 0..3)
            .prop_map(|v| ConditionTest::In(v.into_iter().map(String::from).collect())),
    ];
    (prop::sample::select(vec!["d", "e"]), test).prop_map(|(dimension, test)| Condition {
        dimension: dimension.into(),
        test,
    })
}

fn arb_anomaly() -> impl Strategy<Value = Anomaly> {
    let at = prop_oneof![
        (-30i64..30).prop_map(|s| TimePoint::Relative(Duration(s))),
        (-30i64..30).prop_map(|s| TimePoint::Absolute(Instant(s))),
        // An end past i64: read as the one instant, as the check did.
        (0i64..3).prop_map(|s| TimePoint::Absolute(Instant(i64::MAX - s))),
    ];
    (
        prop::sample::select(vec!["t", "u"]),
        prop::sample::select(vec![None, Some("v"), Some("w")]),
        at,
        prop::option::of(1i64..15),
        prop::collection::vec(arb_condition(), 0..3),
    )
        .prop_map(|(table, measure, at, length, conditions)| {
            anomaly(table, measure, at, length, conditions)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn the_sweep_finds_what_every_pair_finds(anomalies in prop::collection::vec(arb_anomaly(), 0..40)) {
        let refs: Vec<&Anomaly> = anomalies.iter().collect();
        prop_assert_eq!(first_overlaps(&refs), every_pair(&refs));
    }
}
