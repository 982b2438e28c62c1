//! What `outatime test` and `outatime expect` leave: a line an
//! expectation, a JUnit XML file CI systems draw, and a JSON report with
//! the notifications received.

use super::receiver::Notification;
use super::{Outcome, Verdict};

/// `pass  cargo too warm (line 53): value 1, expected >= 1 · 12.4 s, 3 questions`.
pub(crate) fn line(o: &Outcome) -> String {
    let word = match o.verdict {
        Verdict::Pass => "pass",
        Verdict::Fail => "FAIL",
        Verdict::Unreadable => "ERROR",
        Verdict::Interrupted => "STOP",
    };
    format!(
        "{word:<5} {} (line {}): {} · after {:.1} s, {} question{}\n",
        o.title,
        o.line,
        o.message,
        o.seconds,
        o.attempts,
        if o.attempts == 1 { "" } else { "s" }
    )
}

/// The details a failure carries: its query, window and deadline.
fn details(o: &Outcome) -> String {
    let mut text = format!("{}\n", o.message);
    if let Some(q) = &o.query {
        text.push_str(&format!("query: {q}\n"));
    }
    if let Some([from, to]) = &o.window {
        text.push_str(&format!("window: {from} .. {to}\n"));
    }
    if !o.reference.is_empty() {
        text.push_str(&format!(
            "asked from {} until {} ({} questions)\n",
            o.reference, o.deadline, o.attempts
        ));
    }
    if let Some(v) = &o.observed {
        text.push_str(&format!("last value: {v}\n"));
    }
    text
}

/// JUnit XML: one test suite, one test case an expectation; a failure (or
/// an error, for a target that could not be read) with the query, window
/// and last value.
pub(crate) fn junit(suite: &str, file: &str, outcomes: &[Outcome]) -> String {
    let failures = outcomes
        .iter()
        .filter(|o| o.verdict == Verdict::Fail)
        .count();
    let errors = outcomes
        .iter()
        .filter(|o| matches!(o.verdict, Verdict::Unreadable | Verdict::Interrupted))
        .count();
    let time: f64 = outcomes.iter().map(|o| o.seconds).fold(0.0, f64::max);
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xml.push_str(&format!(
        "<testsuites name=\"outatime\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" time=\"{time:.3}\">\n",
        outcomes.len()
    ));
    xml.push_str(&format!(
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" time=\"{time:.3}\">\n",
        escape(suite),
        outcomes.len()
    ));
    for o in outcomes {
        xml.push_str(&format!(
            "    <testcase classname=\"{}\" name=\"{}\" file=\"{}\" line=\"{}\" time=\"{:.3}\"",
            escape(file),
            escape(&o.title),
            escape(file),
            o.line,
            o.seconds
        ));
        let tag = match o.verdict {
            Verdict::Pass => {
                xml.push_str("/>\n");
                continue;
            }
            Verdict::Fail => "failure",
            Verdict::Unreadable | Verdict::Interrupted => "error",
        };
        xml.push_str(&format!(
            ">\n      <{tag} message=\"{}\" type=\"{}\">{}</{tag}>\n    </testcase>\n",
            escape(&o.message),
            o.kind,
            escape(&details(o))
        ));
    }
    xml.push_str("  </testsuite>\n</testsuites>\n");
    xml
}

/// XML text and attribute values: `&`, `<`, `>`, quotes, and the control
/// characters XML 1.0 cannot hold dropped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\t' | '\r' => out.push(' '),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}

/// The JSON report: the anchor, each outcome, and every notification
/// received with the time it arrived.
pub(crate) fn json(
    anchor: &str,
    apply: Option<serde_json::Value>,
    outcomes: &[Outcome],
    received: &[Notification],
) -> serde_json::Value {
    let passed = outcomes
        .iter()
        .filter(|o| o.verdict == Verdict::Pass)
        .count();
    serde_json::json!({
        "anchor": anchor,
        "passed": passed,
        "failed": outcomes.len() - passed,
        "apply": apply,
        "expectations": outcomes,
        "received": received.iter().map(|n| serde_json::json!({
            "received_at": crate::record::time_string(n.received_at),
            "sender": n.sender,
            "payload": n.payload,
        })).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn junit_escapes_what_xml_cannot_hold() {
        assert_eq!(
            escape("a<b & \"c\"\n\u{1}"),
            "a&lt;b &amp; &quot;c&quot;&#10;"
        );
    }
}
