//! civmap: the spatial engine of a civilized-city campaign. Assets (roads, intersections, back
//! alleys, markets, parking zones, districts...) live in a store (GeoPackage or PostGIS), are
//! indexed in memory in a metric projection, and are served over HTTP as GeoJSON in WGS84.
#![forbid(unsafe_code)]

pub mod bench;
pub mod config;
pub mod coverage;
pub mod crs;
pub mod demo;
pub mod http;
pub mod import;
pub mod index;
pub mod layers;
pub mod matching;
pub mod model;
pub mod reports;
pub mod routing;
pub mod service;
pub mod store;
