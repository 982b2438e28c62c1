//! What a plot draws, as shapes in pixels grouped by meaning, and the two
//! ways it is drawn with plotters: SVG (each group one `<g>` with a class
//! and `data-` attributes, so the structure can be read back) and PNG (all
//! groups on one bitmap). Text is laid out with the font compiled in.

use std::fmt::Write as _;
use std::sync::Once;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::error::PlotError;

/// The font all text is drawn and measured with: DejaVu Sans Mono
/// (Bitstream Vera licence, `src/plot/font/LICENSE`), so no system font is
/// needed.
const FONT: &[u8] = include_bytes!("font/DejaVuSansMono.ttf");

/// An sRGB colour with opacity.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Colour(pub u8, pub u8, pub u8, pub f64);

impl Colour {
    fn style(self) -> RGBAColor {
        RGBAColor(self.0, self.1, self.2, self.3)
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Align {
    Left,
    Centre,
    Right,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Shape {
    /// `[x0, x1) × [y0, y1)`, filled.
    Rect {
        x0: i32,
        y0: i32,
        x1: i32,
        y1: i32,
        fill: Colour,
    },
    /// A polyline.
    Line {
        points: Vec<(i32, i32)>,
        colour: Colour,
        width: u32,
    },
    /// Text whose top is at `y`.
    Text {
        x: i32,
        y: i32,
        text: String,
        size: f64,
        colour: Colour,
        align: Align,
    },
}

/// Shapes that mean one thing (a series, an anomaly window), and groups
/// inside it, drawn in order.
#[derive(Debug, Default)]
pub(crate) struct Group {
    pub class: &'static str,
    pub attributes: Vec<(&'static str, String)>,
    pub shapes: Vec<Shape>,
    pub children: Vec<Group>,
}

impl Group {
    pub(crate) fn new(class: &'static str) -> Group {
        Group {
            class,
            ..Group::default()
        }
    }

    pub(crate) fn with(mut self, name: &'static str, value: impl Into<String>) -> Group {
        self.attributes.push((name, value.into()));
        self
    }
}

#[derive(Debug)]
pub(crate) struct Scene {
    pub width: u32,
    pub height: u32,
    pub root: Group,
}

static REGISTER: Once = Once::new();

/// The compiled-in font, registered once as plotters' `sans-serif`.
fn register_font() -> Result<(), PlotError> {
    let mut result = Ok(());
    REGISTER.call_once(|| {
        if plotters::style::register_font("sans-serif", FontStyle::Normal, FONT).is_err() {
            result = Err(PlotError::Draw {
                reason: "the compiled-in font cannot be read".into(),
            });
        }
    });
    result
}

fn draw_error(e: impl std::fmt::Debug) -> PlotError {
    PlotError::Draw {
        reason: format!("{e:?}"),
    }
}

fn draw_shapes<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    shapes: &[Shape],
) -> Result<(), PlotError> {
    for shape in shapes {
        match shape {
            Shape::Rect {
                x0,
                y0,
                x1,
                y1,
                fill,
            } => area
                .draw(&Rectangle::new(
                    [(*x0, *y0), (*x1, *y1)],
                    fill.style().filled(),
                ))
                .map_err(draw_error)?,
            Shape::Line {
                points,
                colour,
                width,
            } => area
                .draw(&PathElement::new(
                    points.clone(),
                    colour.style().stroke_width(*width),
                ))
                .map_err(draw_error)?,
            Shape::Text {
                x,
                y,
                text,
                size,
                colour,
                align,
            } => {
                let h = match align {
                    Align::Left => HPos::Left,
                    Align::Centre => HPos::Center,
                    Align::Right => HPos::Right,
                };
                let colour = colour.style();
                let style = TextStyle::from(("sans-serif", *size).into_font())
                    .color(&colour)
                    .pos(Pos::new(h, VPos::Top));
                area.draw_text(text, &style, (*x, *y)).map_err(draw_error)?;
            }
        }
    }
    Ok(())
}

/// The scene as SVG: every group a `<g class=…>`, its shapes drawn by
/// plotters' SVG backend into a nested `<svg>` of the whole size.
pub(crate) fn to_svg(scene: &Scene) -> Result<String, PlotError> {
    register_font()?;
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}">"#,
        w = scene.width,
        h = scene.height
    );
    out.push('\n');
    svg_group(&scene.root, scene, &mut out)?;
    out.push_str("</svg>\n");
    Ok(out)
}

fn svg_group(group: &Group, scene: &Scene, out: &mut String) -> Result<(), PlotError> {
    let _ = write!(out, r#"<g class="{}""#, group.class);
    for (name, value) in &group.attributes {
        let _ = write!(out, r#" data-{name}="{}""#, escape(value));
    }
    out.push_str(">\n");
    if !group.shapes.is_empty() {
        let mut svg = String::new();
        {
            let backend = SVGBackend::with_string(&mut svg, (scene.width, scene.height));
            let area = backend.into_drawing_area();
            draw_shapes(&area, &group.shapes)?;
            area.present().map_err(draw_error)?;
        }
        let body = match svg.find("<svg") {
            Some(at) => &svg[at..],
            None => svg.as_str(),
        };
        out.push_str(body.trim_end());
        out.push('\n');
    }
    for child in &group.children {
        svg_group(child, scene, out)?;
    }
    out.push_str("</g>\n");
    Ok(())
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The scene as a PNG: every group drawn in order on one white bitmap.
pub(crate) fn to_png(scene: &Scene) -> Result<Vec<u8>, PlotError> {
    register_font()?;
    let (w, h) = (scene.width, scene.height);
    let mut pixels = vec![255u8; w as usize * h as usize * 3];
    {
        let backend = BitMapBackend::with_buffer(&mut pixels, (w, h));
        let area = backend.into_drawing_area();
        let mut stack = vec![&scene.root];
        // Depth first, in order: a group's shapes, then its children.
        let mut order = Vec::new();
        while let Some(group) = stack.pop() {
            order.push(group);
            stack.extend(group.children.iter().rev());
        }
        for group in order {
            draw_shapes(&area, &group.shapes)?;
        }
        area.present().map_err(draw_error)?;
    }
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, w, h);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(draw_error)?;
        writer.write_image_data(&pixels).map_err(draw_error)?;
        writer.finish().map_err(draw_error)?;
    }
    Ok(out)
}
