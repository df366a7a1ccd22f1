//! The configuration in force: the file, with the rule sections admins changed in the web
//! console (stored in the database, [`crate::store::rules`]) layered over it, then the
//! `MARAC__*` environment overrides. Every command that decides or shows rules loads it here, so
//! `triage`, `run` and `serve` apply the same rules. The running service and the web console
//! notice a change by its number ([`crate::store::Store::rules_version`]) and load again.

use crate::config::{self, Config};
use crate::store::Store;
use anyhow::{anyhow, Result};
use std::path::Path;
use std::sync::{Arc, RwLock};

/// How often a running process asks whether the rules changed.
pub const WATCH_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);

/// Reads the file and layers the database's rule sections over it. An error names the key (and
/// says when the value came from the web console).
pub async fn load(path: &Path, store: &Store) -> Result<Config> {
    let layer = store.rule_layer().await?;
    config::load_layered(path, &layer, std::env::vars()).map_err(|e| anyhow!("{}: {e}", path.display()))
}

/// A configuration that can be replaced while it is read (the web console's): readers take the
/// current one and keep it for their request.
pub struct LiveConfig {
    current: RwLock<Arc<Config>>,
}

impl LiveConfig {
    pub fn new(cfg: Arc<Config>) -> LiveConfig {
        LiveConfig { current: RwLock::new(cfg) }
    }

    pub fn get(&self) -> Arc<Config> {
        self.current.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn set(&self, cfg: Arc<Config>) {
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = cfg;
    }

    /// Loads again from the file and the database when the rules' number differs from the one in
    /// force. Ok(true) when it was replaced; an error (an invalid file, say) keeps the one in force.
    pub async fn refresh(&self, store: &Store) -> Result<bool> {
        let cfg = self.get();
        let Some(path) = cfg.source.as_deref() else { return Ok(false) };
        if store.rules_version().await? == cfg.rules_version {
            return Ok(false);
        }
        self.set(Arc::new(load(path, store).await?));
        Ok(true)
    }
}
