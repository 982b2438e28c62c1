//! `outatime.yaml`: its shape, the keys a target's API needs or does not
//! use, and the environment variables it names.

use super::facts::Facts;

/// `outatime.yaml` with `directry: out` (a YAML or shape problem).
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigInvalid {
    pub message: String,
    pub suggestion: Option<String>,
}

impl Facts for ConfigInvalid {
    const CODE: &'static str = "config::invalid";

    fn message(&self) -> String {
        self.message.clone()
    }

    fn help(&self) -> Option<String> {
        self.suggestion.clone()
    }
}

/// `api: v1` with `bucket: e2e`: a key the target's API does not use.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigKeyNotForApi {
    pub key: String,
    pub api: String,
    pub instead: String,
}

impl Facts for ConfigKeyNotForApi {
    const CODE: &'static str = "config::key_not_for_api";

    fn message(&self) -> String {
        format!(
            "`{}` is not used by an InfluxDB `api: {}` target",
            self.key, self.api
        )
    }

    fn label(&self) -> String {
        format!("not used with `api: {}`", self.api)
    }

    fn help(&self) -> Option<String> {
        Some(format!("remove `{}`; {}", self.key, self.instead))
    }
}

/// `api: v2` without `org:`: a key the target's API needs.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigMissingKey {
    pub key: String,
    pub api: String,
    pub example: String,
}

impl Facts for ConfigMissingKey {
    const CODE: &'static str = "config::missing_key";

    fn message(&self) -> String {
        format!(
            "an InfluxDB `api: {}` target needs `{}`",
            self.api, self.key
        )
    }

    fn label(&self) -> String {
        format!("this API needs `{}`", self.key)
    }

    fn help(&self) -> Option<String> {
        Some(format!(
            "add `{}: {}` under the target",
            self.key, self.example
        ))
    }
}

/// `directory: out/${RUN_ID}` with `RUN_ID` not set.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigUnsetVariable {
    pub name: String,
}

impl Facts for ConfigUnsetVariable {
    const CODE: &'static str = "config::unset_variable";

    fn message(&self) -> String {
        format!("environment variable `{}` is not set", self.name)
    }

    fn help(&self) -> Option<String> {
        Some(format!(
            "set it (`export {}=...`), or write the value into the file",
            self.name
        ))
    }
}
