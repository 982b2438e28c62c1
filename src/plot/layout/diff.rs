//! `diff --plot`'s picture: per table × measure, the changed series of
//! the old plan drawn pale and wide, those of the new plan solid over
//! them, in one colour a series; the new plan's steps, both plans'
//! anomaly windows (the old ones grey), one time axis.

use super::series::{self, Pen};
use super::{
    ANOMALY, HEADER, Legend, PALETTE, PANEL, THIN, TITLE, TimeAxis, ValueAxis, WIDTH, anomalies,
    axes, header, now_marker, panel_frame, steps, value_colour, value_range,
};
use crate::measure_type::MeasureType;
use crate::plot::model::{Line, Panel, PlotData};
use crate::plot::scene::{Colour, Group, Scene};

/// The old plan's anomaly windows.
const OLD_ANOMALY: Colour = Colour(120, 120, 120, 0.18);
/// What the old side's lines are drawn with, a series' colour made pale.
const OLD_ALPHA: f64 = 0.35;

/// One panel of the diff: the same table × measure in each plan (absent
/// on a side that has none of its changed series), the changed series
/// drawn by name and how many more changed.
pub(crate) struct DiffPanel<'a> {
    pub old: Option<&'a Panel>,
    pub new: Option<&'a Panel>,
    pub shown: Vec<String>,
    pub rest: usize,
}

/// The diff's scene; `data` gives the time axis and `now` (both sides
/// share them). `files`: the old and the new plan, as given.
pub(crate) fn layout_diff(
    title: &str,
    files: (&str, &str),
    data: &PlotData,
    panels: &[DiffPanel<'_>],
    left_out: usize,
) -> Scene {
    let time = TimeAxis {
        from: data.from,
        to: data.to,
    };
    let height = HEADER + PANEL * panels.len() as i32 + 8;
    let mut root = Group::new("plot")
        .with(
            "now",
            if data.anchored {
                crate::record::time_string(data.now)
            } else {
                "unanchored".to_string()
            },
        )
        .with("old", files.0)
        .with("new", files.1);
    let mut subtitle = format!("old {} pale · new {} solid · ", files.0, files.1);
    subtitle += &if data.anchored {
        format!("now = {} (UTC)", crate::record::time_string(data.now))
    } else {
        "offsets from now".to_string()
    };
    if left_out > 0 {
        subtitle += &format!(" · {left_out} more panel(s) not drawn");
    }
    root.children.push(header(title, &subtitle, height));
    for (i, panel) in panels.iter().enumerate() {
        let top = HEADER + PANEL * i as i32;
        if let Some(group) = diff_panel(panel, top, &time, data) {
            root.children.push(group);
        }
    }
    Scene {
        width: WIDTH,
        height: height as u32,
        root,
    }
}

fn pale(c: Colour) -> Colour {
    Colour(c.0, c.1, c.2, OLD_ALPHA)
}

fn line_of<'a>(panel: Option<&'a Panel>, name: &str) -> Option<&'a Line> {
    panel?.lines.iter().find(|l| l.name == name)
}

fn diff_panel(p: &DiffPanel<'_>, top: i32, time: &TimeAxis, data: &PlotData) -> Option<Group> {
    let any = p.new.or(p.old)?;
    let plot_top = top + TITLE;
    let caption = format!("{} changed series", p.shown.len() + p.rest);
    let mut group =
        panel_frame(any, top, &caption).with("changed", (p.shown.len() + p.rest).to_string());
    group.children.push(steps(any, time, plot_top));
    let sides = [("old", p.old), ("new", p.new)];
    let ty = any.ty;
    // Varchar: an old and a new lane a series, coloured by value; the
    // sides number their values apart, so old ids are mapped to new ones.
    let mut values: Vec<String> = p.new.map(|n| n.values.clone()).unwrap_or_default();
    let mut old_ids = Vec::new();
    for value in p.old.map(|o| o.values.as_slice()).unwrap_or_default() {
        let id = match values.iter().position(|v| v == value) {
            Some(id) => id,
            None => {
                values.push(value.clone());
                values.len() - 1
            }
        };
        old_ids.push(id);
    }
    let mut lanes: Vec<(&Line, Option<&'static str>)> = Vec::new();
    for name in &p.shown {
        for (side, panel) in sides {
            if let Some(line) = line_of(panel, name) {
                lanes.push((line, Some(side)));
            }
        }
    }
    if ty == MeasureType::Varchar {
        let colour = |lane: usize, id: usize| {
            let old = lanes
                .get(lane)
                .is_some_and(|(_, side)| *side == Some("old"));
            value_colour(if old {
                old_ids.get(id).copied().unwrap_or(id)
            } else {
                id
            })
        };
        group
            .children
            .push(series::varchar_lanes(&lanes, &colour, time, plot_top));
    }
    for (side, panel) in sides {
        let fill = if side == "old" { OLD_ANOMALY } else { ANOMALY };
        if let Some(panel) = panel {
            group
                .children
                .push(anomalies(&panel.anomalies, fill, time, plot_top, data).with("side", side));
        }
    }
    let values_range = value_range(ty, p.shown.len(), lanes.iter().map(|(l, _)| &l.bins));
    let y = ValueAxis {
        lo: values_range.0,
        hi: values_range.1,
        top: plot_top,
    };
    let lane_names: Vec<String> = lanes
        .iter()
        .map(|(l, side)| format!("{} {}", side.unwrap_or(""), series::lane_label(&l.name)))
        .collect();
    group
        .children
        .push(axes(ty, &lane_names, time, &y, plot_top, data));
    if ty != MeasureType::Varchar {
        // The old lines first, so that the new are drawn over them.
        for (side, panel) in sides {
            for (k, name) in p.shown.iter().enumerate() {
                let Some(line) = line_of(panel, name) else {
                    continue;
                };
                let colour = PALETTE[k % PALETTE.len()];
                let pen = match side {
                    "old" => Pen {
                        colour: pale(colour),
                        width: 4,
                        // Pale, so its spikes at sharp joins do not mislead.
                        dense_width: 3,
                        lift: k,
                    },
                    _ => Pen {
                        colour,
                        width: 2,
                        dense_width: 1,
                        lift: k,
                    },
                };
                group
                    .children
                    .push(series::series_group(line, pen, ty, time, &y).with("side", side));
            }
        }
    }
    group.children.push(now_marker(time, plot_top, data));
    let mut legend = Legend::new(top);
    legend.entry(pale(super::INK), "old (pale)");
    legend.entry(super::INK, "new (solid)");
    if ty == MeasureType::Varchar {
        for (id, value) in values.iter().enumerate() {
            legend.entry(value_colour(id), value);
        }
    } else {
        for (k, name) in p.shown.iter().enumerate() {
            legend.entry(PALETTE[k % PALETTE.len()], name);
        }
    }
    if p.rest > 0 {
        legend.entry(THIN, &format!("+{} more changed series", p.rest));
    }
    group.children.push(legend.group);
    Some(group)
}
