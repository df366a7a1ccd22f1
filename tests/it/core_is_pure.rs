//! The core crate (`crates/core`) stays pure: bytes and values in, values out. The compiler keeps
//! most of it, since the core's manifest does not name an async runtime, a database, a network or
//! web crate, or chrono's clock; this test keeps the manifest so and reads the core's source
//! (outside its tests) for the rest: no clock read, no file system, network, process,
//! environment or terminal.

use std::path::Path;

/// Crates the core must not depend on: each does I/O or needs a runtime.
const FORBIDDEN_CRATES: [&str; 14] = [
    "tokio", "sqlx", "axum", "hyper", "hyper-util", "tower", "async-imap", "tokio-rustls", "rustls", "mail-auth", "argon2", "tracing", "futures-util", "getrandom",
];

/// Source text that reads a clock or touches the world outside the process.
const FORBIDDEN_CODE: [&str; 20] = [
    "::now(",
    "Instant::now",
    "Utc::now",
    "Local::now",
    "SystemTime::now",
    ".elapsed(",
    "std::fs",
    "File::",
    "TcpStream",
    "TcpListener",
    "UdpSocket",
    "to_socket_addrs",
    "std::process",
    "Command::new",
    "std::env",
    "env!(",
    "stdin(",
    "stdout(",
    "println!",
    "eprintln!",
];

/// The text with comments and string and character literals blanked (newlines kept), so that
/// only code is searched and braces can be counted.
fn code_only(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |out: &mut String, s: &[char]| out.extend(s.iter().map(|&ch| if ch == '\n' { '\n' } else { ' ' }));
    let mut i = 0;
    while i < c.len() {
        let rest = &c[i..];
        let starts = |p: &str| p.chars().enumerate().all(|(k, ch)| rest.get(k) == Some(&ch));
        let end = if starts("//") {
            i + rest.iter().position(|&ch| ch == '\n').unwrap_or(rest.len())
        } else if starts("/*") {
            let mut depth = 0;
            let mut k = i;
            loop {
                if k + 1 >= c.len() {
                    break c.len();
                }
                if c[k] == '/' && c[k + 1] == '*' {
                    depth += 1;
                    k += 2;
                } else if c[k] == '*' && c[k + 1] == '/' {
                    depth -= 1;
                    k += 2;
                    if depth == 0 {
                        break k;
                    }
                } else {
                    k += 1;
                }
            }
        } else if (starts("r#") || starts("r\"") || starts("br#") || starts("br\"")) && !i.checked_sub(1).is_some_and(|p| c[p].is_alphanumeric() || c[p] == '_') {
            let open = i + rest.iter().position(|&ch| ch == '"').unwrap();
            let hashes = c[i..open].iter().filter(|&&ch| ch == '#').count();
            let close: String = std::iter::once('"').chain(std::iter::repeat_n('#', hashes)).collect();
            let after: String = c[open + 1..].iter().collect();
            open + 1 + after.find(&close).map(|b| after[..b].chars().count() + close.chars().count()).unwrap_or(c.len() - open - 1)
        } else if c[i] == '"' {
            let mut k = i + 1;
            while k < c.len() && c[k] != '"' {
                k += if c[k] == '\\' { 2 } else { 1 };
            }
            (k + 1).min(c.len())
        } else if c[i] == '\'' && c.get(i + 1) == Some(&'\\') {
            (i + 3 + c.get(i + 3..).unwrap_or_default().iter().position(|&ch| ch == '\'').map(|p| p + 1).unwrap_or(0)).min(c.len())
        } else if c[i] == '\'' && c.get(i + 2) == Some(&'\'') {
            i + 3
        } else {
            out.push(c[i]);
            i += 1;
            continue;
        };
        blank(&mut out, &c[i..end]);
        i = end;
    }
    out
}

/// Code with every `#[cfg(test)]` item removed (a `mod tests { .. }` block, or the one item or
/// line that follows the attribute).
fn outside_tests(code: &str) -> String {
    let mut out = code.to_owned();
    while let Some(at) = out.find("#[cfg(test)]") {
        let after = at + "#[cfg(test)]".len();
        let semi = out[after..].find(';').map(|p| after + p);
        let brace = out[after..].find('{').map(|p| after + p);
        let end = match (semi, brace) {
            (Some(s), Some(b)) if s < b => s + 1,
            (_, Some(b)) => {
                let mut depth = 0;
                let mut end = out.len();
                for (k, ch) in out[b..].char_indices() {
                    match ch {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                end = b + k + 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                end
            }
            (Some(s), None) => s + 1,
            (None, None) => out.len(),
        };
        let kept: String = out[at..end].chars().filter(|&ch| ch == '\n').collect();
        out.replace_range(at..end, &kept);
    }
    out
}

/// What in one file's text breaks the rule: (line, forbidden text).
fn impurities(text: &str) -> Vec<(usize, &'static str)> {
    let code = outside_tests(&code_only(text));
    let mut found = Vec::new();
    for (n, line) in code.lines().enumerate() {
        for bad in FORBIDDEN_CODE {
            // A whole name: `ConfigFile::build` is not `File::`.
            let whole = |(at, _): &(usize, &str)| !bad.starts_with(char::is_alphabetic) || !line[..*at].ends_with(|c: char| c.is_alphanumeric() || c == '_');
            if line.match_indices(bad).any(|m| whole(&m)) {
                found.push((n + 1, bad));
            }
        }
    }
    found
}

#[test]
fn the_search_finds_clock_and_io_in_code_and_not_in_tests_comments_or_text() {
    let text = r##"
//! Reads no clock: `Utc::now()` in a comment is fine.
use std::time::Instant;
fn doc() -> &'static str { "std::fs::read in a string; } is not a brace" }
fn raw() -> &'static str { r#"println!("{}")"# }
fn c() -> char { '{' }
fn late() -> bool { let t = chrono::Utc::now(); t.timestamp() > 0 }
#[cfg(test)]
mod tests {
    #[test]
    fn t() { let _ = std::fs::read("x"); let _ = std::time::Instant::now(); }
}
fn edge() { std::process::exit(1) }
"##;
    assert_eq!(impurities(text), vec![(7, "::now("), (7, "Utc::now"), (13, "std::process")]);
    assert!(impurities("fn f<'a>(x: &'a str) -> &'a str { x }").is_empty(), "lifetimes are not character literals");
    assert!(impurities("let c = ConfigFile::build(x);").is_empty(), "a longer name is not a forbidden one");
    assert_eq!(impurities("let f = std::fs::File::open(p);"), vec![(1, "std::fs"), (1, "File::")]);
}

#[test]
fn the_core_reads_no_clock_and_touches_no_io() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/core");
    let files = crate::support::sources::files(&root.join("src"), &["rs"]);
    assert!(files.len() > 30, "the core's sources were found ({})", files.len());
    let mut bad = Vec::new();
    for f in &files {
        if f.file_name().is_some_and(|n| n == "tests.rs") {
            continue;
        }
        let text = std::fs::read_to_string(f).unwrap();
        for (line, what) in impurities(&text) {
            bad.push(format!("{}:{line}: {what}", f.strip_prefix(&root).unwrap().display()));
        }
    }
    assert!(bad.is_empty(), "the core must stay pure (pass the clock or the data in from the edge):\n{}", bad.join("\n"));
}

#[test]
fn the_core_depends_on_no_runtime_database_network_or_clock() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/core");
    let manifest: toml::Table = std::fs::read_to_string(root.join("Cargo.toml")).unwrap().parse().unwrap();
    let deps = manifest["dependencies"].as_table().expect("the core has dependencies");
    assert!(deps.contains_key("lopdf") && deps.contains_key("mail-parser"), "the manifest was read");
    for name in FORBIDDEN_CRATES {
        assert!(!deps.contains_key(name), "the core depends on {name}");
    }
    let features = |name: &str| -> Vec<String> {
        let dep = deps[name].as_table().unwrap_or_else(|| panic!("{name} is declared with its features"));
        assert_eq!(dep.get("default-features").and_then(|v| v.as_bool()), Some(false), "{name}'s default features are off");
        dep.get("features").and_then(|f| f.as_array()).map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect()).unwrap_or_default()
    };
    assert!(!features("chrono").iter().any(|f| f == "clock" || f == "now"), "chrono's clock is the edge's");
    assert_eq!(features("lettre"), ["builder"], "lettre builds replies here; its transports are the edge's");
}
