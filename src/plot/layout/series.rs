//! A series drawn in a panel: its cells merged per pixel column, then a
//! line (numbers), a step line (booleans) or a lane of coloured runs
//! (varchar), broken wherever the series has a gap.

use super::{PLOT, PLOT_WIDTH, TimeAxis, ValueAxis};
use crate::measure_type::MeasureType;
use crate::plot::bins::{Bins, Cell};
use crate::plot::model::Line;
use crate::plot::scene::{Colour, Group, Shape};

/// How a line is drawn: its colour, its width where it is sparse and
/// where it is dense, and how far a boolean is lifted off the others.
#[derive(Clone, Copy, Debug)]
pub(super) struct Pen {
    pub colour: Colour,
    pub width: u32,
    pub dense_width: u32,
    pub lift: usize,
}

/// A series' cells merged per pixel column, in time order.
pub(super) fn columns(bins: &Bins, time: &TimeAxis) -> Vec<(i32, Cell)> {
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

/// A numeric or boolean series as a `series` group of polylines.
pub(super) fn series_group(
    line: &Line,
    pen: Pen,
    ty: MeasureType,
    time: &TimeAxis,
    y: &ValueAxis,
) -> Group {
    let cols = columns(&line.bins, time);
    // A dense line zigzags from column to column: drawn wide, its sharp
    // joins would spike past the values (miter joins), so its own width.
    let dense = cols.len() > PLOT_WIDTH / 3;
    let (colour, width) = (pen.colour, if dense { pen.dense_width } else { pen.width });
    let mut group = Group::new("series")
        .with("name", &line.name)
        .with("drawn", if line.named { "named" } else { "thin" });
    // Booleans of several series are lifted apart a little.
    let lift = if ty == MeasureType::Boolean {
        0.03 * pen.lift as f64
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

/// The top and bottom of lane `i` of `n` in a varchar panel.
pub(super) fn lane(i: usize, n: usize, plot_top: i32) -> (i32, i32) {
    let h = PLOT / n.max(1) as i32;
    (
        plot_top + h * i as i32 + 1,
        plot_top + h * (i as i32 + 1) - 1,
    )
}

/// A lane's label: the dimension values alone (`pump-a, ps-7`), the part
/// that tells series apart in a narrow margin.
pub(super) fn lane_label(name: &str) -> String {
    name.split(", ")
        .map(|pair| pair.split_once('=').map_or(pair, |(_, v)| v))
        .collect::<Vec<_>>()
        .join(",")
}

/// Varchar: one lane a series (`lines` in lane order), coloured by the
/// value it holds (`colour` of the value's id), a new colour where the
/// value changes; gaps left empty. `side` marks the lanes of a diff.
pub(super) fn varchar_lanes(
    lines: &[(&Line, Option<&'static str>)],
    colour: &dyn Fn(usize, usize) -> Colour,
    time: &TimeAxis,
    plot_top: i32,
) -> Group {
    let mut group = Group::new("bands");
    for (i, (line, side)) in lines.iter().enumerate() {
        let (y0, y1) = lane(i, lines.len(), plot_top);
        let mut series = Group::new("series")
            .with("name", &line.name)
            .with("drawn", if line.named { "named" } else { "thin" });
        if let Some(side) = side {
            series = series.with("side", *side);
        }
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
                    fill: colour(i, value),
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
