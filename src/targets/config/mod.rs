//! `outatime.yaml`: named targets. Read with `yaml_serde`; a problem is a
//! diagnostic pointing into the file, like the scenario's own: the file's
//! shape is checked in [`shape`], an InfluxDB target's keys in [`influx`],
//! and places in the text are found in [`spans`]. The diagnostics are
//! drawn over the text with its secrets masked ([`secrets`]).
//!
//! ```yaml
//! targets:
//!   local:
//!     kind: file
//!     directory: out/${RUN_ID}
//!   influx:
//!     kind: influxdb
//!     api: v2            # v1 | v2 | v3
//!     url: http://127.0.0.1:8086
//!     org: qa            # v2; v1 and v3 take `database` (v1 also `retention_policy`)
//!     bucket: e2e
//!     token_env: INFLUX_TOKEN
//!   prod:
//!     kind: timestream
//!     region: eu-west-1
//!     database: telemetry
//!     read_only: true    # apply and clean refuse it; capture reads it
//! ```
//!
//! Every target also takes `read_only` (default false: `apply` and `clean`
//! refuse a read-only target) and, for Timestream and InfluxDB,
//! `allow_untagged_tables` (default false: `apply` refuses to write into a
//! table outatime did not create; see docs/apply.md).

mod influx;
mod secrets;
mod shape;
mod spans;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use crate::diagnostics::suggest::closest;
use crate::diagnostics::{Diagnostic, kind};
use crate::targets::endpoint::Endpoint;
use crate::targets::influxdb::InfluxTarget;
use crate::targets::timestream::TimestreamTarget;
use influx::{InfluxKeys, influx_target};
use spans::find;

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
    File {
        directory: String,
        #[serde(default)]
        read_only: bool,
    },
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
        #[serde(default)]
        read_only: bool,
        #[serde(default)]
        allow_untagged_tables: bool,
    },
    /// InfluxDB 1.x, 2.x or 3.x over HTTP. Which keys apply depends on
    /// `api`; [`influx_target`] says what is missing or out of place.
    Influxdb {
        api: InfluxApi,
        url: String,
        #[serde(default)]
        database: Option<String>,
        #[serde(default)]
        retention_policy: Option<String>,
        #[serde(default)]
        org: Option<String>,
        #[serde(default)]
        bucket: Option<String>,
        #[serde(default)]
        token_env: Option<String>,
        #[serde(default)]
        read_only: bool,
        #[serde(default)]
        allow_untagged_tables: bool,
    },
}

/// What a target lets outatime do besides writing, from `outatime.yaml`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Policy {
    /// `read_only: true`: `apply` and `clean` refuse the target.
    pub read_only: bool,
    /// `allow_untagged_tables: true`: `apply` writes into tables outatime
    /// did not create (and `clean` still never drops them).
    pub allow_untagged_tables: bool,
}

impl TargetConfig {
    fn policy(&self) -> Policy {
        match self {
            TargetConfig::File { read_only, .. } => Policy {
                read_only: *read_only,
                ..Policy::default()
            },
            TargetConfig::Timestream {
                read_only,
                allow_untagged_tables,
                ..
            } => Policy {
                read_only: *read_only,
                allow_untagged_tables: *allow_untagged_tables,
            },
            TargetConfig::Influxdb {
                read_only,
                allow_untagged_tables,
                ..
            } => Policy {
                read_only: *read_only,
                allow_untagged_tables: *allow_untagged_tables,
            },
        }
    }
}

/// `api:` of an InfluxDB target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum InfluxApi {
    V1,
    V2,
    V3,
}

impl InfluxApi {
    fn name(self) -> &'static str {
        match self {
            InfluxApi::V1 => "v1",
            InfluxApi::V2 => "v2",
            InfluxApi::V3 => "v3",
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Retention {
    pub memory_store_hours: u32,
    pub magnetic_store_days: u32,
    #[serde(default)]
    pub magnetic_writes: bool,
}

/// A target ready to use: `${ENV}` expanded.
#[derive(Clone, Debug)]
pub enum Target {
    File { directory: PathBuf },
    Timestream(TimestreamTarget),
    Influxdb(InfluxTarget),
}

impl Target {
    /// The names this kind of target takes: what `check --target` and
    /// `apply` validate a scenario against.
    pub(crate) fn name_rules(&self) -> &'static dyn crate::model::NameRules {
        match self {
            Target::File { .. } => &crate::targets::files::FileNames,
            Target::Timestream(_) => &crate::targets::timestream::names::TimestreamNames,
            Target::Influxdb(_) => &crate::targets::influxdb::names::InfluxNames,
        }
    }

    /// Its names, and the query dialects it runs: what a scenario is held
    /// to where its expectations will be asked (`check --target`, `test`,
    /// `expect`). `apply`, `verify` and `clean` ask none, and take any.
    pub(crate) fn evaluation_rules(&self) -> Evaluating {
        use crate::model::Dialect;
        let (dialects, name): (&'static [Dialect], _) = match self {
            Target::File { .. } => (&[], None),
            Target::Timestream(_) => (&[Dialect::Sql], None),
            Target::Influxdb(influx) => (
                influx.dialects(),
                matches!(
                    influx.destination,
                    crate::targets::influxdb::Destination::V3 { .. }
                )
                .then_some("InfluxDB 3"),
            ),
        };
        Evaluating {
            names: self.name_rules(),
            dialects,
            name,
        }
    }
}

/// A target's naming rules and the query dialects it runs
/// ([`Target::evaluation_rules`]).
pub(crate) struct Evaluating {
    names: &'static dyn crate::model::NameRules,
    dialects: &'static [crate::model::Dialect],
    /// What the diagnostics call it, when not the names' own word.
    name: Option<&'static str>,
}

impl crate::model::NameRules for Evaluating {
    fn target(&self) -> &'static str {
        self.name.unwrap_or_else(|| self.names.target())
    }

    fn problem(
        &self,
        kind: crate::diagnostics::kind::NameKind,
        name: &str,
    ) -> Option<crate::model::NameProblem> {
        self.names.problem(kind, name)
    }

    fn max_dimensions_per_table(&self) -> Option<usize> {
        self.names.max_dimensions_per_table()
    }

    fn max_measures_per_record(&self, layout: crate::model::Layout) -> Option<usize> {
        self.names.max_measures_per_record(layout)
    }

    fn max_measure_names_per_table(&self, layout: crate::model::Layout) -> Option<usize> {
        self.names.max_measure_names_per_table(layout)
    }

    fn dialects(&self) -> Option<&'static [crate::model::Dialect]> {
        Some(self.dialects)
    }
}

/// A target and what it lets outatime do.
#[derive(Debug)]
pub(crate) struct Named {
    pub target: Target,
    pub policy: Policy,
}

/// What is wrong with `outatime.yaml`, and the text to draw it over.
#[derive(Debug)]
pub struct Problems {
    pub diagnostics: Vec<Diagnostic>,
    /// The file's text with its secrets masked, byte for byte
    /// ([`secrets`]): what the diagnostics are drawn over, never the text
    /// as read.
    pub shown: String,
}

#[cfg(test)]
impl From<Problems> for Vec<Diagnostic> {
    fn from(problems: Problems) -> Vec<Diagnostic> {
        problems.diagnostics
    }
}

/// Reads `text` (the file's contents) and picks the target `name`.
/// `env` looks variables up (the process environment, or a test's map).
pub fn target(
    text: &str,
    name: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Target, Problems> {
    named(text, name, env).map(|named| named.target)
}

/// [`target`] with the target's [`Policy`]: what `apply` and `clean` use.
pub(crate) fn named(
    text: &str,
    name: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Named, Problems> {
    resolve(text, name, env).map_err(|diagnostics| Problems {
        diagnostics: diagnostics.into_iter().map(masked_words).collect(),
        shown: secrets::masked(text),
    })
}

/// A diagnostic whose words may quote a value of the file (a value that
/// does not fit its key, in serde's words: ``invalid type: string
/// "http://admin:PASS@h", expected a boolean``), with its secrets masked
/// as the text is.
fn masked_words(mut diagnostic: Diagnostic) -> Diagnostic {
    if let crate::diagnostics::DiagnosticKind::ConfigInvalid(invalid) = &mut diagnostic.kind {
        invalid.message = secrets::masked(&invalid.message);
        invalid.suggestion = invalid.suggestion.as_deref().map(secrets::masked);
    }
    diagnostic
}

fn resolve(
    text: &str,
    name: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Named, Vec<Diagnostic>> {
    let config = shape::parse(text)?;
    let Some(target) = config.targets.get(name) else {
        let span = find(text, "targets").unwrap_or_default();
        let kind = kind::ConfigInvalid {
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
        TargetConfig::File { directory, .. } => Target::File {
            directory: PathBuf::from(expand(directory)),
        },
        TargetConfig::Timestream {
            region,
            database,
            endpoint_url,
            table_prefix,
            table_suffix,
            retention,
            ..
        } => Target::Timestream(TimestreamTarget {
            region: expand(region),
            database: expand(database),
            endpoint_url: endpoint_url.as_deref().map(&mut expand).map(Endpoint::new),
            table_prefix: expand(table_prefix),
            table_suffix: expand(table_suffix),
            retention: retention.map(|r| crate::targets::timestream::Retention {
                memory_hours: i64::from(r.memory_store_hours),
                magnetic_days: i64::from(r.magnetic_store_days),
                magnetic_writes: r.magnetic_writes,
            }),
        }),
        TargetConfig::Influxdb {
            api,
            url,
            database,
            retention_policy,
            org,
            bucket,
            token_env,
            ..
        } => {
            let keys = InfluxKeys {
                api: *api,
                url,
                database: database.as_deref(),
                retention_policy: retention_policy.as_deref(),
                org: org.as_deref(),
                bucket: bucket.as_deref(),
                token_env: token_env.as_deref(),
            };
            match influx_target(text, name, &keys, env, &mut expand) {
                Ok(target) => Target::Influxdb(target),
                Err(mut found) => {
                    problems.append(&mut found);
                    return Err(problems);
                }
            }
        }
    };
    if problems.is_empty() {
        Ok(Named {
            target: resolved,
            policy: target.policy(),
        })
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
                    kind::ConfigUnsetVariable {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::targets::influxdb::{Destination, Token};

    fn env(name: &str) -> Option<String> {
        (name == "RUN_ID").then(|| "42".to_string())
    }

    fn codes(result: Result<Target, impl Into<Vec<Diagnostic>>>) -> Vec<(String, String)> {
        let diagnostics: Vec<Diagnostic> = result.map_err(Into::into).unwrap_err();
        diagnostics
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
        let err = target(text, "local", &env).unwrap_err().diagnostics;
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

    #[test]
    fn read_only_and_allow_untagged_tables_are_the_targets_policy() {
        let text = "targets:\n  prod:\n    kind: timestream\n    region: eu-west-1\n    database: telemetry\n    read_only: true\n  e2e:\n    kind: timestream\n    region: eu-west-1\n    database: e2e\n    allow_untagged_tables: true\n  local:\n    kind: file\n    directory: out\n";
        let policy = |name: &str| named(text, name, &env).unwrap().policy;
        assert_eq!(
            policy("prod"),
            Policy {
                read_only: true,
                ..Policy::default()
            }
        );
        assert_eq!(
            policy("e2e"),
            Policy {
                allow_untagged_tables: true,
                ..Policy::default()
            }
        );
        assert_eq!(policy("local"), Policy::default());
        // A file target has no tables to tag: the key is unknown there.
        let text = "targets:\n  local:\n    kind: file\n    directory: out\n    allow_untagged_tables: true\n";
        assert_eq!(
            codes(target(text, "local", &env))[0].0,
            "outatime::config::invalid"
        );
    }

    fn influx(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Target, Vec<Diagnostic>> {
        target(text, "influx", env).map_err(|problems| problems.diagnostics)
    }

    fn token_env(name: &str) -> Option<String> {
        match name {
            "INFLUX_TOKEN" => Some("s3cret".into()),
            "CI_PIPELINE_ID" => Some("77".into()),
            _ => None,
        }
    }

    #[test]
    fn influxdb_targets_of_each_api() {
        let text = "targets:\n  local:\n    kind: file\n    directory: out\n  influx:\n    kind: influxdb\n    api: v1\n    url: http://127.0.0.1:8086/\n    database: e2e\n    retention_policy: autogen\n";
        let Target::Influxdb(t) = influx(text, &env).unwrap() else {
            panic!("not influx")
        };
        assert_eq!(t.url.to_string(), "http://127.0.0.1:8086");
        assert_eq!(
            t.destination,
            Destination::V1 {
                database: "e2e".into(),
                retention_policy: Some("autogen".into())
            }
        );
        assert_eq!(t.token, None);
        let text = "targets:\n  influx:\n    kind: influxdb\n    api: v2\n    url: https://x.on.aws:8086\n    org: qa\n    bucket: e2e_${CI_PIPELINE_ID}\n    token_env: INFLUX_TOKEN\n";
        let Target::Influxdb(t) = influx(text, &token_env).unwrap() else {
            panic!("not influx")
        };
        assert_eq!(
            t.destination,
            Destination::V2 {
                org: "qa".into(),
                bucket: "e2e_77".into()
            }
        );
        assert_eq!(t.token, Some(Token::new("s3cret".into())));
        assert_eq!(format!("{:?}", t.token), "Some(Token(…))");
        let text = "targets:\n  influx:\n    kind: influxdb\n    api: v3\n    url: http://127.0.0.1:8181\n    database: e2e\n";
        let Target::Influxdb(t) = influx(text, &env).unwrap() else {
            panic!("not influx")
        };
        assert_eq!(
            t.destination,
            Destination::V3 {
                database: "e2e".into()
            }
        );
    }

    #[test]
    fn influxdb_keys_that_an_api_lacks_or_does_not_use_point_into_the_target() {
        // v2 without org and token, with a v1 key; the other target's
        // `database:` is not the one pointed at.
        let text = "targets:\n  other:\n    kind: timestream\n    region: eu-west-1\n    database: x\n  influx:\n    kind: influxdb\n    api: v2\n    url: http://h:8086\n    bucket: b\n    database: e2e\n";
        let err = influx(text, &env).unwrap_err();
        let found: Vec<(String, String, &str)> = err
            .iter()
            .map(|d| {
                (
                    d.code(),
                    d.help().unwrap_or_default(),
                    &text[d.span.start..d.span.end],
                )
            })
            .collect();
        assert_eq!(
            found,
            [
                ("outatime::config::missing_key".into(), "add `org: qa` under the target".into(), "api"),
                ("outatime::config::missing_key".into(), "add `token_env: INFLUX_TOKEN` under the target".into(), "api"),
                ("outatime::config::key_not_for_api".into(), "remove `database`; api v2 writes to `bucket` of `org`, with the bucket's own retention".into(), "database"),
            ]
        );
        assert_eq!(err[2].span.start, text.rfind("database").unwrap());
        let text = "targets:\n  influx:\n    kind: influxdb\n    api: v1\n    url: http://h:8086\n    bucket: b\n";
        let found = codes(influx(text, &env));
        assert_eq!(found[0].0, "outatime::config::missing_key");
        assert_eq!(found[1].0, "outatime::config::key_not_for_api");
        let text = "targets:\n  influx:\n    kind: influxdb\n    api: v3\n    url: 127.0.0.1:8181\n    database: e2e\n    token_env: NOPE\n";
        let err = influx(text, &env).unwrap_err();
        assert_eq!(err[0].code(), "outatime::config::invalid");
        assert_eq!(&text[err[0].span.start..err[0].span.end], "url");
        assert_eq!(err[1].code(), "outatime::config::token_env_unset");
        assert_eq!(&text[err[1].span.start..err[1].span.end], "token_env");
        // Unknown keys and APIs get suggestions like any target's.
        let text = "targets:\n  influx:\n    kind: influxdb\n    api: v1\n    url: http://h:8086\n    databse: e2e\n";
        let found = codes(influx(text, &env));
        assert_eq!(
            found[0],
            (
                "outatime::config::invalid".into(),
                "did you mean `database`?".into()
            )
        );
        let text = "targets:\n  influx:\n    kind: influxdb\n    api: v4\n    url: http://h:8086\n";
        let err = influx(text, &env).unwrap_err();
        assert!(
            err[0].message().contains("`v1`, `v2`"),
            "{}",
            err[0].message()
        );
    }

    #[test]
    fn a_token_where_its_variables_name_belongs_is_neither_read_nor_repeated() {
        let text = "targets:\n  influx:\n    kind: influxdb\n    api: v2\n    url: http://h:8086\n    org: qa\n    bucket: b\n    token_env: \"abcTOKENVALUEpasted==\"\n";
        let looked_up = std::cell::RefCell::new(Vec::new());
        let env = |name: &str| {
            looked_up.borrow_mut().push(name.to_string());
            Some("value".to_string())
        };
        let problems = target(text, "influx", &env).unwrap_err();
        assert!(looked_up.borrow().is_empty(), "{looked_up:?}");
        let d = &problems.diagnostics[0];
        assert_eq!(d.code(), "outatime::config::token_env_not_a_name");
        assert_eq!(&text[d.span.start..d.span.end], "token_env");
        for said in [
            d.message(),
            d.help().unwrap_or_default(),
            problems.shown.clone(),
        ] {
            assert!(!said.contains("TOKENVALUE"), "{said}");
            assert!(!said.contains("into the file"), "{said}");
        }
        assert_eq!(problems.shown.len(), text.len());
        // A name whose variable is unset: named, and no advice to write
        // the token into the file.
        let text = text.replace("\"abcTOKENVALUEpasted==\"", "INFLUX_TOKEN");
        let problems = target(&text, "influx", &|_| None).unwrap_err();
        let d = &problems.diagnostics[0];
        assert_eq!(d.code(), "outatime::config::token_env_unset");
        assert!(d.message().contains("`INFLUX_TOKEN`"), "{}", d.message());
        let help = d.help().unwrap_or_default();
        assert!(help.contains("never from this file"), "{help}");
    }

    #[test]
    fn urls_are_shown_redacted_and_an_influxdb_url_takes_no_query() {
        let text = "targets:\n  ts:\n    kind: timestream\n    region: eu-west-1\n    database: d\n    endpoint_url: http://admin:PASS@127.0.0.1:5077/?p=SECRETQ\n  influx:\n    kind: influxdb\n    api: v1\n    url: http://admin:PASS@h:8086/\n    database: e2e\n  query:\n    kind: influxdb\n    api: v1\n    url: http://h:8086/?p=SECRETQ\n    database: e2e\n  bare:\n    kind: influxdb\n    api: v1\n    url: admin:PASS@h:8086\n    database: e2e\n";
        let Target::Timestream(ts) = target(text, "ts", &env).unwrap() else {
            panic!("not timestream")
        };
        let endpoint = ts.endpoint_url.unwrap();
        assert_eq!(
            endpoint.to_string(),
            "http://admin:***@127.0.0.1:5077/?p=***"
        );
        assert_eq!(
            endpoint.expose(),
            "http://admin:PASS@127.0.0.1:5077/?p=SECRETQ"
        );
        let Target::Influxdb(influx) = target(text, "influx", &env).unwrap() else {
            panic!("not influx")
        };
        assert_eq!(influx.url.to_string(), "http://admin:***@h:8086");
        assert!(!format!("{influx:?}").contains("PASS"));
        for (name, message) in [
            (
                "query",
                "`http://h:8086/?p=***`: an InfluxDB `url` takes no query or fragment",
            ),
            (
                "bare",
                "`admin:***@h:8086` is not an http:// or https:// URL",
            ),
        ] {
            let problems = target(text, name, &env).unwrap_err();
            let d = &problems.diagnostics[0];
            assert_eq!(d.code(), "outatime::config::invalid");
            assert_eq!(d.message(), message);
            assert!(!problems.shown.contains("PASS"), "{}", problems.shown);
            assert!(!problems.shown.contains("SECRETQ"), "{}", problems.shown);
        }
        // A URL under a key that takes no text is quoted by serde's words,
        // masked.
        let text = "targets:\n  misplaced:\n    kind: file\n    directory: out\n    read_only: http://admin:PASS@h\n";
        let problems = target(text, "misplaced", &env).unwrap_err();
        let message = problems.diagnostics[0].message();
        assert!(message.contains("http://admin:****@h"), "{message}");
    }
}
