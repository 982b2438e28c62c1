//! A `kind: influxdb` target's keys: which its `api` needs and refuses,
//! the URL's form, and the token read from the variable `token_env` names.

use super::InfluxApi;
use super::secrets::is_variable_name;
use super::spans::{key_span, target_span};
use crate::diagnostics::{Diagnostic, kind};
use crate::targets::endpoint::Endpoint;
use crate::targets::influxdb::{Destination, InfluxTarget, Token};

/// Keys and their values, if written.
type KeyList<'a> = &'a [(&'a str, Option<&'a str>)];

/// An InfluxDB target's keys as written.
pub(super) struct InfluxKeys<'a> {
    pub api: InfluxApi,
    pub url: &'a str,
    pub database: Option<&'a str>,
    pub retention_policy: Option<&'a str>,
    pub org: Option<&'a str>,
    pub bucket: Option<&'a str>,
    pub token_env: Option<&'a str>,
}

/// The keys `api` needs and refuses, checked all at once; the URL's form;
/// the token read from the variable `token_env` names.
pub(super) fn influx_target(
    text: &str,
    name: &str,
    keys: &InfluxKeys<'_>,
    env: &dyn Fn(&str) -> Option<String>,
    expand: &mut dyn FnMut(&str) -> String,
) -> Result<InfluxTarget, Vec<Diagnostic>> {
    let api = keys.api;
    let mut problems = Vec::new();
    let at_key = |key: &str| key_span(text, name, key).unwrap_or_else(|| target_span(text, name));
    let missing = |key: &str, example: &str, problems: &mut Vec<Diagnostic>| {
        problems.push(Diagnostic::new(
            kind::ConfigMissingKey {
                key: key.into(),
                api: api.name().into(),
                example: example.into(),
            },
            at_key("api"),
        ));
    };
    let not_for_api = |key: &str, instead: &str, problems: &mut Vec<Diagnostic>| {
        problems.push(Diagnostic::new(
            kind::ConfigKeyNotForApi {
                key: key.into(),
                api: api.name().into(),
                instead: instead.into(),
            },
            at_key(key),
        ));
    };
    let (needed, refused): (KeyList<'_>, KeyList<'_>) = match api {
        InfluxApi::V1 => (
            &[("database", keys.database)],
            &[("org", keys.org), ("bucket", keys.bucket)],
        ),
        InfluxApi::V2 => (
            &[
                ("org", keys.org),
                ("bucket", keys.bucket),
                ("token_env", keys.token_env),
            ],
            &[
                ("database", keys.database),
                ("retention_policy", keys.retention_policy),
            ],
        ),
        InfluxApi::V3 => (
            &[("database", keys.database)],
            &[
                ("retention_policy", keys.retention_policy),
                ("org", keys.org),
                ("bucket", keys.bucket),
            ],
        ),
    };
    let instead = match api {
        InfluxApi::V1 => "api v1 writes to `database` (and `retention_policy`)",
        InfluxApi::V2 => "api v2 writes to `bucket` of `org`, with the bucket's own retention",
        InfluxApi::V3 => "api v3 writes to `database`",
    };
    for (key, value) in needed {
        if value.is_none() {
            let example = match *key {
                "token_env" => "INFLUX_TOKEN",
                "org" => "qa",
                _ => "e2e",
            };
            missing(key, example, &mut problems);
        }
    }
    for (key, value) in refused {
        if value.is_some() {
            not_for_api(key, instead, &mut problems);
        }
    }
    let url = expand(keys.url);
    let url = Endpoint::new(url.trim_end_matches('/').to_string());
    if let Some(problem) = url_problem(&url) {
        problems.push(Diagnostic::new(problem, at_key("url")));
    }
    let token = match keys.token_env {
        None => None,
        Some(variable) if !is_variable_name(variable) => {
            problems.push(Diagnostic::new(
                kind::ConfigTokenEnvNotAName,
                at_key("token_env"),
            ));
            None
        }
        Some(variable) => match env(variable) {
            Some(secret) => Some(Token::new(secret)),
            None => {
                problems.push(Diagnostic::new(
                    kind::ConfigTokenEnvUnset {
                        name: variable.to_string(),
                    },
                    at_key("token_env"),
                ));
                None
            }
        },
    };
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut value = |v: Option<&str>| v.map(&mut *expand).unwrap_or_default();
    let destination = match api {
        InfluxApi::V1 => Destination::V1 {
            database: value(keys.database),
            retention_policy: keys.retention_policy.map(&mut *expand),
        },
        InfluxApi::V2 => Destination::V2 {
            org: value(keys.org),
            bucket: value(keys.bucket),
        },
        InfluxApi::V3 => Destination::V3 {
            database: value(keys.database),
        },
    };
    Ok(InfluxTarget {
        url,
        destination,
        token,
    })
}

/// What is wrong with an InfluxDB target's URL, said without its secrets:
/// not `http://` or `https://`, or with a query or fragment, which the
/// calls' own paths and parameters would garble (`…/?p=x/write?db=…`).
fn url_problem(url: &Endpoint) -> Option<kind::ConfigInvalid> {
    if url.is_http() && !url.has_query_or_fragment() {
        return None;
    }
    Some(if url.has_query_or_fragment() {
        kind::ConfigInvalid {
            message: format!("`{url}`: an InfluxDB `url` takes no query or fragment"),
            suggestion: Some(
                "write the server's address alone, such as `http://127.0.0.1:8086`: each call adds its own path and parameters; credentials go in the variable `token_env` names"
                    .into(),
            ),
        }
    } else {
        kind::ConfigInvalid {
            message: format!("`{url}` is not an http:// or https:// URL"),
            suggestion: Some(
                "write the server's address with its scheme, such as `http://127.0.0.1:8086`"
                    .into(),
            ),
        }
    })
}
