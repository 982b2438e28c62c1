//! `outatime.yaml` as a diagnostic may draw it: with the secrets it holds
//! masked. A diagnostic draws the lines around the key it points at, and
//! those may be a URL's password or a token pasted where a variable's
//! name belongs. Each secret byte becomes `*`, so that the text keeps its
//! length and every span still points where it did.
//!
//! Found in the text, not in the parsed values, so that a file that does
//! not parse is masked too:
//! - every `scheme://…` in the file (a value or a comment), up to a blank
//!   or a quote: its [`secret_ranges`];
//! - the value of every `url:` and `endpoint_url:` key, which may lack the
//!   scheme (`admin:PASS@host:8086`): its [`secret_ranges`];
//! - the value of every `token_env:` key that is not a variable's name;
//! - the value of every key whose name looks secret (`token:`,
//!   `password:`: not keys outatime reads, but where a token is pasted by
//!   mistake, and an unknown key's error draws its line);
//! - for each of these keys, a value on the lines below the key
//!   (`url:\n  admin:PASS@host`), not only on its own line.

use std::ops::Range;

use crate::targets::endpoint::{secret_name, secret_ranges};

/// `text` with every secret's bytes as `*`.
pub(super) fn masked(text: &str) -> String {
    let mut ranges = Vec::new();
    for url in urls(text) {
        ranges.extend(shifted(secret_ranges(&text[url.clone()]), url.start));
    }
    for key in ["url", "endpoint_url"] {
        for value in values_of(text, key) {
            ranges.extend(shifted(secret_ranges(&text[value.clone()]), value.start));
        }
    }
    ranges.extend(values_of(text, "token_env").filter(|v| !is_variable_name(&text[v.clone()])));
    for (key, value) in block_values(text) {
        match key {
            "url" | "endpoint_url" => {
                ranges.extend(shifted(secret_ranges(&text[value.clone()]), value.start));
            }
            "token_env" if is_variable_name(&text[value.clone()]) => {}
            "token_env" => ranges.push(value),
            _ if secret_name(key) => ranges.push(value),
            _ => {}
        }
    }
    let mut bytes = text.as_bytes().to_vec();
    for range in ranges {
        bytes[range].fill(b'*');
    }
    // Every range starts and ends at a character's boundary and all of
    // its bytes became `*`: the text is still UTF-8.
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Whether `text` can name an environment variable: a letter or `_`, then
/// letters, digits and `_`. A token (`abcTOKEN…==`) cannot.
pub(crate) fn is_variable_name(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn shifted(ranges: Vec<Range<usize>>, by: usize) -> impl Iterator<Item = Range<usize>> {
    ranges.into_iter().map(move |r| r.start + by..r.end + by)
}

/// Every `scheme://…` in `text`, up to a blank or a quote.
fn urls(text: &str) -> impl Iterator<Item = Range<usize>> + '_ {
    text.match_indices("://").map(|(at, _)| {
        let start = text[..at]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
            .map_or(0, |i| i + 1);
        let end = text[at..]
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '`'))
            .map_or(text.len(), |i| at + i);
        start..end
    })
}

/// The value of each `key:` in `text`, inside its quotes if it has them:
/// a block mapping's (`key: value`, to the line's end or a comment) or a
/// flow mapping's (`{ key: value, … }`, to a `,` or `}` as well).
fn values_of<'t>(text: &'t str, key: &'t str) -> impl Iterator<Item = Range<usize>> + 't {
    let mut line_start = 0;
    text.split_inclusive('\n').flat_map(move |line| {
        let offset = line_start;
        line_start += line.len();
        line.match_indices(key).filter_map(move |(at, _)| {
            let starts_key = line[..at]
                .chars()
                .next_back()
                .is_none_or(|c| c.is_whitespace() || matches!(c, '{' | ',' | '"' | '\''));
            if !starts_key {
                return None;
            }
            let after = line[at + key.len()..]
                .strip_prefix(['"', '\''])
                .unwrap_or(&line[at + key.len()..]);
            let after = after.trim_start_matches([' ', '\t']).strip_prefix(':')?;
            if !(after.is_empty() || after.starts_with(char::is_whitespace)) {
                return None;
            }
            let value = after.trim_start_matches([' ', '\t']);
            let start = line.len() - value.len();
            let flow = line[..at].contains('{');
            let inner = scalar(value, flow);
            Some(offset + start + inner.start..offset + start + inner.end)
        })
    })
}

/// Each block mapping's key (`  key: value`, `- key: value`, quoted or
/// not) with its value: on the key's line, or when nothing but a comment
/// follows the key there, each more indented line below it (a plain
/// scalar continued: `key:\n  value`).
fn block_values(text: &str) -> Vec<(&str, Range<usize>)> {
    let mut lines = Vec::new();
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        lines.push((start, line));
        start += line.len();
    }
    let indent = |line: &str| line.len() - line.trim_start_matches([' ', '-']).len();
    let blank = |line: &str| {
        let t = line.trim();
        t.is_empty() || t.starts_with('#')
    };
    let mut found = Vec::new();
    for (n, &(offset, line)) in lines.iter().enumerate() {
        let body = line.trim_start_matches([' ', '-', '\t']);
        let (key, rest) = match body.strip_prefix(['"', '\'']) {
            Some(quoted) => match quoted.find(['"', '\'']) {
                Some(end) => (&quoted[..end], &quoted[end + 1..]),
                None => continue,
            },
            None => match body.find(':') {
                Some(end) => (&body[..end], &body[end..]),
                None => continue,
            },
        };
        if key.is_empty()
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            continue;
        }
        let Some(after) = rest.trim_start_matches([' ', '\t']).strip_prefix(':') else {
            continue;
        };
        if !(after.is_empty() || after.starts_with(char::is_whitespace)) {
            continue;
        }
        let value = after.trim_start_matches([' ', '\t']);
        let value_at = offset + line.len() - value.len();
        let own = scalar(value, false);
        if !own.is_empty() {
            found.push((key, value_at + own.start..value_at + own.end));
            continue;
        }
        let key_indent = indent(line);
        for &(below_at, below) in &lines[n + 1..] {
            if blank(below) {
                continue;
            }
            if indent(below) <= key_indent {
                break;
            }
            let content = below.trim_start_matches([' ', '\t']);
            let content_at = below_at + below.len() - content.len();
            let inner = scalar(content, false);
            found.push((key, content_at + inner.start..content_at + inner.end));
        }
    }
    found
}

/// The range of a scalar at the start of `value` (the rest of its line):
/// inside its quotes when quoted, else to the line's end, a comment, or in
/// a flow mapping a `,` or `}`; trailing blanks left out.
fn scalar(value: &str, flow: bool) -> Range<usize> {
    let line_end = value.find(['\n', '\r']).unwrap_or(value.len());
    match value.chars().next() {
        Some(quote @ ('"' | '\'')) => {
            let inside = &value[1..line_end];
            let mut end = inside.len();
            let mut escaped = false;
            for (i, c) in inside.char_indices() {
                if quote == '"' && c == '\\' && !escaped {
                    escaped = true;
                    continue;
                }
                if c == quote && !escaped {
                    end = i;
                    break;
                }
                escaped = false;
            }
            1..1 + end
        }
        _ => {
            let plain = &value[..line_end];
            let mut end = plain.len();
            if let Some(i) = plain.find(" #").or_else(|| plain.find("\t#")) {
                end = end.min(i);
            }
            if flow && let Some(i) = plain.find([',', '}']) {
                end = end.min(i);
            }
            0..plain[..end].trim_end().len()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_keys_and_values_below_their_key_are_masked() {
        let text = "targets:\n  influx:\n    kind: influxdb\n    token: abcSECRET==\n    \"password\": hunter2\n    url:\n      admin:PASSBELOW@h:8086\n    token_env:\n      abcPASTED==\n  other:\n    token_env:\n      INFLUX_TOKEN\n    database: kept\n";
        let shown = masked(text);
        assert_eq!(shown.len(), text.len());
        for secret in ["abcSECRET==", "hunter2", "PASSBELOW", "abcPASTED=="] {
            assert!(!shown.contains(secret), "{secret} in\n{shown}");
        }
        assert!(shown.contains("      admin:*********@h:8086\n"), "{shown}");
        assert!(shown.contains("      INFLUX_TOKEN\n"), "{shown}");
        assert!(shown.contains("database: kept"), "{shown}");
        assert!(shown.contains("    kind: influxdb\n"), "{shown}");
    }

    #[test]
    fn passwords_secret_parameters_and_pasted_tokens_are_masked_in_place() {
        let text = "targets:\n  influx:\n    kind: influxdb\n    url: http://admin:PASS@127.0.0.1:8086\n    token_env: \"abcTOKENVALUEpasted==\"\n  ts: { kind: timestream, endpoint_url: 'http://127.0.0.1:5077/?p=SECRETQ', database: x }\n  bare: { url: admin:PW@h:8086, token_env: TOKENISH== }\n  named:\n    token_env: INFLUX_TOKEN # a name\n# old: https://u:OLDPASS@h\n";
        let shown = masked(text);
        assert_eq!(shown.len(), text.len());
        for secret in [
            "PASS",
            "abcTOKENVALUEpasted==",
            "SECRETQ",
            "PW",
            "TOKENISH==",
            "OLDPASS",
        ] {
            assert!(!shown.contains(secret), "{secret} in\n{shown}");
        }
        assert!(
            shown.contains("url: http://admin:****@127.0.0.1:8086\n"),
            "{shown}"
        );
        assert!(
            shown.contains("token_env: \"*********************\"\n"),
            "{shown}"
        );
        assert!(shown.contains("/?p=*******'"), "{shown}");
        assert!(
            shown.contains("{ url: admin:**@h:8086, token_env: ********** }"),
            "{shown}"
        );
        assert!(
            shown.contains("token_env: INFLUX_TOKEN # a name"),
            "{shown}"
        );
        assert!(shown.contains("https://u:*******@h"), "{shown}");
        // Nothing else changed.
        let kept = |s: &str| s.chars().filter(|c| *c != '*').count();
        assert!(kept(&shown) < kept(text));
        assert_eq!(
            masked("targets:\n  local:\n    kind: file\n"),
            "targets:\n  local:\n    kind: file\n"
        );
    }

    #[test]
    fn variable_names() {
        for name in ["INFLUX_TOKEN", "_x", "a1"] {
            assert!(is_variable_name(name), "{name}");
        }
        for text in [
            "",
            "1A",
            "abcTOKENVALUEpasted==",
            "${INFLUX_TOKEN}",
            "A-B",
            "a b",
        ] {
            assert!(!is_variable_name(text), "{text}");
        }
    }
}
