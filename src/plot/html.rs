//! `plot -o FILE.html`: the same panels as the SVG in one self-contained
//! page that pans and zooms. The panel model is written as one JSON blob
//! (each series merged onto a grid of [`COLUMNS`] time columns, so the
//! file's size is bounded whatever the record count), drawn in the page by
//! uPlot (vendored under `html/`, MIT) and a small script of ours
//! (`html/page.js`). Nothing is fetched: every script and style is inline,
//! and the page's Content-Security-Policy forbids any request.

use serde::Serialize;

use super::bins::{Bins, Cell};
use super::error::PlotError;
use super::model::{Panel, PlotData};
use crate::measure_type::MeasureType;

/// Time columns across the axis: a little more than the SVG's pixels, so
/// that zooming in shows more; the blob holds at most this many points (of
/// one to three values) a series.
pub(crate) const COLUMNS: usize = 1000;

/// uPlot 1.6.32 (MIT), from npm's `uplot` package, `dist/` unchanged.
const UPLOT_JS: &str = include_str!("html/uPlot.iife.min.js");
const UPLOT_CSS: &str = include_str!("html/uPlot.min.css");
const UPLOT_LICENSE: &str = include_str!("html/LICENSE-uPlot");
const PAGE_JS: &str = include_str!("html/page.js");
const PAGE_CSS: &str = include_str!("html/page.css");

/// What the page draws: [`PlotData`] with times in seconds (uPlot's unit)
/// and each series' cells merged into columns.
#[derive(Serialize)]
struct Blob<'a> {
    title: &'a str,
    /// Seconds since the epoch; unanchored, `0` (times are offsets).
    now: f64,
    anchored: bool,
    /// `now` as RFC 3339, when anchored.
    now_text: Option<String>,
    from: f64,
    to: f64,
    columns: usize,
    panels_left_out: usize,
    panels: Vec<PanelBlob<'a>>,
    /// The `expect` blocks' stretches of time, drawn on every panel.
    expectations: Vec<Window>,
}

#[derive(Serialize)]
struct PanelBlob<'a> {
    table: &'a str,
    measure: &'a str,
    #[serde(rename = "type")]
    ty: &'static str,
    records: u64,
    /// Named first, then thin, as in the SVG's legend.
    lines: Vec<LineBlob<'a>>,
    /// The series past the thin ones: their min/max band.
    rest: Option<RestBlob>,
    /// Varchar values by id (the id is what a varchar line's points hold).
    values: &'a [String],
    steps: Vec<Window>,
    anomalies: Vec<Window>,
}

#[derive(Serialize)]
struct LineBlob<'a> {
    name: &'a str,
    named: bool,
    /// `[column, v…]`: one value (a mean, a level, a varchar id) or two
    /// (min and max, the one nearer the column's last value second).
    points: Vec<Vec<f64>>,
    /// Columns after which the series has a gap (a dropout): the line
    /// stops there and starts again at its next point.
    gaps: Vec<usize>,
}

#[derive(Serialize)]
struct RestBlob {
    series: usize,
    /// `[column, min, max]`.
    points: Vec<[f64; 3]>,
}

/// A step's stretch or an anomaly's window, in seconds.
#[derive(Serialize)]
struct Window {
    kind: &'static str,
    line: usize,
    from: f64,
    to: f64,
}

fn seconds(nanos: i64) -> f64 {
    nanos as f64 / 1e9
}

/// Six significant digits: what a reader can tell apart, in few bytes.
fn round(v: f64) -> f64 {
    if !v.is_finite() || v == v.trunc() && v.abs() < 1e15 {
        return v;
    }
    format!("{v:.5e}").parse().unwrap_or(v)
}

/// A series' cells merged per column of `[from, to]`, in time order.
fn columns(bins: &Bins, from: i64, to: i64) -> Vec<(usize, Cell)> {
    let span = (to - from).max(1) as f64;
    let mut out: Vec<(usize, Cell)> = Vec::new();
    for (start, end, cell) in bins.cells() {
        let mid = start + (end - start) / 2;
        let at = (mid.saturating_sub(from)) as f64 / span * COLUMNS as f64;
        let column = at.clamp(0.0, (COLUMNS - 1) as f64) as usize;
        match out.last_mut() {
            Some((c, last)) if *c == column => last.merge(cell),
            _ => out.push((column, *cell)),
        }
    }
    out
}

fn line_points(bins: &Bins, named: bool, ty: MeasureType, data: &PlotData) -> LineBlob<'static> {
    let mut points = Vec::new();
    let mut gaps = Vec::new();
    for (column, cell) in columns(bins, data.from, data.to) {
        let c = column as f64;
        let point = match ty {
            MeasureType::Varchar => vec![c, cell.last],
            _ if !named && ty != MeasureType::Boolean => vec![c, round(cell.mean())],
            _ if cell.max > cell.min => {
                // The line leaves the column at the extreme nearer its
                // last value.
                if cell.max - cell.last <= cell.last - cell.min {
                    vec![c, round(cell.min), round(cell.max)]
                } else {
                    vec![c, round(cell.max), round(cell.min)]
                }
            }
            _ => vec![c, round(cell.last)],
        };
        points.push(point);
        if cell.gap_after {
            gaps.push(column);
        }
    }
    LineBlob {
        name: "",
        named,
        points,
        gaps,
    }
}

fn panel_blob<'a>(panel: &'a Panel, data: &PlotData) -> PanelBlob<'a> {
    let window = |kind, line, from, to| Window {
        kind,
        line,
        from: seconds(from),
        to: seconds(to),
    };
    let rest = (panel.rest_count > 0 && panel.ty != MeasureType::Varchar).then(|| RestBlob {
        series: panel.rest_count,
        points: columns(&panel.rest, data.from, data.to)
            .into_iter()
            .map(|(c, cell)| [c as f64, round(cell.min), round(cell.max)])
            .collect(),
    });
    PanelBlob {
        table: &panel.table,
        measure: &panel.measure,
        ty: panel.ty.name(),
        records: panel.records,
        lines: panel
            .lines
            .iter()
            .map(|line| LineBlob {
                name: &line.name,
                ..line_points(&line.bins, line.named, panel.ty, data)
            })
            .collect(),
        rest,
        values: &panel.values,
        steps: panel
            .steps
            .iter()
            .map(|s| window(s.kind, s.line, s.from, s.to))
            .collect(),
        anomalies: panel
            .anomalies
            .iter()
            .filter(|w| w.to >= data.from && w.from <= data.to)
            .map(|w| window(w.kind, w.line, w.from, w.to))
            .collect(),
    }
}

/// JSON safe inside `<script>`: a `<` only occurs in strings, where
/// `\u003c` means the same and cannot close the element.
fn script_json(blob: &Blob<'_>) -> Result<String, PlotError> {
    let json = serde_json::to_string(blob).map_err(|e| PlotError::Draw {
        reason: format!("the page's data: {e}"),
    })?;
    Ok(json.replace('<', "\\u003c"))
}

fn escape_text(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;")
}

/// The page: data, uPlot, our script and styles, all inline.
pub(crate) fn to_html(data: &PlotData) -> Result<String, PlotError> {
    let blob = Blob {
        title: &data.title,
        now: seconds(data.now),
        anchored: data.anchored,
        now_text: data.anchored.then(|| crate::record::time_string(data.now)),
        from: seconds(data.from),
        to: seconds(data.to),
        columns: COLUMNS,
        panels_left_out: data.panels_left_out,
        panels: data.panels.iter().map(|p| panel_blob(p, data)).collect(),
        expectations: data
            .expectations
            .iter()
            .filter(|e| e.to >= data.from && e.from <= data.to)
            .map(|e| Window {
                kind: "expect",
                line: e.line,
                from: seconds(e.from),
                to: seconds(e.to),
            })
            .collect(),
    };
    let json = script_json(&blob)?;
    let licence = UPLOT_LICENSE.replace("*/", "* /");
    Ok(format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="outatime plot">
<title>{title}</title>
<style>
{UPLOT_CSS}
{PAGE_CSS}</style>
</head>
<body>
<header><h1>{title}</h1><p id="subtitle"></p><p class="help">drag: zoom in time · shift+drag: pan · wheel: zoom · double-click or <button id="reset" type="button">reset</button>: the whole axis</p></header>
<main id="panels"></main>
<noscript>This plot needs JavaScript; the SVG form (outatime plot … -o FILE.svg) does not.</noscript>
<script type="application/json" id="outatime-plot">{json}</script>
<script>
/*! uPlot v1.6.32, from npm's `uplot` package:
{licence}*/
{UPLOT_JS}
</script>
<script>
{PAGE_JS}</script>
</body>
</html>
"#,
        title = escape_text(&data.title),
    ))
}
