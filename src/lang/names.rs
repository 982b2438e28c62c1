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
    let mut quoted = String::from("\"");
    for c in name.chars() {
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
}
