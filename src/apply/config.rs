//! `outatime.yaml`: named targets. Read with `yaml_serde`; a problem is a
//! diagnostic pointing into the file, like the scenario's own.
//!
//! ```yaml
//! targets:
//!   local:
//!     kind: file
//!     directory: out/${RUN_ID}
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use crate::diagnostics::Span;
use crate::diagnostics::suggest::closest;
use crate::diagnostics::{Diagnostic, DiagnosticKind};

/// The file `apply` looks for in the working folder.
pub(crate) const CONFIG_FILE: &str = "outatime.yaml";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Config {
    pub targets: BTreeMap<String, TargetConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub(crate) enum TargetConfig {
    /// JSON lines, one file a table, in `directory`.
    File { directory: String },
    /// Timestream for LiveAnalytics.
    Timestream {
        region: String,
        database: String,
        #[serde(default)]
        endpoint_url: Option<String>,
        #[serde(default)]
        table_prefix: String,
        #[serde(default)]
        table_suffix: String,
        #[serde(default)]
        retention: Option<Retention>,
    },
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retention {
    pub memory_store_hours: u32,
    pub magnetic_store_days: u32,
    #[serde(default)]
    pub magnetic_writes: bool,
}

/// A target ready to use: `${ENV}` expanded.
#[derive(Debug)]
pub enum Target {
    File { directory: PathBuf },
    Timestream(TimestreamTarget),
}

/// A Timestream target's settings with `${ENV}` expanded: plain data that
/// `apply::timestream` reads.
#[derive(Debug)]
pub struct TimestreamTarget {
    pub region: String,
    pub database: String,
    pub endpoint_url: Option<String>,
    pub table_prefix: String,
    pub table_suffix: String,
    pub retention: Option<Retention>,
}

/// Reads `text` (the file's contents) and picks the target `name`.
/// `env` looks variables up (the process environment, or a test's map).
pub fn target(
    text: &str,
    name: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Target, Vec<Diagnostic>> {
    let config: Config = yaml_serde::from_str(text).map_err(|e| vec![parse_error(text, &e)])?;
    let Some(target) = config.targets.get(name) else {
        let span = find(text, "targets").unwrap_or_default();
        let kind = DiagnosticKind::ConfigInvalid {
            message: format!("no target named `{name}`"),
            suggestion: closest(name, config.targets.keys().map(String::as_str))
                .map(|s| format!("did you mean `{s}`?"))
                .or_else(|| {
                    let names: Vec<String> =
                        config.targets.keys().map(|k| format!("`{k}`")).collect();
                    Some(format!("targets here: {}", names.join(", ")))
                }),
        };
        return Err(vec![Diagnostic::new(kind, span)]);
    };
    let mut problems = Vec::new();
    let mut expand = |value: &str| expand(text, value, env, &mut problems);
    let resolved = match target {
        TargetConfig::File { directory } => Target::File {
            directory: PathBuf::from(expand(directory)),
        },
        TargetConfig::Timestream {
            region,
            database,
            endpoint_url,
            table_prefix,
            table_suffix,
            retention,
        } => Target::Timestream(TimestreamTarget {
            region: expand(region),
            database: expand(database),
            endpoint_url: endpoint_url.as_deref().map(&mut expand),
            table_prefix: expand(table_prefix),
            table_suffix: expand(table_suffix),
            retention: *retention,
        }),
    };
    if problems.is_empty() {
        Ok(resolved)
    } else {
        Err(problems)
    }
}

/// `${NAME}` → the variable's value; an unset one is a diagnostic at its
/// first place in the file.
fn expand(
    text: &str,
    value: &str,
    env: &dyn Fn(&str) -> Option<String>,
    problems: &mut Vec<Diagnostic>,
) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('}') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let name = &rest[start + 2..start + end];
        match env(name) {
            Some(v) => out.push_str(&v),
            None => {
                let written = format!("${{{name}}}");
                let span = find(text, &written).unwrap_or_default();
                problems.push(Diagnostic::new(
                    DiagnosticKind::ConfigUnsetVariable {
                        name: name.to_string(),
                    },
                    span,
                ));
            }
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    out
}

fn find(text: &str, needle: &str) -> Option<Span> {
    text.find(needle).map(|i| Span::new(i, i + needle.len()))
}

/// A YAML or shape error at its place; unknown keys get a suggestion.
fn parse_error(text: &str, error: &yaml_serde::Error) -> Diagnostic {
    let raw = error.to_string();
    // "…: unknown field `directry`, expected `directory` at line 4 column 5"
    let message = raw.split(" at line ").next().unwrap_or(&raw).to_string();
    let suggestion = unknown_field_suggestion(&message);
    let from = error.location().map_or(0, |l| l.index().min(text.len()));
    // An unknown key: point at the key itself, which serde places at the
    // start of its map for tagged targets.
    let unknown = message
        .split("unknown field `")
        .nth(1)
        .and_then(|rest| rest.split('`').next())
        .and_then(|field| {
            text[from..]
                .find(&format!("{field}:"))
                .map(|i| (from + i, field.len()))
        });
    if let Some((start, len)) = unknown {
        return Diagnostic::new(
            DiagnosticKind::ConfigInvalid {
                message,
                suggestion,
            },
            Span::new(start, start + len),
        );
    }
    let span = error
        .location()
        .map(|l| {
            let start = l.index().min(text.len());
            let end = text[start..]
                .find([':', '\n'])
                .map_or(text.len(), |i| start + i)
                .max(start);
            Span::new(start, end)
        })
        .unwrap_or_default();
    Diagnostic::new(
        DiagnosticKind::ConfigInvalid {
            message,
            suggestion,
        },
        span,
    )
}

/// From serde's "unknown field `x`, expected one of `a`, `b`".
fn unknown_field_suggestion(message: &str) -> Option<String> {
    let rest = message.split("unknown field `").nth(1)?;
    let (field, expected) = rest.split_once('`')?;
    let options: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    closest(field, options.iter().copied())
        .map(|s| format!("did you mean `{s}`?"))
        .or_else(|| {
            Some(format!(
                "keys here: {}",
                options
                    .iter()
                    .map(|o| format!("`{o}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        (name == "RUN_ID").then(|| "42".to_string())
    }

    fn codes(result: Result<Target, Vec<Diagnostic>>) -> Vec<(String, String)> {
        result
            .unwrap_err()
            .iter()
            .map(|d| (d.code(), d.help().unwrap_or_default()))
            .collect()
    }

    #[test]
    fn a_file_target_with_a_variable() {
        let text = "targets:\n  local:\n    kind: file\n    directory: out/${RUN_ID}\n";
        match target(text, "local", &env).unwrap() {
            Target::File { directory } => assert_eq!(directory, PathBuf::from("out/42")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unknown_keys_targets_and_unset_variables_are_diagnostics() {
        let text = "targets:\n  local:\n    kind: file\n    directry: out\n";
        let found = codes(target(text, "local", &env));
        assert_eq!(found[0].0, "outatime::config::invalid");
        assert_eq!(found[0].1, "did you mean `directory`?");
        let text = "targets:\n  local:\n    kind: file\n    directory: out/${NOPE}\n";
        let err = target(text, "local", &env).unwrap_err();
        assert_eq!(err[0].code(), "outatime::config::unset_variable");
        assert_eq!(&text[err[0].span.start..err[0].span.end], "${NOPE}");
        let text = "targets:\n  local:\n    kind: file\n    directory: out\n";
        assert_eq!(
            codes(target(text, "locl", &env))[0].1,
            "did you mean `local`?"
        );
        let text = "targets:\n  local:\n    kind: s3\n";
        assert_eq!(
            codes(target(text, "local", &env))[0].0,
            "outatime::config::invalid"
        );
    }
}
