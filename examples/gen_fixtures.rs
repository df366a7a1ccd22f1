//! Writes the golden fixture corpus: `cargo run --example gen_fixtures -- fixtures/`.
//!
//! The generator is deterministic; see `fixtures/README.md` and the `gen-fixtures` crate
//! (`crates/gen-fixtures/`), a development-only member of the workspace.

use gen_fixtures as gen;

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "fixtures".to_string());
    match gen::write_all(std::path::Path::new(&dir)) {
        Ok(names) => println!("wrote {} files to {dir}", names.len()),
        Err(e) => {
            eprintln!("gen_fixtures: cannot write to {dir}: {e}");
            std::process::exit(1);
        }
    }
}
