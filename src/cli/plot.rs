//! `outatime plot`: arguments, the file written.

use std::path::PathBuf;

use super::exit::Exit;
use super::input::{ReadArgs, load};
use super::output::sayln;
use super::output::{self, Failure};
use crate::plot::{self, Bound, Format, Request};

#[derive(clap::Args)]
pub(super) struct PlotArgs {
    /// A scenario, or a plan (its pinned sources and stream are verified first)
    input: PathBuf,
    /// The picture to write: FILE.svg, FILE.png or FILE.html (pans and zooms)
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
    /// What `now` is, RFC 3339: the time axis in UTC. Without it, times are
    /// offsets from now (now-6h), as in a plan
    #[arg(long, value_name = "RFC3339")]
    anchor: Option<String>,
    /// Draw from this time: RFC 3339, or relative to now (now-6h)
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    from: Option<String>,
    /// Draw up to this time: RFC 3339, or relative to now (now+1d)
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    to: Option<String>,
    /// Only the series with this dimension value (repeat: different
    /// dimensions must all match, values of one dimension are alternatives)
    #[arg(long = "where", value_name = "DIM=VALUE")]
    filters: Vec<String>,
    /// Only the panels of this measure (repeatable)
    #[arg(long = "measure", value_name = "NAME")]
    measures: Vec<String>,
    #[command(flatten)]
    read: ReadArgs,
}

pub(super) fn plot(args: &PlotArgs) -> Result<Exit, Failure> {
    // Arguments first: loading reads every source.
    let request = Request {
        format: Format::of(&args.output)?,
        from: args
            .from
            .as_deref()
            .map(|t| Bound::parse("--from", t))
            .transpose()?,
        to: args
            .to
            .as_deref()
            .map(|t| Bound::parse("--to", t))
            .transpose()?,
        filters: plot::parse_where(&args.filters)?,
        measures: args.measures.clone(),
    };
    output::check_writable("--output", &args.output)?;
    let anchor = output::parse_anchor(args.anchor.as_deref())?;
    let loaded = load(&args.input, &args.read, crate::targets::DEFAULT_RULES)?;
    // Unanchored, `now` is the epoch, as in a plan: the axis says offsets.
    let now = anchor.map_or(0, |a| {
        crate::compile::align(a, loaded.prepared.anchor_align)
    });
    let bytes = plot::plot(&loaded, now, anchor.is_some(), &request)?;
    crate::output_file::write(&args.output, &bytes).map_err(|e| {
        Failure::usage(format!(
            "error: cannot write `{}`: {e}\n",
            args.output.display()
        ))
    })?;
    sayln!("wrote `{}` ({} bytes)", args.output.display(), bytes.len());
    Ok(Exit::Success)
}
