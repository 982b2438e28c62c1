//! The panels laid out in pixels: per panel its frame and title, step
//! bands, anomaly windows, axes, the series (lines, step lines or bands),
//! the `now` marker and the legend, each a group of shapes.

use super::axis;
use super::bins::{Bins, Cell};
use super::model::{Line, Panel, PlotData};
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
            crate::compile::record::time_string(data.now)
        } else {
            "unanchored".to_string()
        },
    );
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
        .push(text(LEFT, 8, &data.title, 16.0, INK, Align::Left));
    let mut subtitle = if data.anchored {
        format!(
            "now = {} · times in UTC",
            crate::compile::record::time_string(data.now)
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
    header
        .shapes
        .push(text(LEFT, 28, &subtitle, 12.0, FAINT, Align::Left));
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
    let plot_bottom = plot_top + PLOT;
    let mut group = Group::new("panel")
        .with("table", &panel.table)
        .with("measure", &panel.measure)
        .with("type", panel.ty.name());
    let series_count = panel.lines.len() + panel.rest_count;
    let mut frame = Group::new("frame");
    frame.shapes.push(text(
        LEFT,
        top + 6,
        &format!(
            "{} · {} ({}) · {} series",
            panel.table,
            panel.measure,
            panel.ty.name(),
            series_count
        ),
        13.0,
        INK,
        Align::Left,
    ));
    group.children.push(frame);

    let mut steps = Group::new("steps");
    for (i, step) in panel.steps.iter().enumerate() {
        let (fill, ink) = step_colour(step.kind);
        let (x0, x1) = (
            time.x(step.from),
            time.x(step.to).max(time.x(step.from) + 1),
        );
        let mut band = Group::new("step")
            .with("kind", step.kind)
            .with("line", step.line.to_string())
            .with("x0", x0.to_string())
            .with("x1", x1.to_string());
        band.shapes.push(Shape::Rect {
            x0,
            y0: plot_top,
            x1,
            y1: plot_bottom,
            fill,
        });
        let label = format!("{} · line {}", step.kind, step.line);
        let (x, align) = label_at(x0.max(LEFT) + 1, x1, &label);
        band.shapes.push(text(
            x,
            plot_bottom - 14 - 12 * (i as i32 % 2),
            &label,
            10.0,
            ink,
            align,
        ));
        steps.children.push(band);
    }
    group.children.push(steps);

    let mut anomalies = Group::new("anomalies");
    for (i, window) in panel.anomalies.iter().enumerate() {
        if window.to < data.from || window.from > data.to {
            continue;
        }
        let x0 = time.x(window.from);
        let x1 = time.x(window.to).max(x0 + 2);
        let mut band = Group::new("anomaly")
            .with("kind", window.kind)
            .with("line", window.line.to_string())
            .with("x0", x0.to_string())
            .with("x1", x1.to_string());
        band.shapes.push(Shape::Rect {
            x0,
            y0: plot_top,
            x1,
            y1: plot_bottom,
            fill: ANOMALY,
        });
        let label = format!("{} · line {}", window.kind, window.line);
        let (x, align) = label_at(x0, x1, &label);
        band.shapes.push(text(
            x,
            plot_top + 2 + 12 * (i as i32 % 3),
            &label,
            10.0,
            ANOMALY_INK,
            align,
        ));
        anomalies.children.push(band);
    }
    // Varchar bands are opaque: the windows go over them.
    let bands = (panel.ty == MeasureType::Varchar).then(|| varchar_lanes(panel, time, plot_top));
    if let Some(bands) = bands {
        group.children.push(bands);
    }
    group.children.push(anomalies);

    let values = value_range(panel);
    let y = ValueAxis {
        lo: values.0,
        hi: values.1,
        top: plot_top,
    };
    group
        .children
        .push(axes(panel, time, &y, plot_top, plot_bottom, data));

    if panel.ty != MeasureType::Varchar {
        if panel.rest_count > 0 {
            let mut envelope = Group::new("envelope").with("series", panel.rest_count.to_string());
            for (x, cell) in columns(&panel.rest, time) {
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
            group
                .children
                .push(series_group(line, i, panel.ty, time, &y));
        }
    }

    let mut now = Group::new("now");
    if data.now >= data.from && data.now <= data.to {
        let x = time.x(data.now);
        now = now.with("x", x.to_string());
        now.shapes.push(Shape::Line {
            points: vec![(x, plot_top - 4), (x, plot_bottom)],
            colour: NOW,
            width: 2,
        });
        now.shapes
            .push(text(x, plot_top - 16, "now", 11.0, NOW, Align::Centre));
    }
    group.children.push(now);
    group.children.push(legend(panel, top));
    group
}

/// Where a band's label goes: from its left edge, or ending at its right
/// edge when it would run past the plot (into the legend).
fn label_at(x0: i32, x1: i32, label: &str) -> (i32, Align) {
    // The compiled-in font is monospaced: 10 px text is 6 px a character.
    let width = 6 * label.chars().count() as i32;
    if x0 + 2 + width > RIGHT {
        (x1.min(RIGHT) - 2, Align::Right)
    } else {
        (x0 + 2, Align::Left)
    }
}

/// The panel's value range, padded; booleans from 0 to 1.
fn value_range(panel: &Panel) -> (f64, f64) {
    if panel.ty == MeasureType::Boolean {
        return (-0.1, 1.1 + 0.03 * panel.lines.len() as f64);
    }
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    let all = panel.lines.iter().map(|l| &l.bins).chain([&panel.rest]);
    for bins in all {
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

fn axes(
    panel: &Panel,
    time: &TimeAxis,
    y: &ValueAxis,
    plot_top: i32,
    plot_bottom: i32,
    data: &PlotData,
) -> Group {
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
    if panel.ty == MeasureType::Varchar {
        for (i, line) in panel.lines.iter().enumerate() {
            let (lane_top, lane_bottom) = lane(panel, i, plot_top);
            axes.shapes.push(text(
                LEFT - 4,
                (lane_top + lane_bottom) / 2 - 5,
                &cut(&lane_label(&line.name), 10),
                9.0,
                FAINT,
                Align::Right,
            ));
        }
    } else {
        let ticks = if panel.ty == MeasureType::Boolean {
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
            let label = match panel.ty {
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

/// A lane's label: the dimension values alone (`pump-a, ps-7`), the part
/// that tells series apart in a narrow margin.
fn lane_label(name: &str) -> String {
    name.split(", ")
        .map(|pair| pair.split_once('=').map_or(pair, |(_, v)| v))
        .collect::<Vec<_>>()
        .join(",")
}

/// A series' cells merged per pixel column, in time order.
fn columns(bins: &Bins, time: &TimeAxis) -> Vec<(i32, Cell)> {
    let mut out: Vec<(i32, Cell)> = Vec::new();
    for (from, to, cell) in bins.cells() {
        let x = time.x(from + (to - from) / 2);
        match out.last_mut() {
            Some((last_x, last)) if *last_x == x => last.merge(cell),
            _ => out.push((x, *cell)),
        }
    }
    out
}

fn series_group(line: &Line, i: usize, ty: MeasureType, time: &TimeAxis, y: &ValueAxis) -> Group {
    let cols = columns(&line.bins, time);
    // A dense line zigzags from column to column: drawn 2 px wide, its
    // sharp joins would spike past the values (miter joins), so 1 px.
    let dense = cols.len() > PLOT_WIDTH / 3;
    let (colour, width) = match (line.named, dense) {
        (true, false) => (PALETTE[i % PALETTE.len()], 2),
        (true, true) => (PALETTE[i % PALETTE.len()], 1),
        (false, _) => (THIN, 1),
    };
    let mut group = Group::new("series")
        .with("name", &line.name)
        .with("drawn", if line.named { "named" } else { "thin" });
    // Booleans of several series are lifted apart a little.
    let lift = if ty == MeasureType::Boolean {
        0.03 * i as f64
    } else {
        0.0
    };
    let level = |v: f64| y.y(v + lift);
    let mut points: Vec<(i32, i32)> = Vec::new();
    let mut previous: Option<f64> = None;
    let flush = |points: &mut Vec<(i32, i32)>, group: &mut Group| {
        if points.len() == 1 {
            // A lone record: a dot's worth of line.
            let (x, yy) = points[0];
            points.push((x + 1, yy));
        }
        if !points.is_empty() {
            group.shapes.push(Shape::Line {
                points: std::mem::take(points),
                colour,
                width,
            });
        }
    };
    for (x, cell) in cols {
        if ty == MeasureType::Boolean {
            if let Some(p) = previous {
                points.push((x, level(p)));
            }
            points.push((x, level(cell.min)));
            points.push((x, level(cell.max)));
            points.push((x, level(cell.last)));
        } else if line.named {
            points.push((x, level(cell.min)));
            if cell.max > cell.min {
                points.push((x, level(cell.max)));
            }
        } else {
            points.push((x, level(cell.mean())));
        }
        previous = Some(cell.last);
        if cell.gap_after {
            flush(&mut points, &mut group);
            previous = None;
        }
    }
    flush(&mut points, &mut group);
    group
}

/// The top and bottom of series `i`'s lane in a varchar panel.
fn lane(panel: &Panel, i: usize, plot_top: i32) -> (i32, i32) {
    let n = panel.lines.len().max(1) as i32;
    let h = PLOT / n;
    (
        plot_top + h * i as i32 + 1,
        plot_top + h * (i as i32 + 1) - 1,
    )
}

/// Varchar: one lane a series, coloured by the value it holds, a new
/// colour where the value changes; gaps left empty.
fn varchar_lanes(panel: &Panel, time: &TimeAxis, plot_top: i32) -> Group {
    let mut group = Group::new("bands");
    for (i, line) in panel.lines.iter().enumerate() {
        let (y0, y1) = lane(panel, i, plot_top);
        let mut series = Group::new("series")
            .with("name", &line.name)
            .with("drawn", if line.named { "named" } else { "thin" });
        let cols = columns(&line.bins, time);
        let mut run: Option<(i32, usize)> = None;
        for (k, (x, cell)) in cols.iter().enumerate() {
            let value = cell.last as usize;
            let next_x = cols.get(k + 1).map(|(nx, _)| *nx);
            let start = match run {
                Some((start, v)) if v == value => start,
                _ => *x,
            };
            // The run goes on to the next record unless a gap or a new
            // value comes first.
            let ends = cell.gap_after
                || next_x.is_none()
                || cols
                    .get(k + 1)
                    .is_some_and(|(_, c)| c.last as usize != value);
            if ends {
                let end = match next_x {
                    Some(nx) if !cell.gap_after => nx,
                    _ => x + 1,
                };
                series.shapes.push(Shape::Rect {
                    x0: start,
                    y0,
                    x1: end.max(start + 1),
                    y1,
                    fill: VALUE_COLOURS[value.min(VALUE_COLOURS.len() - 1)],
                });
                run = None;
            } else {
                run = Some((start, value));
            }
        }
        group.children.push(series);
    }
    group
}

fn legend(panel: &Panel, top: i32) -> Group {
    let mut legend = Group::new("legend");
    let x = RIGHT + 14;
    let mut y = top + TITLE;
    let mut entry = |legend: &mut Group, swatch: Colour, label: &str| {
        legend.shapes.push(Shape::Rect {
            x0: x,
            y0: y + 4,
            x1: x + 16,
            y1: y + 8,
            fill: swatch,
        });
        legend
            .shapes
            .push(text(x + 22, y, &cut(label, 30), 10.0, INK, Align::Left));
        y += 14;
    };
    if panel.ty == MeasureType::Varchar {
        for (id, value) in panel.values.iter().enumerate() {
            entry(
                &mut legend,
                VALUE_COLOURS[id.min(VALUE_COLOURS.len() - 1)],
                value,
            );
        }
        let hidden = panel.rest_count;
        if hidden > 0 {
            entry(&mut legend, THIN, &format!("+{hidden} series not drawn"));
        }
        return legend;
    }
    let named = panel.lines.iter().filter(|l| l.named).count();
    for (i, line) in panel.lines.iter().take(named).enumerate() {
        entry(&mut legend, PALETTE[i % PALETTE.len()], &line.name);
    }
    let thin = panel.lines.len() - named;
    if thin > 0 {
        entry(&mut legend, THIN, &format!("+{thin} more (thin)"));
    }
    if panel.rest_count > 0 {
        entry(
            &mut legend,
            ENVELOPE,
            &format!("+{} more (band: min–max)", panel.rest_count),
        );
    }
    legend
}
