//! Service configuration, validated once (defaults < environment < command-line flags; clap
//! applies that order) and passed in. Nothing reads the environment after start.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Where the data lives and where the service listens.
#[derive(Debug, Clone)]
pub struct Config {
    /// Directory holding `civmap.gpkg` (created if missing).
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    /// Built web map to serve at `/`, if present.
    pub web_dir: Option<PathBuf>,
    /// Seed the Langfang demo city into an empty store.
    pub seed_demo: bool,
}

impl Config {
    /// The GeoPackage file inside the data directory.
    pub fn store_path(&self) -> PathBuf {
        self.data_dir.join("civmap.gpkg")
    }
}
