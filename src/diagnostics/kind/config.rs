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

/// `token_env: "abcTOKENVALUEpasted=="`: not the name of a variable, and
/// perhaps the token itself. Its value is not repeated: not in the
/// message, and not in the lines drawn (`targets::config` masks it).
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigTokenEnvNotAName;

impl Facts for ConfigTokenEnvNotAName {
    const CODE: &'static str = "config::token_env_not_a_name";

    fn message(&self) -> String {
        "`token_env` takes the name of the environment variable that holds the token, and this value is not a name (not shown: it may be the token itself)".into()
    }

    fn label(&self) -> String {
        "not a variable's name".into()
    }

    fn help(&self) -> Option<String> {
        Some(
            "put the token in an environment variable and name that here, such as `token_env: INFLUX_TOKEN`; if this was the token, revoke it: it is in the file's history"
                .into(),
        )
    }
}

/// `token_env: INFLUX_TOKEN` with `INFLUX_TOKEN` not set.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigTokenEnvUnset {
    pub name: String,
}

impl Facts for ConfigTokenEnvUnset {
    const CODE: &'static str = "config::token_env_unset";

    fn message(&self) -> String {
        format!(
            "environment variable `{}` (the target's `token_env`) is not set",
            self.name
        )
    }

    fn help(&self) -> Option<String> {
        Some(format!(
            "set it to the token (`export {}=...`); the token is read from the environment only, never from this file",
            self.name
        ))
    }
}
