//! A [`PlanDiff`] as text (a terminal, `plan --check`) or markdown (a PR
//! comment): the scenario's changes first, then the effect on series in
//! aggregate, examples with their old and new sparklines one above the
//! other, and the rest folded. Within [`Limits::REVIEW`] every line stays
//! short and the markdown under [`Limits::budget`] characters; what does
//! not fit is counted and left to `--full FILE` ([`Limits::FULL`]).

use super::words::{clip, code, delta, number};
use super::{Change, Detail, MeasureChange, PlanDiff, SeriesChange, SeriesEffect};

pub(crate) struct Limits {
    /// Characters of one value (a model, a series key) before it is cut.
    value: usize,
    /// Elements of one list shown (a step's series, an anomaly's).
    list: usize,
    /// Changed series shown one by one; past this, examples and a fold.
    series: usize,
    /// Characters of the whole markdown.
    budget: usize,
}

impl Limits {
    pub(crate) const REVIEW: Limits = Limits {
        value: 150,
        list: 10,
        series: 20,
        budget: 60_000 - 2_000,
    };
    pub(crate) const FULL: Limits = Limits {
        value: usize::MAX,
        list: usize::MAX,
        series: usize::MAX,
        budget: usize::MAX,
    };
}

/// A fold's last line: what was left out and where to find it.
fn more(count: usize, what: &str) -> String {
    format!("… {count} more {what}; `outatime diff OLD NEW --full FILE` writes every one")
}

fn count_change(old: u64, new: u64) -> String {
    if old == new {
        format!("{new} (unchanged)")
    } else {
        format!("{old} → {new} ({:+})", new as i128 - old as i128)
    }
}

fn series_headline(effect: &SeriesEffect) -> String {
    format!(
        "{} changed, {} added, {} removed ({} → {} series)",
        effect.changed.len(),
        effect.added.len(),
        effect.removed.len(),
        effect.totals.0,
        effect.totals.1
    )
}

/// A detail as lines, each with its depth (0: the field, 1: under it);
/// a long `old → new` puts `new` under `old`. Values go through `quote`
/// (code spans in markdown).
fn detail_lines(
    detail: &Detail,
    limits: &Limits,
    quote: &dyn Fn(&str) -> String,
) -> Vec<(usize, String)> {
    let value = |v: &str| quote(&clip(v, limits.value));
    let list = |lines: &mut Vec<(usize, String)>, items: Vec<(&str, &String)>| {
        let total = items.len();
        for (sign, item) in items.into_iter().take(limits.list) {
            let sign = if sign.is_empty() {
                String::new()
            } else {
                format!("{} ", quote(sign))
            };
            lines.push((1, format!("{sign}{}", value(item))));
        }
        if total > limits.list {
            lines.push((1, format!("… {} more", total - limits.list)));
        }
    };
    match detail {
        Detail::Field { name, value: v } => vec![(0, format!("{name}: {}", value(v)))],
        Detail::Changed { name, old, new } => {
            let change = match (old.parse::<i128>(), new.parse::<i128>()) {
                (Ok(a), Ok(b)) => format!(" ({:+})", b - a),
                _ => String::new(),
            };
            let line = format!("{name}: {} → {}{change}", value(old), value(new));
            if line.chars().count() <= limits.value.saturating_add(20) {
                vec![(0, line)]
            } else {
                vec![
                    (0, format!("{name}: {}", value(old))),
                    (1, format!("→ {}", value(new))),
                ]
            }
        }
        Detail::Items { name, items } => {
            let mut lines = vec![(0, format!("{name}: {}", items.len()))];
            list(&mut lines, items.iter().map(|x| ("", x)).collect());
            lines
        }
        Detail::List {
            name,
            added,
            removed,
        } => {
            if added.is_empty() && removed.is_empty() {
                return vec![(0, format!("{name}: the same elements in another order"))];
            }
            let mut lines = vec![(
                0,
                format!("{name}: {} added, {} removed", added.len(), removed.len()),
            )];
            let items = removed
                .iter()
                .map(|x| ("-", x))
                .chain(added.iter().map(|x| ("+", x)))
                .collect();
            list(&mut lines, items);
            lines
        }
    }
}

/// What changed in one measure of one series, and its sparklines.
fn measure_lines(m: &MeasureChange) -> Vec<String> {
    let (old, new) = (m.old.as_ref(), m.new.as_ref());
    let mut parts = Vec::new();
    match (old, new) {
        (None, Some(n)) => parts.push(format!("added, {} values", n.count)),
        (Some(o), None) => parts.push(format!("removed, {} values", o.count)),
        _ => {}
    }
    if let (Some(o), Some(n)) = (old, new) {
        if o.count != n.count {
            parts.push(format!("count {} → {}", o.count, n.count));
        }
        for (name, a, b) in [
            ("mean", o.mean, n.mean),
            ("min", o.min, n.min),
            ("max", o.max, n.max),
        ] {
            match (a, b) {
                (Some(a), Some(b)) if a != b => {
                    let change = if name == "mean" {
                        format!(" ({})", delta(b - a))
                    } else {
                        String::new()
                    };
                    parts.push(format!("{name} {} → {}{change}", number(a), number(b)));
                }
                _ => {}
            }
        }
        if o.true_count != n.true_count {
            let words = |x: Option<u64>| x.map_or("(none)".into(), |x| x.to_string());
            parts.push(format!(
                "true {} → {}",
                words(o.true_count),
                words(n.true_count)
            ));
        }
    }
    if parts.is_empty() {
        parts.push("shape only".into());
    }
    let mut lines = vec![format!("{}: {}", m.name, parts.join(" · "))];
    let line = |s: Option<&crate::plan::MeasureSummary>| {
        s.and_then(|s| s.sparkline.clone())
            .unwrap_or_else(|| "(none)".into())
    };
    if old.and_then(|s| s.sparkline.as_ref()).is_some()
        || new.and_then(|s| s.sparkline.as_ref()).is_some()
    {
        lines.push(format!("  old {}", line(old)));
        lines.push(format!("  new {}", line(new)));
    }
    lines
}

/// One changed series: its key, then what changed, indented.
fn series_lines(s: &SeriesChange, limits: &Limits) -> Vec<String> {
    let mut lines = vec![format!("~ {}", clip(&s.key, limits.value))];
    if s.records.0 != s.records.1 {
        lines.push(format!(
            "    records {}",
            count_change(s.records.0, s.records.1)
        ));
    }
    for (name, (a, b)) in [("first", &s.first), ("last", &s.last)] {
        if a != b {
            lines.push(format!("    {name} {a} → {b}"));
        }
    }
    for m in &s.measures {
        lines.extend(measure_lines(m).into_iter().map(|l| format!("    {l}")));
    }
    lines
}

fn effect_lines(effect: &SeriesEffect) -> Vec<String> {
    effect
        .measures
        .iter()
        .map(|m| {
            let spread = match m.mean_delta {
                Some((lo, mid, hi)) if m.name == "records" => {
                    format!(
                        "; records {} .. {} (median {})",
                        delta(lo),
                        delta(hi),
                        delta(mid)
                    )
                }
                Some((lo, mid, hi)) => format!(
                    "; mean {} .. {} (median {})",
                    delta(lo),
                    delta(hi),
                    delta(mid)
                ),
                None => String::new(),
            };
            format!("{}: {} series{spread}", m.name, m.series)
        })
        .collect()
}

/// The changed series to show one by one: all when few, else the examples.
fn shown(effect: &SeriesEffect, limits: &Limits) -> (Vec<usize>, bool) {
    if effect.changed.len() <= limits.series {
        ((0..effect.changed.len()).collect(), false)
    } else {
        (effect.examples.clone(), true)
    }
}

pub(super) fn text(diff: &PlanDiff, limits: &Limits) -> String {
    if diff.is_empty() {
        return "no changes\n".into();
    }
    let mut out = String::new();
    if !diff.scenario.is_empty() {
        out.push_str("scenario\n");
        for change in &diff.scenario {
            out.push_str(&format!("  {}\n", change_title(change, limits, false)));
            for detail in &change.details {
                for (depth, line) in detail_lines(detail, limits, &|v| v.to_string()) {
                    out.push_str(&format!("      {}{line}\n", "  ".repeat(depth)));
                }
            }
        }
    }
    let effect = &diff.series;
    if !effect.is_empty() {
        out.push_str(&format!("series: {}\n", series_headline(effect)));
        for line in effect_lines(effect) {
            out.push_str(&format!("  {line}\n"));
        }
        let (indexes, examples) = shown(effect, limits);
        if examples {
            out.push_str("  the largest changes:\n");
        }
        for i in &indexes {
            for line in series_lines(&effect.changed[*i], limits) {
                out.push_str(&format!("  {line}\n"));
            }
        }
        if effect.changed.len() > indexes.len() {
            let left = effect.changed.len() - indexes.len();
            out.push_str(&format!("  {}\n", more(left, "changed series")));
        }
        for (sign, list) in [('+', &effect.added), ('-', &effect.removed)] {
            for (key, records) in list.iter().take(limits.series) {
                out.push_str(&format!(
                    "  {sign} {}: {records} records\n",
                    clip(key, limits.value)
                ));
            }
            if list.len() > limits.series {
                let what = if sign == '+' { "added" } else { "removed" };
                let left = list.len() - limits.series;
                out.push_str(&format!("  {}\n", more(left, &format!("{what} series"))));
            }
        }
    }
    out.push_str(&format!(
        "records: {}\n",
        count_change(diff.records.0, diff.records.1)
    ));
    out
}

/// `~ step generate into devices`, the key as code in markdown.
fn change_title(change: &Change, limits: &Limits, markdown: bool) -> String {
    let key = clip(&change.key, limits.value);
    let key = if markdown { code(&key) } else { key };
    let sign = change.marker.sign();
    let sign = if markdown {
        format!("`{sign}`")
    } else {
        sign.to_string()
    };
    format!("{sign} {} {key}", change.part.word())
}

pub(super) fn markdown(diff: &PlanDiff, limits: &Limits) -> String {
    if diff.is_empty() {
        return "**outatime plan**: no changes\n".into();
    }
    let effect = &diff.series;
    let mut out = format!(
        "**outatime plan**: records {} · series {}\n",
        count_change(diff.records.0, diff.records.1),
        series_headline(effect)
    );
    if !diff.scenario.is_empty() {
        out.push_str("\n#### What changed in the scenario\n\n");
        // The scenario's changes take at most half the room.
        let room = limits.budget / 2;
        for (n, change) in diff.scenario.iter().enumerate() {
            if out.len() > room {
                out.push_str(&format!("- {}\n", more(diff.scenario.len() - n, "changes")));
                break;
            }
            out.push_str(&format!("- {}\n", change_title(change, limits, true)));
            for detail in &change.details {
                for (depth, line) in detail_lines(detail, limits, &code) {
                    out.push_str(&format!("{}- {line}\n", "  ".repeat(depth + 1)));
                }
            }
        }
    }
    if effect.is_empty() {
        return out;
    }
    out.push_str("\n#### Effect on series\n\n");
    if !effect.measures.is_empty() {
        out.push_str(
            "| measure | series changed | change of the mean (of the count for `records`): lowest .. highest (median) |\n|---|---:|---|\n",
        );
        for m in &effect.measures {
            let spread = m.mean_delta.map_or(String::new(), |(lo, mid, hi)| {
                format!("{} .. {} ({})", delta(lo), delta(hi), delta(mid))
            });
            out.push_str(&format!(
                "| {} | {} | {spread} |\n",
                code(&clip(&m.name, limits.value)),
                m.series
            ));
        }
        out.push('\n');
    }
    let (indexes, examples) = shown(effect, limits);
    if !indexes.is_empty() {
        out.push_str(if examples {
            "The largest changes, old and new shape one above the other:\n\n```text\n"
        } else {
            "Old and new shape one above the other:\n\n```text\n"
        });
        for i in &indexes {
            for line in series_lines(&effect.changed[*i], limits) {
                out.push_str(&line);
                out.push('\n');
            }
        }
        out.push_str("```\n");
    }
    // What is left, folded, as far as the budget goes.
    let reserve = 1_000;
    if examples {
        let title = format!("All {} changed series", effect.changed.len());
        let lines = effect.changed.iter().map(|s| series_lines(s, limits));
        fold(
            &mut out,
            &title,
            lines,
            "changed series",
            limits.budget - reserve,
        );
    }
    for (sign, list, what) in [
        ('+', &effect.added, "added series"),
        ('-', &effect.removed, "removed series"),
    ] {
        if list.is_empty() {
            continue;
        }
        let title = format!("{} {what}", list.len());
        let lines = list.iter().map(|(key, records)| {
            vec![format!(
                "{sign} {}: {records} records",
                clip(key, limits.value)
            )]
        });
        fold(&mut out, &title, lines, what, limits.budget - reserve / 2);
    }
    out
}

/// A `<details>` block of entries (each some lines) in a code block, as
/// many as keep `out` under `budget`, then a count of the rest.
fn fold(
    out: &mut String,
    title: &str,
    entries: impl ExactSizeIterator<Item = Vec<String>>,
    what: &str,
    budget: usize,
) {
    let total = entries.len();
    out.push_str(&format!(
        "\n<details><summary>{title}</summary>\n\n```text\n"
    ));
    let mut written = 0;
    for lines in entries {
        let size: usize = lines.iter().map(|l| l.len() + 1).sum();
        if out.len() + size + 200 > budget {
            break;
        }
        for line in lines {
            out.push_str(&line);
            out.push('\n');
        }
        written += 1;
    }
    out.push_str("```\n");
    if written < total {
        out.push_str(&format!("\n{}\n", more(total - written, what)));
    }
    out.push_str("\n</details>\n");
}
