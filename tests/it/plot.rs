//! `outatime plot` through the real binary: the SVG read back as XML (its
//! groups say what each shape is), then drawn to pixels with resvg to
//! check what the structure promises: the anomaly band's colour across its
//! window, nothing of a series drawn across its dropout.

use roxmltree::{Document, Node};

use crate::common::{PLOT_LAB as SCENARIO, Run, scratch};

const SPIKE_LINE: &str = "21";
const DROPOUT_LINE: &str = "27";

fn plot(name: &str, extra: &[&str]) -> (i32, String, String, Run) {
    let mut args = vec!["plot", "lab.scenario"];
    args.extend_from_slice(extra);
    let run = Run::new(name).file("lab.scenario", SCENARIO).args(&args);
    let (code, out, err) = run.run();
    (code, out, err, run)
}

fn svg(name: &str, extra: &[&str]) -> String {
    let mut args = vec!["-o", "out.svg"];
    args.extend_from_slice(extra);
    let (code, _, err, run) = plot(name, &args);
    assert_eq!(code, 0, "{err}");
    std::fs::read_to_string(run.dir.join("out.svg")).unwrap()
}

fn class<'a>(node: Node<'a, 'a>, class: &str) -> Vec<Node<'a, 'a>> {
    node.descendants()
        .filter(|n| n.has_tag_name("g") && n.attribute("class") == Some(class))
        .collect()
}

fn data<'a>(node: Node<'a, 'a>, name: &str) -> &'a str {
    node.attribute(format!("data-{name}").as_str())
        .unwrap_or_else(|| panic!("no data-{name} on {node:?}"))
}

fn panel<'a>(doc: &'a Document<'a>, measure: &str) -> Node<'a, 'a> {
    class(doc.root_element(), "panel")
        .into_iter()
        .find(|p| data(*p, "measure") == measure)
        .unwrap_or_else(|| panic!("no panel of {measure}"))
}

fn polylines<'a>(node: Node<'a, 'a>) -> Vec<Vec<(f64, f64)>> {
    node.descendants()
        .filter(|n| n.has_tag_name("polyline"))
        .map(|n| {
            n.attribute("points")
                .unwrap()
                .split_whitespace()
                .map(|p| {
                    let (x, y) = p.split_once(',').unwrap();
                    (x.parse().unwrap(), y.parse().unwrap())
                })
                .collect()
        })
        .collect()
}

fn texts<'a>(node: Node<'a, 'a>) -> Vec<String> {
    node.descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or("").trim().to_string())
        .collect()
}

/// The anomaly window of `kind` in a panel: (x0, x1, plot top, plot bottom).
fn window(panel: Node<'_, '_>, kind: &str) -> (i32, i32, i32, i32) {
    let group = class(panel, "anomaly")
        .into_iter()
        .find(|a| data(*a, "kind") == kind)
        .unwrap_or_else(|| panic!("no {kind} window"));
    let rect = group
        .descendants()
        .find(|n| n.has_tag_name("rect"))
        .unwrap();
    let num = |a: &str| rect.attribute(a).unwrap().parse::<i32>().unwrap();
    let (y, h) = (num("y"), num("height"));
    (
        data(group, "x0").parse().unwrap(),
        data(group, "x1").parse().unwrap(),
        y,
        y + h,
    )
}

#[test]
fn one_panel_per_measure_one_group_per_series_with_its_name() {
    let text = svg("panels", &[]);
    let doc = Document::parse(&text).unwrap();
    let panels = class(doc.root_element(), "panel");
    let measures: Vec<&str> = panels.iter().map(|p| data(*p, "measure")).collect();
    assert_eq!(measures, ["mode", "open", "temperature"]);
    for p in &panels {
        assert_eq!(data(*p, "table"), "lab");
        let mut names: Vec<&str> = class(*p, "series")
            .iter()
            .map(|s| data(*s, "name"))
            .collect();
        names.sort();
        assert_eq!(names, ["device=a", "device=b"], "{}", data(*p, "measure"));
    }
    let temperature = panel(&doc, "temperature");
    assert_eq!(data(temperature, "type"), "double");
    // Series a has no gap: one path. Its spike is in it.
    let a = class(temperature, "series")
        .into_iter()
        .find(|s| data(*s, "name") == "device=a")
        .unwrap();
    assert_eq!(polylines(a).len(), 1);
    // Legend names both series.
    let legend = texts(class(temperature, "legend")[0]);
    assert!(legend.contains(&"device=a".to_string()), "{legend:?}");
    assert!(legend.contains(&"device=b".to_string()), "{legend:?}");
}

#[test]
fn anomaly_windows_are_shaded_where_they_apply_and_labelled_with_kind_and_line() {
    let text = svg("windows", &[]);
    let doc = Document::parse(&text).unwrap();
    let kinds = |measure: &str| -> Vec<(String, String)> {
        class(panel(&doc, measure), "anomaly")
            .iter()
            .map(|a| (data(*a, "kind").to_string(), data(*a, "line").to_string()))
            .collect()
    };
    let spike = ("spike".to_string(), SPIKE_LINE.to_string());
    let dropout = ("dropout".to_string(), DROPOUT_LINE.to_string());
    // The spike is on temperature only; the dropout on every measure.
    assert_eq!(kinds("temperature"), [spike, dropout.clone()]);
    assert_eq!(kinds("open"), kinds("mode"));
    assert_eq!(kinds("mode"), [dropout]);
    let temperature = panel(&doc, "temperature");
    for a in class(temperature, "anomaly") {
        let label = format!("{} · line {}", data(a, "kind"), data(a, "line"));
        assert_eq!(texts(a), [label]);
        assert_eq!(
            a.descendants().filter(|n| n.has_tag_name("rect")).count(),
            1
        );
    }
    // The spike (30m) is half as wide as the dropout (1h), 4h before it.
    let (s0, s1, _, _) = window(temperature, "spike");
    let (d0, d1, _, _) = window(temperature, "dropout");
    assert!(
        ((d1 - d0) - 2 * (s1 - s0)).abs() <= 2,
        "{s0}..{s1} {d0}..{d1}"
    );
    assert!(
        ((d0 - s0) - 8 * (s1 - s0)).abs() <= 3,
        "{s0}..{s1} {d0}..{d1}"
    );
}

#[test]
fn a_dropout_is_a_gap_no_line_bridges() {
    let text = svg("gap", &[]);
    let doc = Document::parse(&text).unwrap();
    for measure in ["temperature", "open"] {
        let p = panel(&doc, measure);
        let (x0, x1, _, _) = window(p, "dropout");
        let b = class(p, "series")
            .into_iter()
            .find(|s| data(*s, "name") == "device=b")
            .unwrap();
        let lines = polylines(b);
        assert_eq!(lines.len(), 2, "{measure}: b's line in two pieces");
        let (before, after) = (&lines[0], &lines[1]);
        let last_before = before.last().unwrap().0;
        let first_after = after.first().unwrap().0;
        assert!(
            last_before <= f64::from(x0) + 1.0,
            "{measure}: {last_before} vs {x0}"
        );
        assert!(
            first_after >= f64::from(x1) - 1.0,
            "{measure}: {first_after} vs {x1}"
        );
        for point in lines.iter().flatten() {
            assert!(
                point.0 <= f64::from(x0) + 1.0 || point.0 >= f64::from(x1) - 1.0,
                "{measure}: a point of b at {point:?} inside the dropout {x0}..{x1}"
            );
        }
    }
}

#[test]
fn steps_and_now_are_marked_and_unanchored_times_are_offsets() {
    let text = svg("steps", &[]);
    let doc = Document::parse(&text).unwrap();
    let p = panel(&doc, "temperature");
    let steps: Vec<(&str, &str)> = class(p, "step")
        .iter()
        .map(|s| (data(*s, "kind"), data(*s, "line")))
        .collect();
    assert_eq!(steps, [("generate", "5"), ("generate", "13")]);
    let now = class(p, "now")[0];
    let x: f64 = data(now, "x").parse().unwrap();
    let marker = polylines(now);
    assert_eq!(marker.len(), 1);
    assert!(marker[0].iter().all(|(px, _)| *px == x));
    assert_eq!(texts(now), ["now"]);
    // Records end at now: the marker is at the axis' right end, after the
    // last tick.
    let axis = texts(class(p, "axes")[0]);
    assert!(axis.contains(&"now-6h".to_string()), "{axis:?}");
    assert!(axis.contains(&"now".to_string()), "{axis:?}");
    assert_eq!(
        data(doc.root_element().first_element_child().unwrap(), "now"),
        "unanchored"
    );
}

#[test]
fn anchored_times_are_utc() {
    let text = svg("anchored", &["--anchor", "2026-07-01T12:00:00Z"]);
    let doc = Document::parse(&text).unwrap();
    let axis = texts(class(panel(&doc, "temperature"), "axes")[0]);
    assert!(axis.contains(&"07-01 00:00".to_string()), "{axis:?}");
    assert!(axis.contains(&"12:00".to_string()), "{axis:?}");
    assert!(!axis.iter().any(|t| t.starts_with("now")), "{axis:?}");
}

#[test]
fn where_measure_and_from_select() {
    let text = svg(
        "select",
        &[
            "--where",
            "device=a",
            "--measure",
            "temperature",
            "--from",
            "now-6h",
        ],
    );
    let doc = Document::parse(&text).unwrap();
    let panels = class(doc.root_element(), "panel");
    assert_eq!(panels.len(), 1);
    let series: Vec<&str> = class(panels[0], "series")
        .iter()
        .map(|s| data(*s, "name"))
        .collect();
    assert_eq!(series, ["device=a"]);
    // The spike (now-8h) is outside the window; b's dropout is b's.
    assert!(class(panels[0], "anomaly").is_empty());
    let axis = texts(class(panels[0], "axes")[0]);
    assert!(!axis.contains(&"now-8h".to_string()), "{axis:?}");
}

/// The SVG drawn to pixels by resvg (text is not drawn: no font feature).
fn pixels(text: &str) -> resvg::tiny_skia::Pixmap {
    let tree = resvg::usvg::Tree::from_str(text, &resvg::usvg::Options::default()).unwrap();
    let size = tree.size().to_int_size();
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height()).unwrap();
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::default(),
        &mut pixmap.as_mut(),
    );
    pixmap
}

fn rgb(pixmap: &resvg::tiny_skia::Pixmap, x: i32, y: i32) -> (u8, u8, u8) {
    let p = pixmap.pixel(x as u32, y as u32).unwrap().demultiply();
    (p.red(), p.green(), p.blue())
}

/// Series b's orange (the palette's second colour, 255,127,14), also
/// half-blended into the background by anti-aliasing a 1 px line; the
/// background, the step bands and the red window are far less warm.
fn is_orange((r, g, b): (u8, u8, u8)) -> bool {
    r > 200 && g > 80 && i32::from(r) - i32::from(b) > 80 && i32::from(g) - i32::from(b) > 20
}

#[test]
fn pixels_show_the_band_red_and_nothing_of_b_across_its_dropout() {
    let text = svg("pixels", &[]);
    let doc = Document::parse(&text).unwrap();
    let pixmap = pixels(&text);
    let temperature = panel(&doc, "temperature");
    let (s0, s1, top, bottom) = window(temperature, "spike");
    // Mid-window, two thirds down (between a at 10 and its spike at 15):
    // the red band over the step's faint green over white.
    let (r, g, b) = rgb(&pixmap, (s0 + s1) / 2, top + (bottom - top) * 2 / 3);
    assert!(r > g + 20 && r > b + 20, "not red: {:?}", (r, g, b));
    // Outside any window the same row is not red.
    let (r, g, _) = rgb(&pixmap, s0 - 40, top + (bottom - top) * 2 / 3);
    assert!(r <= g + 5, "red outside the window: {r} {g}");
    // b is drawn (orange) just before its dropout and nowhere inside it.
    let (d0, d1, top, bottom) = window(temperature, "dropout");
    let column_has_orange = |x: i32| (top..bottom).any(|y| is_orange(rgb(&pixmap, x, y)));
    assert!(
        column_has_orange(d0 - 10),
        "b is not drawn before its dropout"
    );
    assert!(
        column_has_orange(d1 + 10),
        "b is not drawn after its dropout"
    );
    for x in d0 + 2..d1 - 2 {
        assert!(!column_has_orange(x), "b drawn across its dropout at x={x}");
    }
}

#[test]
fn png_output_is_a_picture_of_the_same_size() {
    let (code, _, err, run) = plot(
        "png",
        &["-o", "out.png", "--anchor", "2026-07-01T12:00:00Z"],
    );
    assert_eq!(code, 0, "{err}");
    let bytes = std::fs::read(run.dir.join("out.png")).unwrap();
    let pixmap = resvg::tiny_skia::Pixmap::decode_png(&bytes).unwrap();
    let reference = pixels(&svg("png-svg", &["--anchor", "2026-07-01T12:00:00Z"]));
    assert_eq!(
        (pixmap.width(), pixmap.height()),
        (reference.width(), reference.height())
    );
    // Not blank: some of series a's blue.
    let blue = pixmap
        .pixels()
        .iter()
        .filter(|p| {
            let p = p.demultiply();
            (p.red(), p.green(), p.blue()) == (31, 119, 180)
        })
        .count();
    assert!(blue > 500, "{blue} blue pixels");
}

#[test]
fn bad_input_says_what_and_exits_non_zero() {
    let cases: [(&[&str], i32, &str); 6] = [
        (
            &["-o", "out.svg", "--measure", "temprature"],
            1,
            "outatime::plot::unknown_measure",
        ),
        (
            &["-o", "out.svg", "--where", "device=zz"],
            1,
            "outatime::plot::empty_selection",
        ),
        (
            &["-o", "out.svg", "--where", "devise=a"],
            1,
            "outatime::plot::unknown_dimension",
        ),
        (&["-o", "out.jpg"], 2, "outatime::plot::unknown_format"),
        (
            &["-o", "out.svg", "--from", "yesterday"],
            2,
            "outatime::plot::bad_time",
        ),
        (
            &["-o", "out.svg", "--from", "now+1d"],
            1,
            "outatime::plot::empty_selection",
        ),
    ];
    for (args, expected, code) in cases {
        let (status, _, err, run) = plot(code.rsplit("::").next().unwrap(), args);
        assert_eq!(status, expected, "{args:?}: {err}");
        assert!(err.contains(code), "{args:?}: {err}");
        assert!(err.contains("help:"), "{args:?}: {err}");
        assert!(!run.dir.join("out.svg").exists(), "{args:?} wrote a file");
    }
    let (_, _, err, _) = plot(
        "measure-help",
        &["-o", "out.svg", "--measure", "temprature"],
    );
    assert!(err.contains("mode, open, temperature"), "{err}");
}

/// The pictures docs/plot.md and the README show are drawn by
/// scripts/plot-docs, exist, and (for the SVG, whose bytes do not depend
/// on a rasteriser) are what the current binary draws with the script's
/// own command.
#[test]
fn docs_pictures_come_from_the_script() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let script = std::fs::read_to_string(root.join("scripts/plot-docs")).unwrap();
    let linked = |doc: &str, prefix: &str| -> Vec<String> {
        let text = std::fs::read_to_string(root.join(doc)).unwrap();
        text.split("![")
            .skip(1)
            .filter_map(|rest| {
                let target = rest.split_once("](")?.1.split_once(')')?.0;
                target.strip_prefix(prefix).map(str::to_string)
            })
            .collect()
    };
    let docs = linked("docs/plot.md", "plot/");
    let readme = linked("README.md", "docs/plot/");
    assert!(docs.len() >= 3, "docs/plot.md shows {docs:?}");
    assert_eq!(readme.len(), 1, "the README's tour shows one: {readme:?}");
    for name in docs.iter().chain(&readme) {
        assert!(
            root.join("docs/plot").join(name).is_file(),
            "docs/plot/{name} is linked but missing: run scripts/plot-docs"
        );
        assert!(
            script.contains(&format!("\"$out/{name}\"")),
            "docs/plot/{name} is linked but scripts/plot-docs does not draw it"
        );
    }
    let anchor = script
        .lines()
        .find_map(|l| l.strip_prefix("anchor="))
        .unwrap();
    let svgs: Vec<&str> = script
        .lines()
        .filter(|l| l.starts_with("\"$bin\" plot ") && l.contains(".svg\""))
        .collect();
    assert!(!svgs.is_empty(), "the script draws no SVG to compare");
    let folder = scratch("plot-docs");
    for line in svgs {
        let out = folder.path().join("drawn.svg");
        let mut committed = None;
        let args: Vec<String> = line
            .split_whitespace()
            .skip(1)
            .map(|word| {
                let word = word.trim_matches('"');
                if let Some(name) = word.strip_prefix("$out/") {
                    committed = Some(root.join("docs/plot").join(name));
                    out.display().to_string()
                } else {
                    word.replace("$anchor", anchor)
                }
            })
            .collect();
        let status = Run::in_dir(root.join("scenarios")).args_os(args).output();
        assert!(status.status.success(), "{line}: {status:?}");
        let committed = committed.unwrap();
        let drawn = std::fs::read(&out).unwrap();
        let _ = std::fs::remove_file(&out);
        assert!(
            drawn == std::fs::read(&committed).unwrap(),
            "{} is not what `{line}` draws now: run scripts/plot-docs",
            committed.display()
        );
    }
}

#[test]
fn expectations_are_brackets_on_the_time_axis_of_every_panel() {
    let scenario = SCENARIO.replace("anomaly spike on", "anomaly spike as hot on")
        + r#"
expect "the spike was seen" {
  query influxql "SELECT max(temperature) FROM lab WHERE time >= $from AND time < $to"
  window anomaly hot .. + 30m
  value > 12
}

expect alert "TooHot" {
  firing within 15m of anomaly hot
}

expect "no window, no bracket" {
  query influxql "SELECT count(*) FROM alerts"
  empty
}
"#;
    let run = Run::new("plot_expect")
        .file("lab.scenario", &scenario)
        .args(&["plot", "lab.scenario", "-o", "out.svg"]);
    let (code, _, err) = run.run();
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(run.dir.join("out.svg")).unwrap();
    let doc = Document::parse(&text).unwrap();
    for measure in ["mode", "open", "temperature"] {
        let p = panel(&doc, measure);
        let brackets: Vec<(String, i32, i32)> = class(p, "expect")
            .iter()
            .map(|b| {
                (
                    data(*b, "line").to_string(),
                    data(*b, "x0").parse().unwrap(),
                    data(*b, "x1").parse().unwrap(),
                )
            })
            .collect();
        // The query's window is the spike's 30m and 30m more; the alert's
        // the 15m after the spike starts; the last block has none.
        assert_eq!(brackets.len(), 2, "{measure}: {brackets:?}");
        let of = |line: &str| brackets.iter().find(|b| b.0 == line).expect(line);
        let (_, q0, q1) = of("32");
        let (_, a0, a1) = of("38");
        assert!((q0 - a0).abs() <= 1, "{brackets:?}");
        assert!(((q1 - q0) - 4 * (a1 - a0)).abs() <= 3, "{brackets:?}");
        let label = texts(class(p, "expectations")[0]);
        assert!(
            label.contains(&"expect · line 32, 38".to_string()),
            "{label:?}"
        );
    }
    // The spike's window starts where the brackets do.
    let (s0, _, _, _) = window(panel(&doc, "temperature"), "spike");
    let q0: i32 = class(panel(&doc, "temperature"), "expect")
        .iter()
        .map(|b| data(*b, "x0").parse::<i32>().unwrap())
        .min()
        .unwrap();
    assert!((s0 - q0).abs() <= 1, "{s0} {q0}");
}
