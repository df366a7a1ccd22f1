//! Writes the golden fixture corpus: `cargo run --example gen_fixtures -- fixtures/`.
//!
//! The generator is deterministic; see `fixtures/README.md` and `examples/gen_fixtures/mod.rs`.

#[path = "gen_fixtures/mod.rs"]
mod gen;

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
