//! A validated scenario in words: what `check --explain` prints.

use crate::model::Scenario;

pub fn explain(scenario: &Scenario) -> String {
    format!("  {}\n", scenario.title)
}
