//! `outatime.yaml` read into a [`Config`], and what is wrong with it when it
//! is not one, as a diagnostic at its place.
//!
//! `yaml_serde` says where an error is ([`yaml_serde::Error::location`]);
//! what it is comes from the file read as a [`Value`], never from the
//! error's words: keys are checked against the keys each section takes
//! (so an unknown key is named, with a suggestion), and any other problem
//! is the message of the value that does not fit, deserialized alone
//! (`yaml_serde` words it without a place, which the diagnostic draws).
//! A file that is not YAML (a tab, a key twice, a bad indent) is said in
//! the parser's words, whole.

use std::collections::BTreeMap;

use yaml_serde::{Mapping, Value};

use super::{Config, TargetConfig};
use crate::diagnostics::suggest::closest;
use crate::diagnostics::{Diagnostic, Span, kind};

/// The keys of the file, of each kind of target (besides `kind`) and of a
/// Timestream target's `retention`, in the order the types declare them:
/// the order a message lists them in.
const ROOT_KEYS: &[&str] = &["targets"];
const FILE_KEYS: &[&str] = &["directory", "read_only"];
const TIMESTREAM_KEYS: &[&str] = &[
    "region",
    "database",
    "endpoint_url",
    "table_prefix",
    "table_suffix",
    "retention",
    "read_only",
    "allow_untagged_tables",
];
const INFLUXDB_KEYS: &[&str] = &[
    "api",
    "url",
    "database",
    "retention_policy",
    "org",
    "bucket",
    "token_env",
    "read_only",
    "allow_untagged_tables",
];
const RETENTION_KEYS: &[&str] = &[
    "memory_store_hours",
    "magnetic_store_days",
    "magnetic_writes",
];
/// The kinds of target.
const KINDS: &[&str] = &["file", "timestream", "influxdb"];

/// The keys a target of `kind` takes besides `kind`; `None`: no such kind.
fn target_keys(kind: &str) -> Option<&'static [&'static str]> {
    match kind {
        "file" => Some(FILE_KEYS),
        "timestream" => Some(TIMESTREAM_KEYS),
        "influxdb" => Some(INFLUXDB_KEYS),
        _ => None,
    }
}

/// `text` as a [`Config`], or the first thing wrong with it.
pub(super) fn parse(text: &str) -> Result<Config, Vec<Diagnostic>> {
    yaml_serde::from_str(text).map_err(|error| vec![diagnose(text, &error)])
}

/// What is wrong, found in the file read as a [`Value`].
#[derive(Debug, PartialEq)]
enum Problem {
    /// A key its section does not take: the section as a message names it
    /// (`""` for the file, `targets` for a target or its `retention`), and
    /// the keys it takes.
    UnknownKey {
        place: &'static str,
        key: String,
        known: &'static [&'static str],
    },
    /// A target's `kind` that is none of the kinds.
    UnknownKind { name: String, kind: String },
    /// A value that does not fit: where, and why (a missing key, a wrong
    /// type, an unknown api).
    Value { place: String, why: String },
}

impl Problem {
    /// The message, after the place: serde's words for a shape error.
    fn message(&self) -> String {
        let (place, what) = match self {
            Problem::UnknownKey { place, key, known } => (
                *place,
                format!("unknown field `{key}`, expected {}", expected(known)),
            ),
            Problem::UnknownKind { name, kind } => {
                return format!(
                    "targets.{name}.kind: unknown variant `{kind}`, expected {}",
                    expected(KINDS)
                );
            }
            Problem::Value { place, why } => (place.as_str(), why.clone()),
        };
        if place.is_empty() {
            what
        } else {
            format!("{place}: {what}")
        }
    }
}

/// `` `a` ``, `` `a` or `b` ``, `` one of `a`, `b`, `c` ``.
fn expected(known: &[&str]) -> String {
    match known {
        [] => "nothing".into(),
        [one] => format!("`{one}`"),
        [one, two] => format!("`{one}` or `{two}`"),
        many => {
            let many: Vec<String> = many.iter().map(|k| format!("`{k}`")).collect();
            format!("one of {}", many.join(", "))
        }
    }
}

/// A YAML or shape error at its place; an unknown key gets a suggestion.
fn diagnose(text: &str, error: &yaml_serde::Error) -> Diagnostic {
    let at = |error: &yaml_serde::Error| error.location().map_or(0, |l| l.index().min(text.len()));
    let whole = |error: &yaml_serde::Error| {
        let kind = kind::ConfigInvalid {
            message: error.to_string(),
            suggestion: None,
        };
        Diagnostic::new(kind, up_to_colon(text, at(error)))
    };
    let problem = match yaml_serde::from_str::<Value>(text) {
        // Not YAML (a tab, a key twice, a bad indent): the parser's own
        // words, which say the line and column too.
        Err(not_yaml) => return whole(&not_yaml),
        Ok(value) => first_problem(&value),
    };
    let Some(problem) = problem else {
        return whole(error);
    };
    let at = at(error);
    let message = problem.message();
    match problem {
        Problem::UnknownKey { key, known, .. } => {
            // The key itself: the error's place is the start of its map.
            let span = text[at..]
                .find(&format!("{key}:"))
                .map(|i| Span::new(at + i, at + i + key.len()))
                .unwrap_or_else(|| up_to_colon(text, at));
            let suggestion = closest(&key, known.iter().copied())
                .map(|s| format!("did you mean `{s}`?"))
                .unwrap_or_else(|| format!("keys here: {}", quoted(known)));
            let kind = kind::ConfigInvalid {
                message,
                suggestion: Some(suggestion),
            };
            Diagnostic::new(kind, span)
        }
        Problem::UnknownKind { .. } | Problem::Value { .. } => {
            let kind = kind::ConfigInvalid {
                message,
                suggestion: None,
            };
            Diagnostic::new(kind, up_to_colon(text, at))
        }
    }
}

/// From `at` to the next `:` or line end: a key, or a value on its line.
fn up_to_colon(text: &str, at: usize) -> Span {
    let end = text[at..]
        .find([':', '\n'])
        .map_or(text.len(), |i| at + i)
        .max(at);
    Span::new(at, end)
}

fn quoted(keys: &[&str]) -> String {
    let keys: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
    keys.join(", ")
}

/// The first problem, in the order the file is read: the file's keys in
/// turn, and in `targets` each target in turn, its unknown keys before any
/// other problem it has. `None` when the value is a [`Config`].
fn first_problem(root: &Value) -> Option<Problem> {
    let value_problem = |place: &str, result: Result<Config, yaml_serde::Error>| {
        result.err().map(|error| Problem::Value {
            place: place.into(),
            why: error.to_string(),
        })
    };
    let Value::Mapping(root_map) = root else {
        // Empty, or not a map: serde says which.
        return value_problem("", yaml_serde::from_value(root.clone()));
    };
    let mut targets_seen = false;
    for (key, value) in root_map {
        match key.as_str() {
            Some("targets") => {
                targets_seen = true;
                if let Some(problem) = targets_problem(value) {
                    return Some(problem);
                }
            }
            Some(key) => {
                return Some(Problem::UnknownKey {
                    place: "",
                    key: key.into(),
                    known: ROOT_KEYS,
                });
            }
            None => break,
        }
    }
    if !targets_seen {
        return Some(Problem::Value {
            place: String::new(),
            why: "missing field `targets`".into(),
        });
    }
    // A key that is not a string, or anything the walk does not know.
    value_problem("", yaml_serde::from_value(root.clone()))
}

/// The first problem of `targets:`'s value.
fn targets_problem(targets: &Value) -> Option<Problem> {
    let map = match targets {
        Value::Null => return None,
        Value::Mapping(map) => map,
        other => {
            let error =
                yaml_serde::from_value::<BTreeMap<String, TargetConfig>>(other.clone()).err()?;
            return Some(Problem::Value {
                place: "targets".into(),
                why: error.to_string(),
            });
        }
    };
    for (name, target) in map {
        let name = name.as_str()?;
        if let Some(problem) = target_problem(name, target) {
            return Some(problem);
        }
    }
    None
}

/// The first problem of the target `name`: an unknown key (in the target
/// or its `retention`), else what serde finds in the target alone.
fn target_problem(name: &str, target: &Value) -> Option<Problem> {
    // Where serde's message places a problem: the target itself when it is
    // not a map or has no kind, its kind when that is none of the kinds,
    // else `targets`.
    let place = match target.as_mapping().map(|map| map.get("kind")) {
        None | Some(None) => format!("targets.{name}"),
        Some(Some(kind)) if kind.as_str().and_then(target_keys).is_none() => {
            // A scalar, as the file writes it: `s3`, `5`.
            let written = match kind {
                Value::String(text) => Some(text.clone()),
                Value::Number(number) => Some(number.to_string()),
                Value::Bool(b) => Some(b.to_string()),
                _ => None,
            };
            if let Some(kind) = written {
                return Some(Problem::UnknownKind {
                    name: name.into(),
                    kind,
                });
            }
            format!("targets.{name}.kind")
        }
        Some(Some(_)) => "targets".into(),
    };
    if let Some(map) = target.as_mapping()
        && let Some(known) = map
            .get("kind")
            .and_then(Value::as_str)
            .and_then(target_keys)
        && let Some(problem) = unknown_key(map, known)
    {
        return Some(problem);
    }
    let error = yaml_serde::from_value::<TargetConfig>(target.clone()).err()?;
    Some(Problem::Value {
        place,
        why: error.to_string(),
    })
}

/// The first key of a target's `map` that its kind does not take
/// (`known`), or that its `retention` does not.
fn unknown_key(map: &Mapping, known: &'static [&'static str]) -> Option<Problem> {
    let unknown = |key: &str, known: &'static [&'static str]| Problem::UnknownKey {
        place: "targets",
        key: key.into(),
        known,
    };
    for (key, value) in map {
        let key = key.as_str()?;
        if key == "kind" {
            continue;
        }
        if !known.contains(&key) {
            return Some(unknown(key, known));
        }
        if key == "retention"
            && let Some(retention) = value.as_mapping()
        {
            for key in retention.keys().filter_map(Value::as_str) {
                if !RETENTION_KEYS.contains(&key) {
                    return Some(unknown(key, RETENTION_KEYS));
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(text: &str) -> Option<Problem> {
        first_problem(&yaml_serde::from_str(text).unwrap())
    }

    #[test]
    fn every_key_the_lists_name_is_one_the_types_take() {
        let text = "targets:
  f:
    kind: file
    directory: out
    read_only: true
  t:
    kind: timestream
    region: r
    database: d
    endpoint_url: http://h
    table_prefix: p
    table_suffix: s
    retention: { memory_store_hours: 1, magnetic_store_days: 1, magnetic_writes: true }
    read_only: false
    allow_untagged_tables: true
  i:
    kind: influxdb
    api: v1
    url: http://h
    database: d
    retention_policy: rp
    org: o
    bucket: b
    token_env: T
    read_only: false
    allow_untagged_tables: true
";
        assert!(parse(text).is_ok());
        assert_eq!(problem(text), None);
    }

    #[test]
    fn an_unknown_key_is_named_with_the_keys_its_section_takes() {
        let text = "targets:\n  local:\n    kind: file\n    directry: out\n";
        assert_eq!(
            problem(text),
            Some(Problem::UnknownKey {
                place: "targets",
                key: "directry".into(),
                known: FILE_KEYS,
            })
        );
        let text = "targets:\n  t:\n    kind: timestream\n    region: r\n    database: d\n    retention: { memory_store_hours: 1, magnetic: true }\n";
        assert_eq!(
            problem(text).map(|p| p.message()).as_deref(),
            Some(
                "targets: unknown field `magnetic`, expected one of `memory_store_hours`, `magnetic_store_days`, `magnetic_writes`"
            )
        );
        let text = "targts:\n  t:\n    kind: file\n";
        assert_eq!(
            problem(text).map(|p| p.message()).as_deref(),
            Some("unknown field `targts`, expected `targets`")
        );
    }

    #[test]
    fn other_problems_are_the_value_alone_deserialized_at_its_place() {
        let message = |text: &str| problem(text).map(|p| p.message());
        assert_eq!(
            message("targets:\n  local:\n    kind: file\n").as_deref(),
            Some("targets: missing field `directory`")
        );
        assert_eq!(
            message("targets:\n  local:\n    kind: s3\n").as_deref(),
            Some(
                "targets.local.kind: unknown variant `s3`, expected one of `file`, `timestream`, `influxdb`"
            )
        );
        assert_eq!(
            message("targets:\n  local:\n    directory: out\n").as_deref(),
            Some("targets.local: missing field `kind`")
        );
        assert_eq!(
            message("targets: 5\n").as_deref(),
            Some("targets: invalid type: integer `5`, expected a map")
        );
        assert_eq!(message("").as_deref(), Some("missing field `targets`"));
    }
}
