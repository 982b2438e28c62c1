//! `outatime diff OLD NEW --plot -o FILE` through the real binary: two
//! plans, each beside its own scenario (as a base checkout and a PR's
//! would be), and the picture read back as XML: which series are drawn,
//! on which side, and what the legend counts.

use roxmltree::{Document, Node};

use crate::common::Run;

/// `devices` series a–h at their own levels; a spike on `a`; a mode. The
/// table's name in the target differs from its name in the scenario, as
/// panels and plans name tables differently.
fn scenario(spike_at: &str, level_of_e_to_h: u32, extra: &str) -> String {
    let mut text =
        String::from("scenario \"Diff plot\"\nseed 3\ntable lab { name \"lab_target\" }\n\n");
    for (i, device) in ["a", "b", "c", "d", "e", "f", "g", "h"].iter().enumerate() {
        let level = if i >= 4 {
            level_of_e_to_h
        } else {
            10 * (i as u32 + 1)
        };
        text += &format!(
            "generate into lab {{\n  series device = \"{device}\"\n  from now - 12h to now every 5m\n  measure temperature double = constant(value: {level})\n  measure mode varchar = choice(\"cooling\", \"idle\")\n}}\n\n"
        );
    }
    text += &format!(
        "anomaly spike on lab.temperature {{\n  where device == \"a\"\n  at {spike_at} for 30m\n  magnitude 5\n}}\n"
    );
    text += extra;
    text
}

/// Plans `old` and `new` in folders of their own, then runs `diff` on
/// them with `extra` arguments.
fn diff(name: &str, old: &str, new: &str, extra: &[&str]) -> (i32, String, String, Run) {
    let run = Run::new(name)
        .file("old/lab.scenario", old)
        .file("new/lab.scenario", new);
    for side in ["old", "new"] {
        let scenario = format!("{side}/lab.scenario");
        let plan = format!("{side}/lab.plan");
        let (code, _, err) = run.again(&["plan", &scenario, "-o", &plan]).run();
        assert_eq!(code, 0, "{err}");
    }
    let mut args = vec!["diff", "old/lab.plan", "new/lab.plan"];
    args.extend_from_slice(extra);
    let (code, out, err) = run.again(&args).run();
    (code, out, err, run)
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

/// Per panel (measure), its series as (name, side), in drawing order.
fn drawn(doc: &Document<'_>) -> Vec<(String, Vec<(String, String)>)> {
    class(doc.root_element(), "panel")
        .into_iter()
        .map(|p| {
            let series = class(p, "series")
                .into_iter()
                .map(|s| (data(s, "name").to_string(), data(s, "side").to_string()))
                .collect();
            (data(p, "measure").to_string(), series)
        })
        .collect()
}

fn texts(node: Node<'_, '_>) -> Vec<String> {
    node.descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or("").trim().to_string())
        .collect()
}

fn pair(name: &str) -> Vec<(String, String)> {
    vec![
        (name.to_string(), "old".to_string()),
        (name.to_string(), "new".to_string()),
    ]
}

#[test]
fn a_changed_series_is_drawn_old_and_new_and_the_unchanged_not_at_all() {
    let old = scenario("now - 8h", 50, "");
    let new = scenario("now - 4h", 50, "");
    let (code, out, err, run) = diff("moved", &old, &new, &["--plot", "-o", "d.svg"]);
    // The text diff is printed as without --plot; plans differ: exit 1.
    assert_eq!(code, 1, "{err}");
    assert!(out.contains("anomaly spike"), "{out}");
    assert!(err.contains("wrote `d.svg`"), "{err}");
    let text = std::fs::read_to_string(run.dir.join("d.svg")).unwrap();
    let doc = Document::parse(&text).unwrap();
    let panel = class(doc.root_element(), "panel")[0];
    assert_eq!(data(panel, "table"), "lab_target");
    // Only `a`'s temperature changed: one panel, `a` old then new; the
    // mode panel and the other seven series are not drawn.
    assert_eq!(
        drawn(&doc),
        vec![("temperature".to_string(), pair("device=a"))]
    );
    let root = class(doc.root_element(), "plot")[0];
    assert_eq!(data(root, "old"), "old/lab.plan");
    assert_eq!(data(root, "new"), "new/lab.plan");
    // Both windows shown, each on its side, at different places.
    let windows: Vec<(String, String)> = class(root, "anomalies")
        .into_iter()
        .flat_map(|side| {
            class(side, "anomaly")
                .into_iter()
                .map(move |w| (data(side, "side").to_string(), data(w, "x0").to_string()))
        })
        .collect();
    assert_eq!(windows.len(), 2, "{windows:?}");
    assert_eq!(windows[0].0, "old");
    assert_eq!(windows[1].0, "new");
    assert!(
        windows[0].1.parse::<i32>().unwrap() < windows[1].1.parse::<i32>().unwrap(),
        "the old spike (now-8h) lies left of the new (now-4h): {windows:?}"
    );
    // The two lines differ where the spike moved.
    let lines: Vec<String> = class(root, "series")
        .into_iter()
        .map(|s| {
            s.descendants()
                .filter(|n| n.has_tag_name("polyline"))
                .map(|n| n.attribute("points").unwrap_or("").to_string())
                .collect()
        })
        .collect();
    assert_eq!(lines.len(), 2);
    assert_ne!(lines[0], lines[1]);
}

#[test]
fn many_changed_series_show_the_largest_few_and_count_the_rest() {
    let old = scenario("now - 8h", 50, "");
    // e–h from 50 to 55, and a new series i; the spike stays.
    let added = "generate into lab {\n  series device = \"i\"\n  from now - 12h to now every 5m\n  measure temperature double = constant(value: 1)\n  measure mode varchar = choice(\"cooling\", \"idle\")\n}\n";
    let new = scenario("now - 8h", 55, added);
    let (code, _, err, run) = diff("many", &old, &new, &["--plot", "-o", "d.svg"]);
    assert_eq!(code, 1, "{err}");
    let text = std::fs::read_to_string(run.dir.join("d.svg")).unwrap();
    let doc = Document::parse(&text).unwrap();
    let panels = drawn(&doc);
    let names: Vec<&str> = panels.iter().map(|(m, _)| m.as_str()).collect();
    // `i` is new in both panels; e–h changed temperature only.
    assert_eq!(names, ["mode", "temperature"]);
    let (_, mode) = &panels[0];
    assert_eq!(mode, &vec![("device=i".into(), "new".into())]);
    let (_, temperature) = &panels[1];
    // Five changed series shown: i (added, a whole change) and four of
    // e–h (+10%), old lines first, then new; a, b, c, d not at all.
    let old: Vec<&str> = temperature
        .iter()
        .filter(|(_, side)| side == "old")
        .map(|(n, _)| n.as_str())
        .collect();
    let new: Vec<&str> = temperature
        .iter()
        .filter(|(_, side)| side == "new")
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(old, ["device=e", "device=f", "device=g", "device=h"]);
    assert_eq!(
        new,
        ["device=i", "device=e", "device=f", "device=g", "device=h"]
    );
    let panel = class(doc.root_element(), "panel")
        .into_iter()
        .find(|p| data(*p, "measure") == "temperature")
        .unwrap();
    assert_eq!(data(panel, "changed"), "5");
}

#[test]
fn more_than_five_changed_series_leave_the_rest_counted_in_the_legend() {
    let old = scenario("now - 8h", 50, "");
    // Six changed series: e–h move, i and j are added.
    let added = "generate into lab {\n  series device = \"i\"\n  from now - 12h to now every 5m\n  measure temperature double = constant(value: 1)\n}\n\ngenerate into lab {\n  series device = \"j\"\n  from now - 12h to now every 5m\n  measure temperature double = constant(value: 2)\n}\n";
    let new = scenario("now - 8h", 60, added);
    let (code, _, err, run) = diff("rest", &old, &new, &["--plot", "-o", "d.svg"]);
    assert_eq!(code, 1, "{err}");
    let text = std::fs::read_to_string(run.dir.join("d.svg")).unwrap();
    let doc = Document::parse(&text).unwrap();
    let panel = class(doc.root_element(), "panel")
        .into_iter()
        .find(|p| data(*p, "measure") == "temperature")
        .unwrap();
    assert_eq!(data(panel, "changed"), "6");
    let new_lines = class(panel, "series")
        .into_iter()
        .filter(|s| data(*s, "side") == "new")
        .count();
    assert_eq!(new_lines, 5);
    let legend = class(panel, "legend")[0];
    assert!(
        texts(legend).contains(&"+1 more changed series".to_string()),
        "{:?}",
        texts(legend)
    );
}

#[test]
fn equal_plans_write_no_picture_and_say_so() {
    let same = scenario("now - 8h", 50, "");
    let (code, _, err, run) = diff("equal", &same, &same, &["--plot", "-o", "d.svg"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("no series changed between the plans: `d.svg` not written"),
        "{err}"
    );
    assert!(!run.dir.join("d.svg").exists());
}

#[test]
fn png_and_an_anchor_give_a_picture_with_utc_times() {
    let old = scenario("now - 8h", 50, "");
    let new = scenario("now - 4h", 50, "");
    let (code, _, err, run) = diff(
        "png",
        &old,
        &new,
        &["--plot", "-o", "d.png", "--anchor", "2026-11-27T12:00:00Z"],
    );
    assert_eq!(code, 1, "{err}");
    let bytes = std::fs::read(run.dir.join("d.png")).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let (code, _, err) = run
        .again(&[
            "diff",
            "old/lab.plan",
            "new/lab.plan",
            "--plot",
            "-o",
            "d.svg",
            "--anchor",
            "2026-11-27T12:00:00Z",
        ])
        .run();
    assert_eq!(code, 1, "{err}");
    let text = std::fs::read_to_string(run.dir.join("d.svg")).unwrap();
    let doc = Document::parse(&text).unwrap();
    let root = class(doc.root_element(), "plot")[0];
    assert_eq!(data(root, "now"), "2026-11-27T12:00:00.000Z");
}

#[test]
fn bad_arguments_and_stale_plans_are_refused_without_a_picture() {
    let old = scenario("now - 8h", 50, "");
    let new = scenario("now - 4h", 50, "");
    // An extension that names no picture: exit 2, nothing read.
    let (code, _, err, run) = diff("bad", &old, &new, &["--plot", "-o", "d.gif"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("d.gif"), "{err}");
    // A page is `plot`'s, not the diff's: exit 2, nothing written.
    let (code, _, err) = run
        .again(&[
            "diff",
            "old/lab.plan",
            "new/lab.plan",
            "--plot",
            "-o",
            "d.html",
        ])
        .run();
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("outatime::plot::diff_not_html"), "{err}");
    assert!(!run.dir.join("d.html").exists());
    // -o without --plot, --plot without -o: usage errors.
    let (code, _, err) = run
        .again(&["diff", "old/lab.plan", "new/lab.plan", "-o", "d.svg"])
        .run();
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = run
        .again(&["diff", "old/lab.plan", "new/lab.plan", "--plot"])
        .run();
    assert_eq!(code, 2, "{err}");
    // The old scenario edited after its plan was made: the plan is stale,
    // so its stream cannot be the one the plan pins.
    std::fs::write(run.dir.join("old/lab.scenario"), &new).unwrap();
    let (code, _, err) = run
        .again(&[
            "diff",
            "old/lab.plan",
            "new/lab.plan",
            "--plot",
            "-o",
            "d.svg",
        ])
        .run();
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("stale"), "{err}");
    assert!(!run.dir.join("d.svg").exists());
}
