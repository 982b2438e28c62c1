//! `outatime plot`: a scenario's (or plan's) record stream drawn as one
//! panel per table × measure, with where each stretch came from (the
//! steps), the anomaly windows and `now`.
//!
//! ```text
//!  Prepared::run(anchor, PanelSink) ──▶ model::PlotData (cells per series, steps, windows)
//!      ──layout::layout──▶ scene::Scene (shapes in groups) ──▶ SVG · PNG (plotters)
//! ```
//! The model is the renderer's input alone, so that other forms can draw it.

mod axis;
mod bins;
pub(crate) mod diff;
pub(crate) mod error;
mod html;
mod layout;
mod model;
mod scene;

use std::collections::BTreeMap;
use std::path::Path;

pub(crate) use error::PlotError;

use crate::app::Loaded;

/// What `-o` names.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Format {
    Svg,
    Png,
    Html,
}

impl Format {
    /// By the file's extension.
    pub(crate) fn of(path: &Path) -> Result<Format, PlotError> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("svg") => Ok(Format::Svg),
            Some("png") => Ok(Format::Png),
            Some("html") => Ok(Format::Html),
            _ => Err(PlotError::UnknownFormat {
                path: path.display().to_string(),
            }),
        }
    }
}

/// A `--from`/`--to` as written: an instant, or an offset from `now`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Bound {
    At(i64),
    FromNow(i64),
}

impl Bound {
    /// `2026-11-27T18:00:00Z`, `now`, `now-6h`, `now+1d`.
    pub(crate) fn parse(option: &'static str, text: &str) -> Result<Bound, PlotError> {
        let bad = |reason: String| PlotError::BadTime {
            option,
            text: text.to_string(),
            reason,
        };
        if let Some(rest) = text.trim().strip_prefix("now") {
            if rest.is_empty() {
                return Ok(Bound::FromNow(0));
            }
            if !(rest.starts_with('-') || rest.starts_with('+')) || rest.len() < 2 {
                return Err(bad("after `now` comes `-` or `+` and a duration".into()));
            }
            return crate::lang::literal::parse_duration(rest)
                .map(|d| Bound::FromNow(d.0))
                .map_err(|_| {
                    bad(format!(
                        "`{}` is not a duration such as 6h or 1d12h",
                        &rest[1..]
                    ))
                });
        }
        crate::lang::literal::parse_timestamp(text.trim())
            .map(|i| Bound::At(i.0))
            .map_err(|e| bad(e.timestamp_reason()))
    }

    fn at(self, now: i64) -> i64 {
        match self {
            Bound::At(t) => t,
            Bound::FromNow(d) => now.saturating_add(d),
        }
    }
}

/// `plot`'s arguments, read before any source is.
#[derive(Debug)]
pub(crate) struct Request {
    pub format: Format,
    pub from: Option<Bound>,
    pub to: Option<Bound>,
    pub filters: BTreeMap<String, Vec<String>>,
    pub measures: Vec<String>,
}

/// `DIM=VALUE`s by dimension.
pub(crate) fn parse_where(given: &[String]) -> Result<BTreeMap<String, Vec<String>>, PlotError> {
    let mut filters: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for text in given {
        let Some((dim, value)) = text.split_once('=') else {
            return Err(PlotError::BadWhere { text: text.clone() });
        };
        let dim = dim.trim();
        if dim.is_empty() {
            return Err(PlotError::BadWhere { text: text.clone() });
        }
        filters
            .entry(dim.to_string())
            .or_default()
            .push(value.to_string());
    }
    Ok(filters)
}

/// Runs the stream once at `now` and draws it; `anchored`: `now` was
/// given (UTC axis), else it is the epoch (offsets, as in a plan).
pub(crate) fn plot(
    loaded: &Loaded,
    now: i64,
    anchored: bool,
    request: &Request,
) -> Result<Vec<u8>, PlotError> {
    let from = request.from.map(|b| b.at(now));
    let to = request.to.map(|b| b.at(now));
    if let (Some(f), Some(t)) = (from, to)
        && f >= t
    {
        return Err(PlotError::EmptyWindow {
            from: format!("{:?}", request.from),
            to: format!("{:?}", request.to),
        });
    }
    let selection = model::Selection {
        from,
        to,
        filters: request.filters.clone(),
        measures: request.measures.clone(),
        cells: layout::PLOT_WIDTH * 2,
        only: None,
    };
    let catalog = &loaded.prepared.catalog;
    let (mut sink, left_out) = model::PanelSink::new(catalog, &selection)?;
    let hits = loaded.prepared.run(now, &mut sink)?;
    let data = sink.finish(&loaded.scenario, catalog, &hits, now, anchored, left_out)?;
    let bytes = match request.format {
        Format::Svg => scene::to_svg(&layout::layout(&data))?.into_bytes(),
        Format::Png => scene::to_png(&layout::layout(&data))?,
        Format::Html => html::to_html(&data)?.into_bytes(),
    };
    Ok(bytes)
}
