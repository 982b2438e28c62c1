//! Values as a reviewer reads them: numbers to four significant digits,
//! long values cut in the middle, series by their dimensions.

use std::collections::BTreeMap;

/// Significant digits of the statistics a diff shows.
const DIGITS: i32 = 4;

/// A JSON value as text: strings bare, a mapping `{key="text", n=2}`, the
/// rest compact JSON.
pub(super) fn json(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "(none)".into(),
        serde_json::Value::Object(map) => {
            let parts: Vec<String> = map
                .iter()
                .map(|(k, v)| match v {
                    serde_json::Value::String(s) => format!("{k}={s:?}"),
                    other => format!("{k}={other}"),
                })
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        other => other.to_string(),
    }
}

/// `{device="sim-0001", site="lab"}`.
pub(super) fn dimensions(dims: &BTreeMap<String, String>) -> String {
    let parts: Vec<String> = dims.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    format!("{{{}}}", parts.join(", "))
}

/// `2.436`, `96.46`, `0.0001235`, `1.235e7`: four significant digits,
/// trailing zeros dropped. Rust's float formatting rounds exactly, so the
/// same number always reads the same.
pub(super) fn number(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return if x == 0.0 { "0".into() } else { x.to_string() };
    }
    let magnitude = x.abs().log10().floor() as i32;
    if !(-5..=9).contains(&magnitude) {
        let text = format!("{:.*e}", (DIGITS - 1) as usize, x);
        return match text.split_once('e') {
            Some((mantissa, exponent)) => format!("{}e{exponent}", trimmed(mantissa)),
            None => text,
        };
    }
    let decimals = (DIGITS - 1 - magnitude).max(0) as usize;
    trimmed(&format!("{x:.decimals$}")).to_string()
}

/// `+0.9990`-style: a change with its sign.
pub(super) fn delta(x: f64) -> String {
    let text = number(x);
    if x > 0.0 { format!("+{text}") } else { text }
}

fn trimmed(text: &str) -> &str {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        text
    }
}

/// At most `limit` characters: a longer value keeps its start and end
/// with `…` between, so both the name and the tail of a model show.
pub(super) fn clip(text: &str, limit: usize) -> String {
    let count = text.chars().count();
    if count <= limit {
        return text.to_string();
    }
    let head = limit.saturating_sub(1) * 2 / 3;
    let tail = limit.saturating_sub(1) - head;
    let start: String = text.chars().take(head).collect();
    let end: String = text.chars().skip(count - tail).collect();
    format!("{start}…{end}")
}

/// An inline code span that holds any text.
pub(super) fn code(text: &str) -> String {
    if text.contains('`') {
        format!("`` {text} ``")
    } else {
        format!("`{text}`")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_four_significant_digits() {
        let cases = [
            (2.4355461074177245, "2.436"),
            (96.46428571428571, "96.46"),
            (96.5, "96.5"),
            (840000.0, "840000"),
            (0.000123456, "0.0001235"),
            (-0.0668096013539432, "-0.06681"),
            (1.5e12, "1.5e12"),
            (0.0, "0"),
        ];
        for (x, words) in cases {
            assert_eq!(number(x), words, "{x}");
        }
        assert_eq!(delta(0.999), "+0.999");
        assert_eq!(delta(-2.0), "-2");
    }

    #[test]
    fn long_values_are_cut_in_the_middle() {
        let long = "a".repeat(100) + "END";
        let cut = clip(&long, 30);
        assert_eq!(cut.chars().count(), 30);
        assert!(cut.ends_with("END") && cut.contains('…'), "{cut}");
        assert_eq!(clip("short", 30), "short");
    }
}
