//! The asset model: the kind catalogue (data, not code) and assets with WGS84 lon/lat geometry.
//!
//! Coordinates are EPSG:4326 longitude/latitude in degrees, as on the wire (RFC 7946).

use std::collections::BTreeMap;

use geo::{BoundingRect, Geometry, Rect};
use serde::{Deserialize, Serialize};

/// Why a kind, an asset or a geometry is not acceptable.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ModelError {
    #[error(
        "kind name {0:?} is not allowed: use 1-40 lowercase letters, digits or '_', starting with a letter"
    )]
    BadKindName(String),
    #[error("unknown asset kind {0:?}")]
    UnknownKind(String),
    #[error("geometry type {0:?} is not one of point, linestring, polygon")]
    BadGeometryType(String),
    #[error("asset {id}: {what}")]
    BadAsset { id: String, what: String },
}

/// The geometry family of a kind; multi-geometries of the same family are accepted too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GeometryType {
    Point,
    LineString,
    Polygon,
}

impl GeometryType {
    /// Parses `point`, `linestring` or `polygon` (any case).
    ///
    /// # Examples
    /// ```
    /// use civmap::model::GeometryType;
    /// assert_eq!(GeometryType::parse("LineString"), Ok(GeometryType::LineString));
    /// assert!(GeometryType::parse("blob").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Self, ModelError> {
        match text.to_ascii_lowercase().as_str() {
            "point" => Ok(Self::Point),
            "linestring" => Ok(Self::LineString),
            "polygon" => Ok(Self::Polygon),
            _ => Err(ModelError::BadGeometryType(text.to_string())),
        }
    }

    /// The GeoPackage / OGC name of the multi-capable geometry type stored for this family.
    pub fn gpkg_name(self) -> &'static str {
        match self {
            Self::Point => "POINT",
            Self::LineString => "LINESTRING",
            Self::Polygon => "POLYGON",
        }
    }

    /// The RFC 7946 type name.
    pub fn geojson_name(self) -> &'static str {
        match self {
            Self::Point => "Point",
            Self::LineString => "LineString",
            Self::Polygon => "Polygon",
        }
    }

    /// Whether `geometry` belongs to this family (a Multi* of the family counts).
    pub fn accepts(self, geometry: &Geometry<f64>) -> bool {
        matches!(
            (self, geometry),
            (Self::Point, Geometry::Point(_) | Geometry::MultiPoint(_))
                | (
                    Self::LineString,
                    Geometry::LineString(_) | Geometry::MultiLineString(_)
                )
                | (
                    Self::Polygon,
                    Geometry::Polygon(_) | Geometry::MultiPolygon(_)
                )
        )
    }
}

/// One entry of the kind catalogue: a map layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KindSpec {
    pub kind: String,
    pub name_zh: String,
    pub name_en: String,
    pub geometry_type: GeometryType,
    /// CSS colour used by the web map.
    pub colour: String,
    /// Lower wins when a report is equally close to assets of two kinds.
    #[serde(default = "default_priority")]
    pub priority: i32,
    /// For point kinds: a report this close (metres) counts as at the asset when matching, so
    /// a report in the middle of a crossing is about the intersection, not the road through it.
    #[serde(default)]
    pub snap_radius_m: f64,
}

fn default_priority() -> i32 {
    50
}

impl KindSpec {
    /// Checks the kind name is safe to use as a table and layer name.
    ///
    /// # Examples
    /// ```
    /// use civmap::model::validate_kind_name;
    /// assert!(validate_kind_name("bus_stop").is_ok());
    /// assert!(validate_kind_name("Robert'); DROP TABLE").is_err());
    /// ```
    pub fn validate(&self) -> Result<(), ModelError> {
        validate_kind_name(&self.kind)
    }
}

/// Kind names become GeoPackage table names, so only `[a-z][a-z0-9_]{0,39}` is allowed, and not the
/// reserved prefixes `gpkg_`, `rtree_`, `civmap_`, `sqlite_`.
pub fn validate_kind_name(kind: &str) -> Result<(), ModelError> {
    let ok_chars = kind
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    let starts_with_letter = kind.bytes().next().is_some_and(|b| b.is_ascii_lowercase());
    let reserved = ["gpkg_", "rtree_", "civmap_", "sqlite_"]
        .iter()
        .any(|p| kind.starts_with(p));
    if ok_chars && starts_with_letter && kind.len() <= 40 && !reserved {
        Ok(())
    } else {
        Err(ModelError::BadKindName(kind.to_string()))
    }
}

/// The set of kinds, in catalogue order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Catalogue {
    pub kinds: Vec<KindSpec>,
}

/// The catalogue shipped with civmap (`geodata/catalogue.json`).
pub const DEFAULT_CATALOGUE_JSON: &str = include_str!("../geodata/catalogue.json");

impl Catalogue {
    /// The catalogue shipped in `geodata/catalogue.json`.
    pub fn builtin() -> Self {
        Self::from_json(DEFAULT_CATALOGUE_JSON).expect("geodata/catalogue.json is valid")
    }

    /// Parses a catalogue file `{"kinds": [...]}` and validates every kind name.
    pub fn from_json(text: &str) -> Result<Self, ModelError> {
        let catalogue: Catalogue =
            serde_json::from_str(text).map_err(|e| ModelError::BadAsset {
                id: "catalogue".into(),
                what: e.to_string(),
            })?;
        for spec in &catalogue.kinds {
            spec.validate()?;
        }
        Ok(catalogue)
    }

    pub fn get(&self, kind: &str) -> Option<&KindSpec> {
        self.kinds.iter().find(|k| k.kind == kind)
    }

    /// The spec for `kind`, or `UnknownKind`.
    pub fn require(&self, kind: &str) -> Result<&KindSpec, ModelError> {
        self.get(kind)
            .ok_or_else(|| ModelError::UnknownKind(kind.to_string()))
    }

    /// Adds or replaces a kind.
    pub fn upsert(&mut self, spec: KindSpec) {
        match self.kinds.iter_mut().find(|k| k.kind == spec.kind) {
            Some(existing) => *existing = spec,
            None => self.kinds.push(spec),
        }
    }
}

/// A place the campaign inspects: a road, an intersection, a market...
#[derive(Debug, Clone, PartialEq)]
pub struct Asset {
    /// Stable id, unique across all kinds (e.g. `road-001`).
    pub id: String,
    pub kind: String,
    pub name: String,
    pub district: Option<String>,
    /// The responsible unit (包联单位).
    pub unit: Option<String>,
    /// Free properties of the kind (class, capacity, roads...).
    pub properties: serde_json::Map<String, serde_json::Value>,
    /// WGS84 lon/lat.
    pub geometry: Geometry<f64>,
}

impl Asset {
    /// The lon/lat bounding box of the geometry (every accepted geometry has one).
    pub fn bbox(&self) -> Option<Rect<f64>> {
        self.geometry.bounding_rect()
    }

    /// Checks id, name and coordinates; the caller checks the kind against the catalogue.
    pub fn validate(&self, spec: &KindSpec) -> Result<(), ModelError> {
        let bad = |what: String| ModelError::BadAsset {
            id: self.id.clone(),
            what,
        };
        if self.id.is_empty() || self.id.len() > 100 || self.id.contains('/') {
            return Err(bad("id must be 1-100 characters without '/'".into()));
        }
        if !spec.geometry_type.accepts(&self.geometry) {
            return Err(bad(format!(
                "kind {} takes {} geometries",
                spec.kind,
                spec.geometry_type.geojson_name()
            )));
        }
        validate_coordinates(&self.geometry).map_err(bad)?;
        Ok(())
    }
}

/// Checks every coordinate is a finite lon in [-180, 180] and lat in [-90, 90], and that lines and
/// rings have enough points.
pub fn validate_coordinates(geometry: &Geometry<f64>) -> Result<(), String> {
    use geo::CoordsIter;
    for c in geometry.coords_iter() {
        if !(c.x.is_finite() && c.y.is_finite()) {
            return Err("coordinates must be finite numbers".into());
        }
        if !(-180.0..=180.0).contains(&c.x) || !(-90.0..=90.0).contains(&c.y) {
            return Err(format!(
                "coordinate ({}, {}) is outside lon -180..180 / lat -90..90",
                c.x, c.y
            ));
        }
    }
    let short_line = |l: &geo::LineString<f64>| l.0.len() < 2;
    let short_ring = |p: &geo::Polygon<f64>| {
        p.exterior().0.len() < 4 || p.interiors().iter().any(|r| r.0.len() < 4)
    };
    let malformed = match geometry {
        Geometry::LineString(l) => short_line(l),
        Geometry::MultiLineString(m) => m.0.is_empty() || m.0.iter().any(short_line),
        Geometry::Polygon(p) => short_ring(p),
        Geometry::MultiPolygon(m) => m.0.is_empty() || m.0.iter().any(short_ring),
        Geometry::MultiPoint(m) => m.0.is_empty(),
        _ => false,
    };
    if malformed {
        return Err(
            "a line needs 2+ positions, a polygon ring 4+, a multi-geometry 1+ part".into(),
        );
    }
    Ok(())
}

/// Counts of assets per kind, in kind order.
pub type KindCounts = BTreeMap<String, usize>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_catalogue_has_the_campaign_kinds() {
        let catalogue = Catalogue::builtin();
        for kind in [
            "road",
            "intersection",
            "back_alley",
            "market",
            "parking_zone",
            "district",
            "bus_stop",
        ] {
            assert!(catalogue.get(kind).is_some(), "{kind} missing");
        }
    }

    #[test]
    fn kind_names_that_could_break_sql_are_refused() {
        for bad in ["", "Road", "1road", "road-x", "gpkg_contents", "a b", "r;x"] {
            assert!(validate_kind_name(bad).is_err(), "{bad:?} accepted");
        }
        assert!(validate_kind_name("public_toilet").is_ok());
    }

    #[test]
    fn out_of_range_and_nan_coordinates_are_refused() {
        let p = |x, y| Geometry::Point(geo::Point::new(x, y));
        assert!(validate_coordinates(&p(116.7, 39.5)).is_ok());
        assert!(validate_coordinates(&p(181.0, 39.5)).is_err());
        assert!(validate_coordinates(&p(116.0, -91.0)).is_err());
        assert!(validate_coordinates(&p(f64::NAN, 39.5)).is_err());
    }

    #[test]
    fn a_polygon_kind_refuses_a_point() {
        let spec = Catalogue::builtin().require("market").unwrap().clone();
        let asset = Asset {
            id: "m1".into(),
            kind: "market".into(),
            name: "椿树市场".into(),
            district: None,
            unit: None,
            properties: Default::default(),
            geometry: Geometry::Point(geo::Point::new(116.7, 39.5)),
        };
        assert!(asset.validate(&spec).is_err());
    }
}
