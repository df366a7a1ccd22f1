//! The configuration at the edge: the types and their validation are the core's
//! (`marac_core::config`, re-exported here); reading the file and the secret files it names
//! happens here, in the service.

pub use marac_core::config::*;
use std::path::Path;

/// Reads, overrides from the environment and validates. `env` is the process environment (only
/// `MARAC__*` variables are used).
pub fn load(path: &Path, env: impl IntoIterator<Item = (String, String)>) -> Result<Config, ConfigError> {
    load_layered(path, &RuleLayer::default(), env)
}

/// [`load`] with the admins' rule sections from the database layered over the file.
pub fn load_layered(path: &Path, rules: &RuleLayer, env: impl IntoIterator<Item = (String, String)>) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError { key: String::new(), reason: format!("cannot read {}: {e}", path.display()) })?;
    from_text(&text, path, rules, env)
}

/// Reads a secret file: a relative path is looked up in systemd's `$CREDENTIALS_DIRECTORY` when
/// that is set. Trailing newlines are removed.
pub fn read_secret(path: &Path) -> std::io::Result<String> {
    let full = match std::env::var_os("CREDENTIALS_DIRECTORY") {
        Some(dir) if path.is_relative() => Path::new(&dir).join(path),
        _ => path.to_path_buf(),
    };
    Ok(std::fs::read_to_string(full)?.trim_end_matches(['\r', '\n']).to_owned())
}
