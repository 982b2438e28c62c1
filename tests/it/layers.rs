//! The layering docs/architecture.md promises, held against the code: every
//! folder (or top-level file) of `src/` imports only the layers below its
//! own, peers on one layer do not import each other, and no two files
//! import each other in a circle. The layers are the `layers` block of
//! docs/architecture.md, so the page and this check cannot drift apart.
//!
//! Paths are read from the source text (`use` trees and paths such as
//! `crate::record::Value` in expressions), resolved to the file of the
//! module they name. Test code (`#[cfg(test)]` items, and the files of
//! `#[cfg(test)] mod tests;`) is left out: a unit test may build what it
//! tests from any layer.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, bottom first: each line of the `layers` block is one layer
/// of peers.
fn layers(root: &Path) -> Vec<Vec<String>> {
    let page = std::fs::read_to_string(root.join("docs/architecture.md")).unwrap();
    let block = page
        .split("```layers\n")
        .nth(1)
        .expect("docs/architecture.md has a ```layers block")
        .split("```")
        .next()
        .unwrap();
    let mut layers: Vec<Vec<String>> = block
        .lines()
        .map(|line| line.split('#').next().unwrap())
        .filter(|line| !line.trim().is_empty())
        .map(|line| line.split_whitespace().map(str::to_string).collect())
        .collect();
    // The block is written top first, as the page draws the pipeline.
    layers.reverse();
    layers
}

/// A module of the crate: its path (`["compile", "stream"]`) and file.
struct Module {
    path: Vec<String>,
    file: PathBuf,
}

/// Every module of the crate that has a file of its own, by path.
fn modules(src: &Path) -> BTreeMap<Vec<String>, Module> {
    let mut found = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let relative = path.strip_prefix(src).unwrap();
            let mut parts: Vec<String> = relative
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            let last = parts.pop().unwrap();
            match last.as_str() {
                "mod.rs" => {}
                "lib.rs" | "main.rs" if parts.is_empty() => {
                    parts.push(last.trim_end_matches(".rs").to_string())
                }
                _ => parts.push(last.trim_end_matches(".rs").to_string()),
            }
            found.insert(
                parts.clone(),
                Module {
                    path: parts,
                    file: path,
                },
            );
        }
    }
    found
}

/// A token of Rust source, as far as paths need: names, `::`, and the
/// punctuation that delimits `use` trees and items.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    Name(String),
    Colons,
    Punct(char),
}

/// Source text as tokens, without comments, strings and characters.
fn tokens(text: &str) -> Vec<Token> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'/' && bytes.get(i + 1) == Some(&b'/') {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
        } else if c == b'/' && bytes.get(i + 1) == Some(&b'*') {
            let mut depth = 0;
            while i < bytes.len() {
                if bytes[i] == b'/' && bytes.get(i + 1) == Some(&b'*') {
                    depth += 1;
                    i += 2;
                } else if bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c == b'r' && matches!(bytes.get(i + 1), Some(b'"' | b'#')) {
            // A raw string: r"..", r#".."#.
            let mut hashes = 0;
            let mut j = i + 1;
            while bytes.get(j) == Some(&b'#') {
                hashes += 1;
                j += 1;
            }
            if bytes.get(j) != Some(&b'"') {
                out.push(Token::Name("r".into()));
                i += 1;
                continue;
            }
            j += 1;
            let close: Vec<u8> = std::iter::once(b'"')
                .chain(std::iter::repeat_n(b'#', hashes))
                .collect();
            while j < bytes.len() && !bytes[j..].starts_with(&close) {
                j += 1;
            }
            i = j + close.len();
        } else if c == b'"' {
            i += 1;
            while i < bytes.len() && bytes[i] != b'"' {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
        } else if c == b'\'' {
            // A character literal ('a', '\n', '\u{1F600}'), or a lifetime.
            let rest = &text[i + 1..];
            let literal_end = if rest.starts_with('\\') {
                rest.find('\'').map(|k| k + 1)
            } else {
                let mut chars = rest.chars();
                match (chars.next(), chars.next()) {
                    (Some(ch), Some('\'')) => Some(ch.len_utf8() + 1),
                    _ => None,
                }
            };
            match literal_end {
                Some(len) => i += 1 + len,
                None => i += 1,
            }
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            out.push(Token::Name(text[start..i].to_string()));
        } else if c == b':' && bytes.get(i + 1) == Some(&b':') {
            out.push(Token::Colons);
            i += 2;
        } else {
            if !c.is_ascii_whitespace() {
                out.push(Token::Punct(c as char));
            }
            i += 1;
        }
    }
    out
}

/// The tokens without test code: an item after `#[cfg(test)]` is dropped
/// (a `mod name;` is returned as a test module's name, whose file is test
/// code too).
fn without_tests(tokens: &[Token]) -> (Vec<Token>, Vec<String>) {
    let mut kept = Vec::new();
    let mut test_modules = Vec::new();
    let mut i = 0;
    let is = |k: usize, t: &str| matches!(tokens.get(k), Some(Token::Name(n)) if n == t);
    let punct = |k: usize, c: char| tokens.get(k) == Some(&Token::Punct(c));
    while i < tokens.len() {
        let cfg_test = punct(i, '#')
            && punct(i + 1, '[')
            && is(i + 2, "cfg")
            && punct(i + 3, '(')
            && is(i + 4, "test")
            && punct(i + 5, ')')
            && punct(i + 6, ']');
        if !cfg_test {
            kept.push(tokens[i].clone());
            i += 1;
            continue;
        }
        i += 7;
        // Skip the item: up to its `;` or its balanced `{ .. }`.
        if is(i, "mod")
            && let (Some(Token::Name(name)), true) = (tokens.get(i + 1), punct(i + 2, ';'))
        {
            test_modules.push(name.clone());
        }
        let mut depth = 0;
        while i < tokens.len() {
            match &tokens[i] {
                Token::Punct('{') => depth += 1,
                Token::Punct('}') => {
                    depth -= 1;
                    if depth == 0 {
                        i += 1;
                        break;
                    }
                }
                Token::Punct(';') if depth == 0 => {
                    i += 1;
                    break;
                }
                _ => {}
            }
            i += 1;
        }
    }
    (kept, test_modules)
}

/// Every path the tokens name: `use` trees expanded, and paths of two or
/// more segments elsewhere. Segments only; `self`/`super`/`crate` kept.
fn paths(tokens: &[Token]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if matches!(&tokens[i], Token::Name(n) if n == "use") {
            let end = (i..tokens.len())
                .find(|&k| tokens[k] == Token::Punct(';'))
                .unwrap_or(tokens.len());
            use_tree(&tokens[i + 1..end], &[], &mut out);
            i = end + 1;
            continue;
        }
        if let Token::Name(first) = &tokens[i]
            && tokens.get(i + 1) == Some(&Token::Colons)
            && !matches!(i.checked_sub(1).map(|k| &tokens[k]), Some(Token::Colons))
        {
            let mut path = vec![first.clone()];
            let mut k = i + 1;
            while tokens.get(k) == Some(&Token::Colons) {
                match tokens.get(k + 1) {
                    Some(Token::Name(n)) => path.push(n.clone()),
                    _ => break,
                }
                k += 2;
            }
            out.push(path);
            i = k;
            continue;
        }
        i += 1;
    }
    out
}

/// A `use` tree (`a::b::{c, d::e as f, self}`) into its full paths.
fn use_tree(tokens: &[Token], prefix: &[String], out: &mut Vec<Vec<String>>) {
    let mut path = prefix.to_vec();
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i] {
            // `x as y`: the path is `x`'s.
            Token::Name(n) if n == "as" => {
                i += 2;
                continue;
            }
            Token::Name(n) => path.push(n.clone()),
            Token::Colons => {}
            Token::Punct('{') => {
                // The group's items, split at top-level commas.
                let mut depth = 0;
                let mut start = i + 1;
                let mut k = i + 1;
                while k < tokens.len() {
                    match tokens[k] {
                        Token::Punct('{') => depth += 1,
                        Token::Punct('}') if depth == 0 => break,
                        Token::Punct('}') => depth -= 1,
                        Token::Punct(',') if depth == 0 => {
                            use_tree(&tokens[start..k], &path, out);
                            start = k + 1;
                        }
                        _ => {}
                    }
                    k += 1;
                }
                use_tree(&tokens[start..k], &path, out);
                return;
            }
            Token::Punct(_) => {}
        }
        i += 1;
    }
    if path.len() > prefix.len() {
        out.push(path);
    }
}

/// The module a path names, made absolute from `module` (whose file
/// declares `children`); `None` for another crate's path.
fn absolute(
    path: &[String],
    module: &[String],
    children: &BTreeSet<String>,
) -> Option<Vec<String>> {
    // `super::` is the parent of the module, whether its file is
    // `name/mod.rs` or `name.rs`.
    let mut base: Vec<String> = module.to_vec();
    let mut rest = path;
    match rest.first().map(String::as_str) {
        Some("crate") => {
            base.clear();
            rest = &rest[1..];
        }
        Some("self") => rest = &rest[1..],
        Some("super") => {
            while rest.first().map(String::as_str) == Some("super") {
                base.pop();
                rest = &rest[1..];
            }
        }
        Some(first) if children.contains(first) => {}
        _ => return None,
    }
    base.extend(rest.iter().cloned());
    Some(base)
}

/// Which modules each file imports (test code left out), and which files
/// are test code.
fn imports(src: &Path) -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let modules = modules(src);
    let mut tests: BTreeSet<Vec<String>> = BTreeSet::new();
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for module in modules.values() {
        let text = std::fs::read_to_string(&module.file).unwrap();
        let (tokens, test_modules) = without_tests(&tokens(&text));
        let own: Vec<String> = match module.path.as_slice() {
            [root] if root == "lib" || root == "main" => Vec::new(),
            path => path.to_vec(),
        };
        for name in &test_modules {
            let mut path = own.clone();
            path.push(name.clone());
            tests.insert(path);
        }
        let children: BTreeSet<String> = tokens
            .windows(3)
            .filter_map(|w| match w {
                [Token::Name(m), Token::Name(name), Token::Punct(';' | '{')] if m == "mod" => {
                    Some(name.clone())
                }
                _ => None,
            })
            .collect();
        let targets = edges.entry(module.path.clone()).or_default();
        for path in paths(&tokens) {
            let Some(full) = absolute(&path, &own, &children) else {
                continue;
            };
            // The longest prefix that is a module with a file.
            let named = (1..=full.len())
                .rev()
                .map(|n| full[..n].to_vec())
                .find(|p| modules.contains_key(p));
            if let Some(named) = named
                && named != module.path
            {
                targets.insert(named);
            }
        }
    }
    // Test files, and modules below them, are left out.
    edges.retain(|m, _| !tests.iter().any(|t| m.starts_with(t)));
    for targets in edges.values_mut() {
        targets.retain(|m| !tests.iter().any(|t| m.starts_with(t)));
    }
    edges
}

fn shown(module: &[String]) -> String {
    if module.is_empty() {
        "lib".into()
    } else {
        module.join("::")
    }
}

#[test]
fn every_import_points_down_the_layers_of_docs_architecture() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let layers = layers(root);
    let layer_of: BTreeMap<&str, usize> = layers
        .iter()
        .enumerate()
        .flat_map(|(i, names)| names.iter().map(move |n| (n.as_str(), i)))
        .collect();
    let edges = imports(&root.join("src"));
    let mut unplaced = BTreeSet::new();
    let mut upward = Vec::new();
    for (from, targets) in &edges {
        let from_top = from[0].as_str();
        for to in targets {
            let to_top = to[0].as_str();
            if from_top == to_top {
                continue;
            }
            match (layer_of.get(from_top), layer_of.get(to_top)) {
                (Some(&a), Some(&b)) if b < a => {}
                (Some(_), Some(_)) => upward.push(format!(
                    "  {} imports {} ({} is not below {})",
                    shown(from),
                    shown(to),
                    to_top,
                    from_top
                )),
                (None, _) => {
                    unplaced.insert(from_top.to_string());
                }
                (_, None) => {
                    unplaced.insert(to_top.to_string());
                }
            }
        }
    }
    assert!(
        unplaced.is_empty(),
        "src/ has folders or files that no layer of docs/architecture.md names: {unplaced:?}"
    );
    assert!(
        upward.is_empty(),
        "imports that do not point down the layers of docs/architecture.md:\n{}",
        upward.join("\n")
    );
}

#[test]
fn no_files_import_each_other_in_a_circle() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let edges = imports(&root.join("src"));
    // Tarjan's strongly connected components: a component of more than one
    // file is a circle.
    struct State<'a> {
        edges: &'a BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        index: BTreeMap<&'a Vec<String>, usize>,
        low: BTreeMap<&'a Vec<String>, usize>,
        stack: Vec<&'a Vec<String>>,
        on_stack: BTreeSet<&'a Vec<String>>,
        circles: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a Vec<String>) {
        let i = s.index.len();
        s.index.insert(v, i);
        s.low.insert(v, i);
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in s.edges.get(v).into_iter().flatten() {
            // A module reaching into its own children (declaring them,
            // re-exporting what they define) owns them; that is no circle.
            if w.starts_with(v) {
                continue;
            }
            let Some((w, _)) = s.edges.get_key_value(w) else {
                continue;
            };
            if !s.index.contains_key(w) {
                visit(s, w);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(shown(w));
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.circles.push(component);
            }
        }
    }
    let mut state = State {
        edges: &edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        circles: Vec::new(),
    };
    for v in edges.keys() {
        if !state.index.contains_key(v) {
            visit(&mut state, v);
        }
    }
    let circles: Vec<String> = state
        .circles
        .iter()
        .map(|c| format!("  {}", c.join(" <-> ")))
        .collect();
    assert!(
        circles.is_empty(),
        "files of src/ that import each other in a circle:\n{}",
        circles.join("\n")
    );
}

#[test]
fn the_check_sees_an_upward_import_and_a_circle() {
    // The reading itself, on a tree made for it: a lower folder naming a
    // higher one is found, through a `use` group and through a path in an
    // expression, and so is a circle of two files.
    let scratch = crate::common::scratch("layers");
    let dir = scratch.path();
    std::fs::create_dir_all(dir.join("low")).unwrap();
    std::fs::create_dir_all(dir.join("high")).unwrap();
    std::fs::write(dir.join("lib.rs"), "mod low;\nmod high;\n").unwrap();
    std::fs::write(
        dir.join("low/mod.rs"),
        "mod a;\nmod b;\nuse crate::{high::{self, Thing}};\n// crate::ignored::InAComment\nfn f() { let s = \"crate::nor::InAString\"; }\n#[cfg(test)]\nmod tests { use crate::high::TestOnly; }\n",
    )
    .unwrap();
    std::fs::write(dir.join("low/a.rs"), "use super::b::B;\npub struct A;\n").unwrap();
    std::fs::write(
        dir.join("low/b.rs"),
        "pub struct B;\nfn g() -> super::a::A { super::a::A }\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("high/mod.rs"),
        "pub struct Thing;\nfn h() { crate::low::f(); }\n",
    )
    .unwrap();
    let edges = imports(dir);
    let key = |p: &str| -> Vec<String> { p.split("::").map(str::to_string).collect() };
    assert!(edges[&key("low")].contains(&key("high")), "{edges:?}");
    assert!(edges[&key("high")].contains(&key("low")), "{edges:?}");
    assert!(edges[&key("low::a")].contains(&key("low::b")), "{edges:?}");
    assert!(edges[&key("low::b")].contains(&key("low::a")), "{edges:?}");
    assert!(
        !edges
            .values()
            .flatten()
            .any(|m| m[0] == "ignored" || m[0] == "nor"),
        "{edges:?}"
    );
}
