//! Places in `outatime.yaml`'s text: a target's block of lines, its name,
//! one of its keys. Read from the text the user wrote (YAML values carry no
//! places), so that a diagnostic points at the line to change.

use crate::diagnostics::Span;

/// The target's own key in `targets:` (`influx:`), or the file's start.
pub(super) fn target_span(text: &str, name: &str) -> Span {
    target_block(text, name)
        .map(|(start, _)| {
            let line = &text[start..];
            let indent = line.len() - line.trim_start().len();
            Span::new(start + indent, start + indent + name.len())
        })
        .unwrap_or_default()
}

/// `key` among the target's keys, where the target's block of lines has it.
pub(super) fn key_span(text: &str, name: &str, key: &str) -> Option<Span> {
    let (start, end) = target_block(text, name)?;
    let mut at = start;
    for line in text[start..end].split_inclusive('\n') {
        let trimmed = line.trim_start();
        if trimmed.starts_with(&format!("{key}:")) {
            let from = at + line.len() - trimmed.len();
            return Some(Span::new(from, from + key.len()));
        }
        at += line.len();
    }
    None
}

/// The byte range of the lines that define target `name`: its own line
/// under `targets:` and the more indented lines after it.
fn target_block(text: &str, name: &str) -> Option<(usize, usize)> {
    let targets = text.find("targets:")?;
    let mut at = targets;
    let mut block: Option<(usize, usize)> = None;
    for line in text[targets..].split_inclusive('\n') {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let blank = trimmed.trim().is_empty() || trimmed.starts_with('#');
        match block {
            None => {
                // `influx:`, `"influx":` or `'influx':`
                let key = trimmed.trim_start_matches(['"', '\'']);
                let after = key.strip_prefix(name).unwrap_or("");
                let named = key.len() > after.len()
                    && after.trim_start_matches(['"', '\'']).starts_with(':');
                if indent > 0 && named {
                    block = Some((at, indent));
                }
            }
            Some((start, own)) => {
                if !blank && indent <= own {
                    return Some((start, at));
                }
            }
        }
        at += line.len();
    }
    block.map(|(start, _)| (start, text.len()))
}

/// The first `needle` in `text`.
pub(super) fn find(text: &str, needle: &str) -> Option<Span> {
    text.find(needle).map(|i| Span::new(i, i + needle.len()))
}
