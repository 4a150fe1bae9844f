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
    /// A shared PostgreSQL/PostGIS database instead of the embedded GeoPackage.
    pub database_url: Option<String>,
    /// Refuse reports inside a zone where the reported thing is permitted (else flag them).
    pub reject_permitted: bool,
    /// Radius for possible duplicates, metres.
    pub duplicate_radius_m: f64,
    /// Largest photo accepted, bytes.
    pub max_photo_bytes: usize,
}

impl Config {
    /// The GeoPackage file inside the data directory.
    pub fn store_path(&self) -> PathBuf {
        self.data_dir.join("civmap.gpkg")
    }

    /// The photo directory inside the data directory.
    pub fn photo_dir(&self) -> PathBuf {
        self.data_dir.join("photos")
    }

    /// The service options this configuration implies.
    pub fn city_options(&self) -> crate::service::CityOptions {
        crate::service::CityOptions {
            reports: crate::reports::desk::ReportSettings {
                duplicate_radius_m: self.duplicate_radius_m,
                reject_permitted: self.reject_permitted,
                ..Default::default()
            },
            photo_dir: self.photo_dir(),
            max_photo_bytes: self.max_photo_bytes,
        }
    }
}
