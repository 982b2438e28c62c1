//! Names written back as the language reads them: bare when they are
//! identifiers, quoted otherwise. For text meant to be pasted into a
//! scenario (`capture`'s source blocks) or read beside one (`check
//! --explain`).

/// Words the language reads as something else where it expects a column.
pub(crate) const RESERVED: [&str; 6] = ["as", "false", "from", "now", "true", "value"];

/// A column as the language names it: bare when it is an identifier, else
/// quoted (`"measure_value::double"`, `"device-id"`).
pub(crate) fn column_name(name: &str) -> String {
    let mut chars = name.chars();
    let identifier = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if identifier && !RESERVED.contains(&name) {
        return name.to_string();
    }
    string_literal(name)
}

/// Text as a string literal of the language: in double quotes, with only
/// what must be escaped escaped (`"UNLOAD's day"`, `"say \"hi\""`), so
/// that it reads as written and can be pasted back into a scenario.
pub(crate) fn string_literal(text: &str) -> String {
    let mut quoted = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            '\t' => quoted.push_str("\\t"),
            c if c.is_control() => quoted.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

/// A column and the name the table gives it: `column`, or `column as
/// name` when `as` renames it (each quoted when it must be).
pub(crate) fn renamed(column: &str, name: &str) -> String {
    if column == name {
        column_name(column)
    } else {
        format!("{} as {}", column_name(column), column_name(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rename_shows_both_names_quoted_when_they_must_be() {
        assert_eq!(renamed("site", "site"), "site");
        assert_eq!(
            renamed("device-id", "device_id"),
            "\"device-id\" as device_id"
        );
        assert_eq!(renamed("t", "value (raw)"), "t as \"value (raw)\"");
        assert_eq!(renamed("from", "from"), "\"from\"");
    }

    #[test]
    fn a_string_literal_escapes_only_what_the_language_must() {
        assert_eq!(string_literal("UNLOAD's day"), "\"UNLOAD's day\"");
        assert_eq!(string_literal("say \"hi\""), "\"say \\\"hi\\\"\"");
        assert_eq!(string_literal("a\\b\tc"), "\"a\\\\b\\tc\"");
        assert_eq!(string_literal("Zürich ☃"), "\"Zürich ☃\"");
    }
}
