//! What authors and reviewers read: a scenario explained around `now`, and
//! the difference between two plans.

pub mod diff;
pub mod explain;
