//! Owns how demo features are written: GeoJSON (RFC 7946) geometries in WGS84 lon/lat degrees
//! rounded to 6 decimals, the common properties (`id`, `name`, `district`, `unit`, `unit_id`),
//! geodesic lengths in metres, and the one-feature-per-line FeatureCollection text.

use super::facts::UnitFact;
use super::geom::{Xy, round1};
use geo::{Geodesic, Length, LineString};
use serde_json::{Map, Value, json};

/// Feature properties, built in a fixed order of calls so output is reproducible.
#[derive(Debug, Default)]
pub struct Props(Map<String, Value>);

impl Props {
    /// The properties every demo feature carries.
    pub fn common(id: &str, name: &str, district: &str, unit: &UnitFact) -> Self {
        Props::default()
            .with("id", id)
            .with("name", name)
            .with("district", district)
            .with("unit", unit.name)
            .with("unit_id", unit.id)
    }

    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.0.insert(key.to_string(), value.into());
        self
    }
}

pub fn feature(geometry: Value, props: Props) -> Value {
    json!({ "type": "Feature", "properties": Value::Object(props.0), "geometry": geometry })
}

pub fn point(lonlat: [f64; 2]) -> Value {
    json!({ "type": "Point", "coordinates": lonlat })
}

pub fn line_string(coords: &[[f64; 2]]) -> Value {
    json!({ "type": "LineString", "coordinates": coords })
}

/// A polygon from an open ring in the local frame: closed, and wound counter-clockwise as
/// RFC 7946 asks of exterior rings.
pub fn polygon(ring: &[Xy]) -> Value {
    json!({ "type": "Polygon", "coordinates": [closed_ccw_lonlat(ring)] })
}

pub fn closed_ccw_lonlat(ring: &[Xy]) -> Vec<[f64; 2]> {
    let mut coords: Vec<[f64; 2]> = ring.iter().map(|p| p.to_lonlat()).collect();
    let twice_area: f64 = coords
        .iter()
        .zip(coords.iter().cycle().skip(1))
        .map(|(a, b)| a[0] * b[1] - b[0] * a[1])
        .sum();
    if twice_area < 0.0 {
        coords.reverse();
    }
    if let Some(first) = coords.first().copied() {
        coords.push(first);
    }
    coords
}

/// Geodesic (WGS84 ellipsoid) length of a line in metres, rounded to 0.1 m.
pub fn geodesic_length_m(coords: &[[f64; 2]]) -> f64 {
    let line: LineString<f64> = coords.iter().map(|c| (c[0], c[1])).collect();
    round1(Geodesic.length(&line))
}

pub fn feature_collection(features: Vec<Value>) -> Value {
    json!({ "type": "FeatureCollection", "features": features })
}

/// One feature as compact JSON with its members in the customary order.
fn feature_line(f: &Value) -> String {
    format!(
        "{{\"type\":\"Feature\",\"properties\":{},\"geometry\":{}}}",
        f["properties"], f["geometry"]
    )
}

/// FeatureCollection text with one feature per line: small, diff-friendly, still plain JSON.
pub fn collection_text(collection: &Value) -> String {
    let features = collection
        .get("features")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    let lines: Vec<String> = features.iter().map(feature_line).collect();
    if lines.is_empty() {
        return "{\"type\":\"FeatureCollection\",\"features\":[]}\n".to_string();
    }
    format!(
        "{{\"type\":\"FeatureCollection\",\"features\":[\n{}\n]}}\n",
        lines.join(",\n")
    )
}
