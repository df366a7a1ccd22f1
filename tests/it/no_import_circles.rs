//! No import circles between modules: the crate's modules depend on one another one way only, so
//! each layer can be read (and moved) without the ones above it.
//!
//! The module graph is built from the source text: every path that starts with `crate::`,
//! `super::` or `self::` (in a `use`, `use` groups included, or inline in the code; comments and
//! string literals are skipped) is an edge from the module it is written in (inline `mod x { }`
//! blocks included) to the longest known module that path names. An edge is then lifted to the
//! level where the two modules part: `readers::word` using `readers::odf::Item` is the edge
//! `word → odf` among the children of `readers`; `recognise::referral` using
//! `crate::readers::paragraph_number` is `recognise → readers` among the crate's top modules. A
//! module using its own parent's or child's items is not an edge (a parent declares its children;
//! a child may use what its parent holds). A circle among siblings fails the test, named with the
//! file and line of each of its edges.
//!
//! The crates read: the library under `src/` (`src/main.rs` is a binary crate of its own) and,
//! when it exists, `crates/core/src/`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// One source file: its path relative to its crate's `src/` (`readers/word.rs`) and its text.
struct Source {
    rel: String,
    shown: String,
    text: String,
}

/// A module path from the crate root: `["readers", "word"]`; the root is empty.
type ModPath = Vec<String>;

/// Where an edge was seen: `src/readers/word.rs:81 crate::readers::odf::read_odt`.
#[derive(Clone, Debug)]
struct Evidence {
    file: String,
    line: usize,
    path: String,
}

/// The edges among the children of each module: parent → (child → child → first evidence).
#[derive(Default, Debug)]
struct Graph {
    modules: BTreeSet<ModPath>,
    siblings: BTreeMap<ModPath, BTreeMap<String, BTreeMap<String, Evidence>>>,
    edges_seen: usize,
}

// ---------------------------------------------------------------------------------------------
// Tokens

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    PathSep,
    Punct(char),
}

/// The tokens of a Rust source that matter for paths, each with its line; comments, string, byte
/// string, raw string and character literals and lifetimes are left out.
fn tokens(text: &str) -> Vec<(Tok, usize)> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut line = 1;
    let mut i = 0;
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c == '/' && at(i + 1) == '/' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if chars[i] == '\n' {
                        line += 1;
                    }
                    i += 1;
                }
            }
        } else if (c == 'r' || (c == 'b' && at(i + 1) == 'r')) && {
            let s = if c == 'b' { i + 2 } else { i + 1 };
            let mut j = s;
            while at(j) == '#' {
                j += 1;
            }
            at(j) == '"' && (j > s || at(s) == '"')
        } {
            // A raw string: r"..." or r#"..."#.
            let s = if c == 'b' { i + 2 } else { i + 1 };
            let mut hashes = 0;
            while at(s + hashes) == '#' {
                hashes += 1;
            }
            i = s + hashes + 1;
            while i < chars.len() {
                if chars[i] == '"' && (0..hashes).all(|k| at(i + 1 + k) == '#') {
                    i += 1 + hashes;
                    break;
                }
                if chars[i] == '\n' {
                    line += 1;
                }
                i += 1;
            }
        } else if c == '"' || (c == 'b' && at(i + 1) == '"') {
            i += if c == 'b' { 2 } else { 1 };
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                if at(i) == '\n' {
                    line += 1;
                }
                i += 1;
            }
            i += 1;
        } else if c == '\'' || (c == 'b' && at(i + 1) == '\'') {
            let s = if c == 'b' { i + 1 } else { i };
            if at(s + 1) == '\\' {
                // An escaped character: to the closing quote.
                i = s + 2;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if at(s + 2) == '\'' {
                i = s + 3;
            } else {
                // A lifetime or label: the quote alone, the name comes next as an identifier.
                i = s + 1;
            }
        } else if c.is_alphanumeric() || c == '_' {
            let s = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[s..i].iter().collect();
            let word = word.strip_prefix("r#").map(str::to_owned).unwrap_or(word);
            out.push((Tok::Ident(word), line));
        } else if c == ':' && at(i + 1) == ':' {
            out.push((Tok::PathSep, line));
            i += 2;
        } else {
            out.push((Tok::Punct(c), line));
            i += 1;
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Paths

/// The paths a path expression or `use` tree starting at `toks[start]` names, each as its
/// segments (a group `a::{b, c::d}` gives `a::b` and `a::c::d`; `self` in a group is the prefix).
fn use_tree(toks: &[(Tok, usize)], start: usize, prefix: Vec<String>, out: &mut Vec<Vec<String>>) -> usize {
    let mut segs = prefix;
    let mut i = start;
    loop {
        match toks.get(i).map(|t| &t.0) {
            Some(Tok::Ident(w)) if w == "as" => break,
            Some(Tok::Ident(w)) => {
                if w != "self" || segs.is_empty() {
                    segs.push(w.clone());
                }
                i += 1;
            }
            Some(Tok::Punct('{')) => {
                i += 1;
                loop {
                    match toks.get(i).map(|t| &t.0) {
                        Some(Tok::Punct('}')) => return i + 1,
                        Some(Tok::Punct(',')) => i += 1,
                        None => return i,
                        _ => {
                            let before = i;
                            i = use_tree(toks, i, segs.clone(), out);
                            // `x as y`: skip the alias.
                            if matches!(toks.get(i).map(|t| &t.0), Some(Tok::Ident(w)) if w == "as") {
                                i += 2;
                            }
                            if i == before {
                                i += 1;
                            }
                        }
                    }
                }
            }
            Some(Tok::Punct('*')) => {
                i += 1;
                break;
            }
            _ => break,
        }
        if toks.get(i).map(|t| &t.0) == Some(&Tok::PathSep) {
            i += 1;
        } else {
            break;
        }
    }
    out.push(segs);
    i
}

/// Every `crate::`/`super::`/`self::` path in one file: (module written in, path, line).
fn paths_in(source: &Source, file_module: &ModPath) -> (Vec<ModPath>, Vec<(ModPath, Vec<String>, usize)>) {
    let toks = tokens(&source.text);
    let mut inline: Vec<(String, usize)> = Vec::new(); // (name, brace depth inside it)
    let mut depth = 0usize;
    let mut modules = Vec::new();
    let mut found = Vec::new();
    let current = |inline: &Vec<(String, usize)>| -> ModPath {
        let mut m = file_module.clone();
        m.extend(inline.iter().map(|(n, _)| n.clone()));
        m
    };
    let mut i = 0;
    while i < toks.len() {
        let (tok, line) = &toks[i];
        match tok {
            Tok::Punct('{') => depth += 1,
            Tok::Punct('}') => {
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
                depth = depth.saturating_sub(1);
            }
            Tok::Ident(w) if w == "mod" => {
                if let (Some((Tok::Ident(name), _)), Some((Tok::Punct('{'), _))) = (toks.get(i + 1), toks.get(i + 2)) {
                    depth += 1;
                    inline.push((name.clone(), depth));
                    modules.push(current(&inline));
                    i += 3;
                    continue;
                }
            }
            Tok::Ident(w) if (w == "crate" || w == "super" || w == "self") && toks.get(i + 1).map(|t| &t.0) == Some(&Tok::PathSep) => {
                let after_sep = i > 0 && toks[i - 1].0 == Tok::PathSep;
                let after_dollar = i > 0 && toks[i - 1].0 == Tok::Punct('$');
                if !after_sep && !after_dollar {
                    let mut trees = Vec::new();
                    let end = use_tree(&toks, i, Vec::new(), &mut trees);
                    let here = current(&inline);
                    for segs in trees {
                        found.push((here.clone(), segs, *line));
                    }
                    // Braces inside a use group are balanced there; count none of them.
                    i = end.max(i + 1);
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    (modules, found)
}

/// A path's segments made absolute from the module it is written in; None if it climbs above
/// the crate root.
fn absolute(here: &ModPath, segs: &[String]) -> Option<ModPath> {
    let mut base: ModPath;
    let mut rest = segs;
    match segs.first().map(String::as_str) {
        Some("crate") => {
            base = Vec::new();
            rest = &segs[1..];
        }
        Some("self") => {
            base = here.clone();
            rest = &segs[1..];
        }
        Some("super") => {
            base = here.clone();
            while rest.first().map(String::as_str) == Some("super") {
                base.pop()?;
                rest = &rest[1..];
            }
        }
        _ => return None,
    }
    base.extend(rest.iter().cloned());
    Some(base)
}

/// The module a source file is: `lib.rs` → the root, `a/mod.rs` and `a.rs` → `a`, `a/b.rs` → `a::b`.
fn file_module(rel: &str) -> ModPath {
    let rel = rel.strip_suffix(".rs").unwrap_or(rel);
    let mut parts: Vec<String> = rel.split('/').map(str::to_owned).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib" | "main")) {
        parts.pop();
    }
    parts
}

/// The module graph of one crate's sources.
fn graph(sources: &[Source]) -> Graph {
    let mut g = Graph::default();
    let mut all = Vec::new();
    for s in sources {
        let m = file_module(&s.rel);
        let (inline, paths) = paths_in(s, &m);
        g.modules.insert(m.clone());
        g.modules.extend(inline);
        all.push((s, paths));
    }
    for (s, paths) in all {
        for (here, segs, line) in paths {
            let Some(abs) = absolute(&here, &segs) else { continue };
            // The longest known module the path names (the rest are items in it).
            let Some(target) = (0..=abs.len()).rev().map(|n| abs[..n].to_vec()).find(|p| g.modules.contains(p)) else {
                continue;
            };
            g.edges_seen += 1;
            let k = here.iter().zip(&target).take_while(|(a, b)| a == b).count();
            if k == here.len() || k == target.len() {
                continue; // the same module, an ancestor or a descendant
            }
            let evidence = Evidence { file: s.shown.clone(), line, path: segs.join("::") };
            g.siblings
                .entry(here[..k].to_vec())
                .or_default()
                .entry(here[k].clone())
                .or_default()
                .entry(target[k].clone())
                .or_insert(evidence);
        }
    }
    g
}

/// Every circle among siblings, each said as one line naming its modules and edges.
fn circles(g: &Graph) -> Vec<String> {
    let mut found = Vec::new();
    for (parent, edges) in &g.siblings {
        let nodes: BTreeSet<&String> = edges.keys().chain(edges.values().flat_map(|t| t.keys())).collect();
        let reach = |from: &String| -> BTreeSet<String> {
            let mut seen = BTreeSet::new();
            let mut todo = vec![from.clone()];
            while let Some(n) = todo.pop() {
                for next in edges.get(&n).into_iter().flat_map(|t| t.keys()) {
                    if seen.insert(next.clone()) {
                        todo.push(next.clone());
                    }
                }
            }
            seen
        };
        // Strongly connected components: the nodes that reach each other.
        let reaches: BTreeMap<&String, BTreeSet<String>> = nodes.iter().map(|n| (*n, reach(n))).collect();
        let mut done = BTreeSet::new();
        for n in &nodes {
            if done.contains(*n) || !reaches[n].contains(*n) {
                continue;
            }
            let component: BTreeSet<String> =
                nodes.iter().filter(|m| reaches[*n].contains(**m) && reaches[*m].contains(*n)).map(|m| (*m).clone()).collect();
            done.extend(component.iter().cloned());
            // One concrete cycle through `n`, by the shortest way back within the component.
            let mut back: BTreeMap<String, String> = BTreeMap::new();
            let mut queue = std::collections::VecDeque::from([(*n).clone()]);
            'search: while let Some(m) = queue.pop_front() {
                for next in edges.get(&m).into_iter().flat_map(|t| t.keys()) {
                    if !component.contains(next) || back.contains_key(next) {
                        continue;
                    }
                    back.insert(next.clone(), m.clone());
                    if next == *n {
                        break 'search;
                    }
                    queue.push_back(next.clone());
                }
            }
            let mut cycle = vec![(*n).clone()];
            let mut at = back[*n].clone();
            while at != **n {
                cycle.push(at.clone());
                at = back[&at].clone();
            }
            cycle.push((*n).clone());
            cycle.reverse();
            let name = |m: &String| if parent.is_empty() { m.clone() } else { format!("{}::{m}", parent.join("::")) };
            let steps: Vec<String> = cycle
                .windows(2)
                .map(|w| {
                    let e = &edges[&w[0]][&w[1]];
                    format!("{} → {} ({}:{} `{}`)", name(&w[0]), name(&w[1]), e.file, e.line, e.path)
                })
                .collect();
            found.push(format!("circle of {} modules: {}", component.len(), steps.join(", ")));
        }
    }
    found
}

// ---------------------------------------------------------------------------------------------
// The crate's sources

/// The sources of the crate rooted at `src` (relative to the package root), leaving out
/// `main.rs` (a crate of its own) unless `only_main`.
fn crate_sources(root: &Path, src: &str, only_main: bool) -> Vec<Source> {
    let dir = root.join(src);
    crate::support::sources::files(&dir, &["rs"])
        .into_iter()
        .filter_map(|f| {
            let rel = f.strip_prefix(&dir).ok()?.to_string_lossy().replace('\\', "/");
            let is_main = rel == "main.rs";
            if is_main != only_main || rel.starts_with("bin/") {
                return None;
            }
            let text = std::fs::read_to_string(&f).ok()?;
            Some(Source { shown: format!("{src}/{rel}"), rel, text })
        })
        .collect()
}

#[test]
fn no_module_circles_in_the_crates() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut crates = vec![("src (library)", crate_sources(root, "src", false)), ("src/main.rs", crate_sources(root, "src", true))];
    if root.join("crates/core/src").is_dir() {
        crates.push(("crates/core/src", crate_sources(root, "crates/core/src", false)));
    }
    let graphs: Vec<_> = crates.iter().map(|(_, sources)| graph(sources)).collect();
    // The graph was really read: a parser that found nothing would find no circle either.
    let modules: usize = graphs.iter().map(|g| g.modules.len()).sum();
    let edges: usize = graphs.iter().map(|g| g.edges_seen).sum();
    assert!(modules > 40, "the modules were found: {modules}");
    assert!(edges > 300, "the paths were read: {edges}");
    assert!(
        graphs.iter().any(|g| g.siblings.get(&Vec::new()).and_then(|e| e.get("inspect")).is_some_and(|t| t.contains_key("readers"))),
        "inspect → readers is seen"
    );
    assert!(
        graphs[0].siblings.get(&Vec::new()).and_then(|e| e.get("triage")).is_some_and(|t| t.contains_key("store")),
        "triage → store is seen in the service"
    );
    let mut all = Vec::new();
    let mut known = Vec::new();
    for ((name, _), g) in crates.iter().zip(&graphs) {
        for c in circles(g) {
            match KNOWN.iter().find(|k| c.starts_with(&format!("circle of {}", k.0)) && k.1.iter().all(|step| c.contains(step))) {
                Some(k) => known.push(k.1),
                None => all.push(format!("{name}: {c}")),
            }
        }
    }
    assert!(all.is_empty(), "modules that use each other (move what they share into a module below both):\n{}", all.join("\n"));
    // A known circle that is gone leaves this list, so that it cannot come back unnoticed.
    for k in KNOWN {
        assert!(known.contains(&k.1), "the circle {:?} is gone: take it off KNOWN", k.1);
    }
}

/// Circles left for now, each with its modules' count and its steps; any other circle fails.
/// - `outbox ⇄ store`: the store stamps times with `outbox::timestamp`; the timestamp work of
///   issue 13 (one clock, one format) moves it.
/// - `store::{accounts, audit, cases, subjects}`: `HiddenCases` lives in `subjects` and is used by
///   `accounts` and `cases`, which `subjects` uses; `audit`'s tests write an `accounts::Audit`.
const KNOWN: &[(usize, &[&str])] = &[
];

// ---------------------------------------------------------------------------------------------
// The detector itself, on small crates in memory

fn in_memory(files: &[(&str, &str)]) -> Vec<Source> {
    files.iter().map(|(rel, text)| Source { rel: rel.to_string(), shown: format!("src/{rel}"), text: text.to_string() }).collect()
}

#[test]
fn two_siblings_using_each_other_are_a_circle() {
    let sources = in_memory(&[
        ("lib.rs", "pub mod a;\npub mod b;\n"),
        ("a.rs", "use crate::b::Thing;\npub struct Other;\n"),
        ("b.rs", "pub struct Thing;\nfn f() -> super::a::Other { todo!() }\n"),
    ]);
    let found = circles(&graph(&sources));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("a → b (src/a.rs:1 `crate::b::Thing`)"), "{}", found[0]);
    assert!(found[0].contains("b → a (src/b.rs:2 `super::a::Other`)"), "{}", found[0]);
}

#[test]
fn a_circle_through_children_of_two_modules_is_named_where_they_part() {
    let sources = in_memory(&[
        ("lib.rs", "pub mod x;\npub mod y;\npub mod z;\n"),
        ("x/mod.rs", "pub mod deep;\n"),
        ("x/deep.rs", "use crate::{document, y::{inner::{self, Item as Other}}};\n"),
        ("y/mod.rs", "pub mod inner;\n"),
        ("y/inner.rs", "pub struct Item;\nfn f() { let _ = crate::z::G; }\n"),
        ("z.rs", "pub const G: u8 = 0;\nuse super::x::deep;\n"),
    ]);
    let found = circles(&graph(&sources));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("circle of 3 modules:"), "{}", found[0]);
    for step in ["x → y", "y → z", "z → x"] {
        assert!(found[0].contains(step), "{step} in {}", found[0]);
    }
}

#[test]
fn parents_children_comments_and_strings_are_no_circle() {
    let sources = in_memory(&[
        ("lib.rs", "pub mod a;\npub mod b;\npub fn shared() {}\n"),
        // a uses its child, its child uses its parent and the crate root: no circle.
        ("a/mod.rs", "pub mod child;\nuse self::child::C;\npub struct P;\nfn f() { crate::b::g(); }\n"),
        ("a/child.rs", "use super::P;\npub struct C;\nfn f() { crate::shared(); super::super::shared(); }\n"),
        // b names a only in a comment, a doc link, a string and a raw string, and its test module's
        // own `super` is b.
        (
            "b.rs",
            "//! See [`crate::a::P`].\n/* crate::a::P */\npub fn g() { let _ = \"crate::a::P\"; let _ = r#\"crate::a\"#; let _ = '\"'; }\nfn h<'a>(x: &'a str) -> &'a str { x }\n#[cfg(test)]\nmod tests { use super::g; }\n",
        ),
    ]);
    let g = graph(&sources);
    assert!(circles(&g).is_empty(), "{:?}", circles(&g));
    assert!(g.modules.contains(&vec!["b".to_owned(), "tests".to_owned()]), "inline modules are known");
    // And a real use from b's test module is seen, and is a circle.
    let mut with_test_use = sources;
    with_test_use[3].text.push_str("#[cfg(test)]\nmod more { use crate::a::P; }\n");
    let found = circles(&graph(&with_test_use));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("b → a (src/b.rs:8 `crate::a::P`)"), "{}", found[0]);
}
