//! The panels laid out in pixels: per panel its frame and title, step
//! bands, anomaly windows, axes, the series (lines, step lines or bands),
//! the `now` marker and the legend, each a group of shapes.

mod diff;
mod series;

pub(crate) use self::diff::{DiffPanel, layout_diff};

use self::series::Pen;
use super::axis;
use super::bins::Bins;
use super::model::{AnomalyWindow, Panel, PlotData};
use super::scene::{Align, Colour, Group, Scene, Shape};
use crate::measure_type::MeasureType;

pub(crate) const WIDTH: u32 = 1200;
const LEFT: i32 = 72;
const RIGHT: i32 = WIDTH as i32 - 240;
const HEADER: i32 = 48;
const PANEL: i32 = 250;
const TITLE: i32 = 26;
const PLOT: i32 = 180;

/// Pixels across the time axis: the cells a series needs.
pub(crate) const PLOT_WIDTH: usize = (RIGHT - LEFT) as usize;

const INK: Colour = Colour(40, 40, 40, 1.0);
const FAINT: Colour = Colour(120, 120, 120, 1.0);
const GRID: Colour = Colour(225, 225, 225, 1.0);
const THIN: Colour = Colour(150, 150, 150, 0.8);
const ENVELOPE: Colour = Colour(170, 170, 170, 0.45);
/// Anomaly windows: red, a fifth opaque.
pub(crate) const ANOMALY: Colour = Colour(214, 39, 40, 0.2);
const ANOMALY_INK: Colour = Colour(160, 20, 20, 1.0);
/// An expectation's bracket on the time axis, and its label.
pub(crate) const EXPECT: Colour = Colour(31, 95, 160, 1.0);
const NOW: Colour = Colour(20, 20, 20, 1.0);

/// Named series, in legend order (Tableau 10, without red and grey).
pub(crate) const PALETTE: [Colour; 6] = [
    Colour(31, 119, 180, 1.0),
    Colour(255, 127, 14, 1.0),
    Colour(44, 160, 44, 1.0),
    Colour(148, 103, 189, 1.0),
    Colour(140, 86, 75, 1.0),
    Colour(227, 119, 194, 1.0),
];

/// Varchar values, by id; the last (grey) is "other values".
const VALUE_COLOURS: [Colour; 13] = [
    Colour(31, 119, 180, 0.85),
    Colour(255, 127, 14, 0.85),
    Colour(44, 160, 44, 0.85),
    Colour(148, 103, 189, 0.85),
    Colour(23, 190, 207, 0.85),
    Colour(188, 189, 34, 0.85),
    Colour(140, 86, 75, 0.85),
    Colour(227, 119, 194, 0.85),
    Colour(174, 199, 232, 0.85),
    Colour(255, 187, 120, 0.85),
    Colour(152, 223, 138, 0.85),
    Colour(197, 176, 213, 0.85),
    Colour(127, 127, 127, 0.85),
];

/// A varchar value's colour by its id; past the palette, "other values".
fn value_colour(id: usize) -> Colour {
    VALUE_COLOURS[id.min(VALUE_COLOURS.len() - 1)]
}

fn step_colour(kind: &str) -> (Colour, Colour) {
    match kind {
        "replay" => (Colour(70, 130, 180, 0.08), Colour(40, 90, 140, 1.0)),
        "generate" => (Colour(60, 160, 90, 0.08), Colour(30, 110, 60, 1.0)),
        _ => (Colour(230, 150, 30, 0.1), Colour(150, 90, 10, 1.0)),
    }
}

/// Maps time to x across the plot.
struct TimeAxis {
    from: i64,
    to: i64,
}

impl TimeAxis {
    fn x(&self, t: i64) -> i32 {
        let span = (self.to - self.from).max(1) as f64;
        let at = LEFT as f64 + (t.saturating_sub(self.from)) as f64 / span * PLOT_WIDTH as f64;
        at.clamp(LEFT as f64 - 1.0, RIGHT as f64 + 1.0).round() as i32
    }
}

/// Maps a value to y inside a panel's plot.
struct ValueAxis {
    lo: f64,
    hi: f64,
    top: i32,
}

impl ValueAxis {
    fn y(&self, v: f64) -> i32 {
        let f = (v - self.lo) / (self.hi - self.lo);
        let y = self.top as f64 + PLOT as f64 * (1.0 - f);
        y.clamp(self.top as f64, (self.top + PLOT) as f64).round() as i32
    }
}

pub(crate) fn layout(data: &PlotData) -> Scene {
    let time = TimeAxis {
        from: data.from,
        to: data.to,
    };
    let height = HEADER + PANEL * data.panels.len() as i32 + 8;
    let mut root = Group::new("plot").with(
        "now",
        if data.anchored {
            crate::record::time_string(data.now)
        } else {
            "unanchored".to_string()
        },
    );
    let mut subtitle = if data.anchored {
        format!(
            "now = {} · times in UTC",
            crate::record::time_string(data.now)
        )
    } else {
        "no --anchor: times are offsets from now".to_string()
    };
    if data.panels_left_out > 0 {
        subtitle += &format!(
            " · {} more panel(s) not drawn (pick with --measure)",
            data.panels_left_out
        );
    }
    let header = header(&data.title, &subtitle, height);
    root.children.push(header);
    for (i, panel) in data.panels.iter().enumerate() {
        let top = HEADER + PANEL * i as i32;
        root.children.push(panel_group(panel, top, &time, data));
    }
    Scene {
        width: WIDTH,
        height: height as u32,
        root,
    }
}

/// The white page, the title and a line under it.
fn header(title: &str, subtitle: &str, height: i32) -> Group {
    let mut header = Group::new("header");
    header.shapes.push(Shape::Rect {
        x0: 0,
        y0: 0,
        x1: WIDTH as i32,
        y1: height,
        fill: Colour(255, 255, 255, 1.0),
    });
    header
        .shapes
        .push(text(LEFT, 8, title, 16.0, INK, Align::Left));
    header
        .shapes
        .push(text(LEFT, 28, subtitle, 12.0, FAINT, Align::Left));
    header
}

fn text(x: i32, y: i32, s: &str, size: f64, colour: Colour, align: Align) -> Shape {
    Shape::Text {
        x,
        y,
        text: s.to_string(),
        size,
        colour,
        align,
    }
}

/// At most `n` characters, an ellipsis when cut.
fn cut(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        return s.to_string();
    }
    let mut out: String = s.chars().take(n.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn panel_group(panel: &Panel, top: i32, time: &TimeAxis, data: &PlotData) -> Group {
    let plot_top = top + TITLE;
    let caption = format!("{} series", panel.lines.len() + panel.rest_count);
    let mut group = panel_frame(panel, top, &caption);
    group.children.push(steps(panel, time, plot_top));
    // Varchar bands are opaque: the windows go over them.
    if panel.ty == MeasureType::Varchar {
        let lines: Vec<_> = panel.lines.iter().map(|l| (l, None)).collect();
        let colour = |_lane: usize, id: usize| value_colour(id);
        group
            .children
            .push(series::varchar_lanes(&lines, &colour, time, plot_top));
    }
    group
        .children
        .push(anomalies(&panel.anomalies, ANOMALY, time, plot_top, data));
    if !data.expectations.is_empty() {
        group.children.push(expectations(time, plot_top, data));
    }

    let values = value_range(panel.ty, panel.lines.len(), panel_bins(panel));
    let y = ValueAxis {
        lo: values.0,
        hi: values.1,
        top: plot_top,
    };
    let lanes: Vec<String> = panel
        .lines
        .iter()
        .map(|l| series::lane_label(&l.name))
        .collect();
    group
        .children
        .push(axes(panel.ty, &lanes, time, &y, plot_top, data));

    if panel.ty != MeasureType::Varchar {
        if panel.rest_count > 0 {
            let mut envelope = Group::new("envelope").with("series", panel.rest_count.to_string());
            for (x, cell) in series::columns(&panel.rest, time) {
                envelope.shapes.push(Shape::Rect {
                    x0: x,
                    y0: y.y(cell.max),
                    x1: x + 1,
                    y1: y.y(cell.min) + 1,
                    fill: ENVELOPE,
                });
            }
            group.children.push(envelope);
        }
        // Thin ones first, so that the named are drawn over them.
        for (i, line) in panel.lines.iter().enumerate().rev() {
            let pen = if line.named {
                Pen {
                    colour: PALETTE[i % PALETTE.len()],
                    width: 2,
                    dense_width: 1,
                    lift: i,
                }
            } else {
                Pen {
                    colour: THIN,
                    width: 1,
                    dense_width: 1,
                    lift: i,
                }
            };
            group
                .children
                .push(series::series_group(line, pen, panel.ty, time, &y));
        }
    }
    group.children.push(now_marker(time, plot_top, data));
    group.children.push(legend(panel, top));
    group
}

/// A panel's group with its title: table, measure, type, `caption`.
fn panel_frame(panel: &Panel, top: i32, caption: &str) -> Group {
    let mut group = Group::new("panel")
        .with("table", &panel.table)
        .with("measure", &panel.measure)
        .with("type", panel.ty.name());
    let mut frame = Group::new("frame");
    frame.shapes.push(text(
        LEFT,
        top + 6,
        &format!(
            "{} · {} ({}) · {caption}",
            panel.table,
            panel.measure,
            panel.ty.name(),
        ),
        13.0,
        INK,
        Align::Left,
    ));
    group.children.push(frame);
    group
}

/// Each step's stretch a faint band, labelled with its kind and line.
fn steps(panel: &Panel, time: &TimeAxis, plot_top: i32) -> Group {
    let plot_bottom = plot_top + PLOT;
    let mut steps = Group::new("steps");
    let mut rows = LabelRows::default();
    for step in &panel.steps {
        let (fill, ink) = step_colour(step.kind);
        let (x0, x1) = (
            time.x(step.from),
            time.x(step.to).max(time.x(step.from) + 1),
        );
        let (mut band, label) = band("step", step.kind, step.line, (x0, x1), plot_top, fill);
        let (x, align) = label_at(x0.max(LEFT) + 1, x1, &label);
        let row = rows.place(x, align, &label, 2);
        band.shapes.push(text(
            x,
            plot_bottom - 14 - 12 * row,
            &label,
            10.0,
            ink,
            align,
        ));
        steps.children.push(band);
    }
    steps
}

/// A stretch of a statement (a step or an anomaly) over the plot's height,
/// shaded in `fill`, and its label: `kind · line N`.
fn band(
    name: &'static str,
    kind: &'static str,
    line: usize,
    (x0, x1): (i32, i32),
    plot_top: i32,
    fill: Colour,
) -> (Group, String) {
    let mut band = Group::new(name)
        .with("kind", kind)
        .with("line", line.to_string())
        .with("x0", x0.to_string())
        .with("x1", x1.to_string());
    band.shapes.push(Shape::Rect {
        x0,
        y0: plot_top,
        x1,
        y1: plot_top + PLOT,
        fill,
    });
    (band, format!("{kind} · line {line}"))
}

/// Anomaly windows within the axis, shaded in `fill` and labelled with
/// their kind and line.
fn anomalies(
    windows: &[AnomalyWindow],
    fill: Colour,
    time: &TimeAxis,
    plot_top: i32,
    data: &PlotData,
) -> Group {
    let mut anomalies = Group::new("anomalies");
    let mut rows = LabelRows::default();
    for window in windows {
        if window.to < data.from || window.from > data.to {
            continue;
        }
        let x0 = time.x(window.from);
        let x1 = time.x(window.to).max(x0 + 2);
        let (mut band, label) = band(
            "anomaly",
            window.kind,
            window.line,
            (x0, x1),
            plot_top,
            fill,
        );
        let (x, align) = label_at(x0, x1, &label);
        let row = rows.place(x, align, &label, 3);
        band.shapes.push(text(
            x,
            plot_top + 2 + 12 * row,
            &label,
            10.0,
            ANOMALY_INK,
            align,
        ));
        anomalies.children.push(band);
    }
    anomalies
}

/// Each expectation's stretch of time as a bracket along the bottom of the
/// plot (a bar with a tick at each end), brackets that meet stacked in
/// lanes; expectations starting at one pixel share a label,
/// `expect · line 50, 59`, placed above the steps' labels.
fn expectations(time: &TimeAxis, plot_top: i32, data: &PlotData) -> Group {
    /// Lanes of brackets: past them, brackets share the last.
    const LANES: usize = 4;
    let mut group = Group::new("expectations");
    let bottom = plot_top + PLOT;
    let mut spans: Vec<(i32, i32, usize)> = data
        .expectations
        .iter()
        .filter(|span| span.to >= data.from && span.from <= data.to)
        .map(|span| {
            let x0 = time.x(span.from.max(data.from));
            (x0, time.x(span.to.min(data.to)).max(x0 + 2), span.line)
        })
        .collect();
    spans.sort();
    let mut lane_ends: Vec<i32> = Vec::new();
    for &(x0, x1, line) in &spans {
        let lane = match lane_ends.iter().position(|end| *end + 2 <= x0) {
            Some(lane) => lane,
            None if lane_ends.len() < LANES => {
                lane_ends.push(i32::MIN);
                lane_ends.len() - 1
            }
            None => LANES - 1,
        };
        lane_ends[lane] = x1;
        let y = bottom - 4 * lane as i32;
        let mut bracket = Group::new("expect")
            .with("line", line.to_string())
            .with("x0", x0.to_string())
            .with("x1", x1.to_string());
        bracket.shapes.push(Shape::Rect {
            x0,
            y0: y - 3,
            x1,
            y1: y,
            fill: EXPECT,
        });
        for x in [x0, x1 - 2] {
            bracket.shapes.push(Shape::Rect {
                x0: x,
                y0: y - 9,
                x1: x + 2,
                y1: y,
                fill: EXPECT,
            });
        }
        group.children.push(bracket);
    }
    let mut rows = LabelRows::default();
    let mut at = 0;
    while at < spans.len() {
        let x0 = spans[at].0;
        let mut same: Vec<usize> = spans[at..]
            .iter()
            .take_while(|s| s.0 == x0)
            .map(|s| s.2)
            .collect();
        let x1 = spans[at..at + same.len()]
            .iter()
            .map(|s| s.1)
            .max()
            .unwrap_or(x0);
        at += same.len();
        same.sort_unstable();
        let lines: Vec<String> = same.iter().map(usize::to_string).collect();
        let label = format!("expect · line {}", lines.join(", "));
        let (x, align) = label_at(x0, x1, &label);
        let row = rows.place(x, align, &label, 2);
        group
            .shapes
            .push(text(x, bottom - 44 - 12 * row, &label, 10.0, EXPECT, align));
    }
    group
}

/// The `now` marker, when `now` is on the axis.
fn now_marker(time: &TimeAxis, plot_top: i32, data: &PlotData) -> Group {
    let mut now = Group::new("now");
    if data.now >= data.from && data.now <= data.to {
        let x = time.x(data.now);
        now = now.with("x", x.to_string());
        now.shapes.push(Shape::Line {
            points: vec![(x, plot_top - 4), (x, plot_top + PLOT)],
            colour: NOW,
            width: 2,
        });
        now.shapes
            .push(text(x, plot_top - 16, "now", 11.0, NOW, Align::Centre));
    }
    now
}

/// Rows for band labels: each label goes on the first row where it does
/// not run into the one before it, so close windows' labels stay apart.
#[derive(Default)]
struct LabelRows {
    /// Per row, where its last label ends.
    ends: Vec<i32>,
}

impl LabelRows {
    /// The row of a label drawn at `x` with `align`, among `most` rows
    /// (past them, the row whose last label ends first).
    fn place(&mut self, x: i32, align: Align, label: &str, most: usize) -> i32 {
        let width = LABEL_CHAR * label.chars().count() as i32;
        let (start, end) = match align {
            Align::Right => (x - width, x),
            Align::Centre => (x - width / 2, x + width / 2),
            Align::Left => (x, x + width),
        };
        let row = match self.ends.iter().position(|e| *e + 4 <= start) {
            Some(row) => row,
            None if self.ends.len() < most => {
                self.ends.push(i32::MIN);
                self.ends.len() - 1
            }
            None => (0..self.ends.len())
                .min_by_key(|r| self.ends[*r])
                .unwrap_or(0),
        };
        self.ends[row] = end;
        row as i32
    }
}

/// The compiled-in font is monospaced: 10 px text is 6 px a character.
const LABEL_CHAR: i32 = 6;

/// Where a band's label goes: from its left edge, or ending at its right
/// edge when it would run past the plot (into the legend).
fn label_at(x0: i32, x1: i32, label: &str) -> (i32, Align) {
    let width = LABEL_CHAR * label.chars().count() as i32;
    if x0 + 2 + width > RIGHT {
        (x1.min(RIGHT) - 2, Align::Right)
    } else {
        (x0 + 2, Align::Left)
    }
}

/// A panel's series' cells and its envelope's.
fn panel_bins(panel: &Panel) -> impl Iterator<Item = &Bins> {
    panel.lines.iter().map(|l| &l.bins).chain([&panel.rest])
}

/// The value range of `bins`, padded; booleans from 0 to 1 (lifted
/// `lines` apart).
fn value_range<'a>(
    ty: MeasureType,
    lines: usize,
    bins: impl Iterator<Item = &'a Bins>,
) -> (f64, f64) {
    if ty == MeasureType::Boolean {
        return (-0.1, 1.1 + 0.03 * lines as f64);
    }
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for bins in bins {
        for (_, _, cell) in bins.cells() {
            lo = lo.min(cell.min);
            hi = hi.max(cell.max);
        }
    }
    if !(lo.is_finite() && hi.is_finite()) {
        return (0.0, 1.0);
    }
    if hi - lo < 1e-12 {
        return (lo - 1.0, hi + 1.0);
    }
    let pad = (hi - lo) * 0.05;
    (lo - pad, hi + pad)
}

/// The grid, the time and value ticks (for varchar, the lanes' names)
/// and the plot's border.
fn axes(
    ty: MeasureType,
    lanes: &[String],
    time: &TimeAxis,
    y: &ValueAxis,
    plot_top: i32,
    data: &PlotData,
) -> Group {
    let plot_bottom = plot_top + PLOT;
    let mut axes = Group::new("axes");
    let origin = if data.anchored { 0 } else { data.now };
    for (t, label) in axis::time_ticks(data.from, data.to, origin, data.anchored, 10) {
        let x = time.x(t);
        axes.shapes.push(Shape::Line {
            points: vec![(x, plot_top), (x, plot_bottom)],
            colour: GRID,
            width: 1,
        });
        axes.shapes
            .push(text(x, plot_bottom + 4, &label, 10.0, FAINT, Align::Centre));
    }
    if ty == MeasureType::Varchar {
        for (i, name) in lanes.iter().enumerate() {
            let (lane_top, lane_bottom) = series::lane(i, lanes.len(), plot_top);
            axes.shapes.push(text(
                LEFT - 4,
                (lane_top + lane_bottom) / 2 - 5,
                &cut(name, 10),
                9.0,
                FAINT,
                Align::Right,
            ));
        }
    } else {
        let ticks = if ty == MeasureType::Boolean {
            vec![0.0, 1.0]
        } else {
            axis::value_ticks(y.lo, y.hi)
        };
        for v in ticks {
            let at = y.y(v);
            axes.shapes.push(Shape::Line {
                points: vec![(LEFT, at), (RIGHT, at)],
                colour: GRID,
                width: 1,
            });
            let label = match ty {
                MeasureType::Boolean if v == 0.0 => "false".to_string(),
                MeasureType::Boolean => "true".to_string(),
                _ => axis::value_label(v),
            };
            axes.shapes
                .push(text(LEFT - 4, at - 6, &label, 10.0, FAINT, Align::Right));
        }
    }
    axes.shapes.push(Shape::Line {
        points: vec![
            (LEFT, plot_top),
            (LEFT, plot_bottom),
            (RIGHT, plot_bottom),
            (RIGHT, plot_top),
            (LEFT, plot_top),
        ],
        colour: FAINT,
        width: 1,
    });
    axes
}

fn legend(panel: &Panel, top: i32) -> Group {
    let mut legend = Legend::new(top);
    if panel.ty == MeasureType::Varchar {
        for (id, value) in panel.values.iter().enumerate() {
            legend.entry(value_colour(id), value);
        }
        let hidden = panel.rest_count;
        if hidden > 0 {
            legend.entry(THIN, &format!("+{hidden} series not drawn"));
        }
        return legend.group;
    }
    let named = panel.lines.iter().filter(|l| l.named).count();
    for (i, line) in panel.lines.iter().take(named).enumerate() {
        legend.entry(PALETTE[i % PALETTE.len()], &line.name);
    }
    let thin = panel.lines.len() - named;
    if thin > 0 {
        legend.entry(THIN, &format!("+{thin} more (thin)"));
    }
    if panel.rest_count > 0 {
        legend.entry(
            ENVELOPE,
            &format!("+{} more (band: min–max)", panel.rest_count),
        );
    }
    legend.group
}

/// A panel's legend, right of its plot: a swatch and a label a row.
struct Legend {
    group: Group,
    y: i32,
}

impl Legend {
    fn new(top: i32) -> Legend {
        Legend {
            group: Group::new("legend"),
            y: top + TITLE,
        }
    }

    fn entry(&mut self, swatch: Colour, label: &str) {
        let x = RIGHT + 14;
        self.group.shapes.push(Shape::Rect {
            x0: x,
            y0: self.y + 4,
            x1: x + 16,
            y1: self.y + 8,
            fill: swatch,
        });
        self.group.shapes.push(text(
            x + 22,
            self.y,
            &cut(label, 30),
            10.0,
            INK,
            Align::Left,
        ));
        self.y += 14;
    }
}
