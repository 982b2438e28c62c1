//! What authors and reviewers read: a scenario explained around `now`, and
//! the difference between two plans.

pub(crate) mod diff;
pub(crate) mod explain;
