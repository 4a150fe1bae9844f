//! Reading assets from GeoJSON (RFC 7946, WGS84 lon/lat): a whole file is parsed and validated
//! before anything is written, so a bad feature imports nothing.
//!
//! Each feature's `id` (or `properties.id`) becomes the stable asset id; `name`, `district` and
//! `unit` properties are read as such; every other property is kept as a free property.

use std::collections::HashSet;

use geo::Geometry;
use serde_json::Value;

use crate::model::{Asset, KindSpec, ModelError};

/// Why a GeoJSON document could not be imported; names the feature at fault.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ImportError {
    #[error("not valid GeoJSON: {0}")]
    Malformed(String),
    #[error("expected a FeatureCollection or Feature, found {0}")]
    NotFeatures(String),
    #[error("feature {index}: {what}")]
    BadFeature { index: usize, what: String },
    #[error("feature {index}: id {id:?} appears twice")]
    DuplicateId { index: usize, id: String },
    #[error(transparent)]
    Model(#[from] ModelError),
}

/// Parses `text` as GeoJSON assets of kind `spec`.
///
/// # Examples
/// ```
/// use civmap::import::assets_from_geojson;
/// use civmap::model::Catalogue;
/// let spec = Catalogue::builtin().require("bus_stop").unwrap().clone();
/// let text = r#"{"type":"FeatureCollection","features":[{"type":"Feature","id":"b1",
///   "properties":{"name":"万达广场","district":"广阳区"},
///   "geometry":{"type":"Point","coordinates":[116.7018,39.5211]}}]}"#;
/// let assets = assets_from_geojson(text, &spec).unwrap();
/// assert_eq!(assets[0].name, "万达广场");
/// assert!(assets_from_geojson("{\"type\":", &spec).is_err());
/// ```
pub fn assets_from_geojson(text: &str, spec: &KindSpec) -> Result<Vec<Asset>, ImportError> {
    let document: geojson::GeoJson = text
        .parse()
        .map_err(|e: geojson::Error| ImportError::Malformed(e.to_string()))?;
    let features = match document {
        geojson::GeoJson::FeatureCollection(fc) => fc.features,
        geojson::GeoJson::Feature(f) => vec![f],
        geojson::GeoJson::Geometry(_) => {
            return Err(ImportError::NotFeatures("a bare Geometry".into()));
        }
    };
    let mut seen = HashSet::with_capacity(features.len());
    let mut assets = Vec::with_capacity(features.len());
    for (index, feature) in features.into_iter().enumerate() {
        let asset = asset_from_feature(index, feature, spec)?;
        if !seen.insert(asset.id.clone()) {
            return Err(ImportError::DuplicateId {
                index,
                id: asset.id,
            });
        }
        assets.push(asset);
    }
    Ok(assets)
}

fn text_of(value: Option<Value>) -> Option<String> {
    match value {
        Some(Value::String(s)) if !s.is_empty() => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

fn asset_from_feature(
    index: usize,
    feature: geojson::Feature,
    spec: &KindSpec,
) -> Result<Asset, ImportError> {
    let bad = |what: String| ImportError::BadFeature { index, what };
    let geometry = feature
        .geometry
        .ok_or_else(|| bad("has no geometry".into()))?;
    let geometry: Geometry<f64> =
        Geometry::try_from(geometry).map_err(|e| bad(format!("geometry: {e}")))?;
    let mut properties = feature.properties.unwrap_or_default();
    let feature_id = feature.id.map(|id| match id {
        geojson::feature::Id::String(s) => s,
        geojson::feature::Id::Number(n) => n.to_string(),
    });
    let property_id = text_of(properties.remove("id"));
    let id = feature_id
        .or(property_id)
        .unwrap_or_else(|| format!("{}-{}", spec.kind, index + 1));
    let name = text_of(properties.remove("name")).unwrap_or_else(|| id.clone());
    let district = text_of(properties.remove("district"));
    let unit = text_of(properties.remove("unit"));
    properties.remove("kind");
    let asset = Asset {
        id,
        kind: spec.kind.clone(),
        name,
        district,
        unit,
        properties,
        geometry,
    };
    asset.validate(spec).map_err(|e| match e {
        ModelError::BadAsset { what, .. } => bad(what),
        other => ImportError::Model(other),
    })?;
    Ok(asset)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Catalogue;

    fn spec(kind: &str) -> KindSpec {
        Catalogue::builtin().require(kind).unwrap().clone()
    }

    fn collection(features: &str) -> String {
        format!(r#"{{"type":"FeatureCollection","features":[{features}]}}"#)
    }

    const GOOD: &str = r#"{"type":"Feature","properties":{"id":"b1","name":"东安市场","unit":"公交公司","shelter":true},
        "geometry":{"type":"Point","coordinates":[116.705,39.514]}}"#;

    #[test]
    fn properties_split_into_fields_and_free_properties() {
        let assets = assets_from_geojson(&collection(GOOD), &spec("bus_stop")).unwrap();
        assert_eq!(assets[0].id, "b1");
        assert_eq!(assets[0].unit.as_deref(), Some("公交公司"));
        assert_eq!(assets[0].properties["shelter"], Value::Bool(true));
        assert!(!assets[0].properties.contains_key("name"));
    }

    #[test]
    fn each_kind_of_bad_input_names_the_feature_at_fault() {
        let out_of_range = r#"{"type":"Feature","properties":{"id":"b2"},"geometry":{"type":"Point","coordinates":[216.7,39.5]}}"#;
        let wrong_type = r#"{"type":"Feature","properties":{"id":"b2"},"geometry":{"type":"LineString","coordinates":[[116.7,39.5],[116.8,39.5]]}}"#;
        let no_geometry = r#"{"type":"Feature","properties":{"id":"b2"},"geometry":null}"#;
        for second in [out_of_range, wrong_type, no_geometry] {
            let err =
                assets_from_geojson(&collection(&format!("{GOOD},{second}")), &spec("bus_stop"))
                    .unwrap_err();
            assert!(
                matches!(err, ImportError::BadFeature { index: 1, .. }),
                "{err:?}"
            );
        }
        let duplicate =
            assets_from_geojson(&collection(&format!("{GOOD},{GOOD}")), &spec("bus_stop"));
        assert!(matches!(
            duplicate,
            Err(ImportError::DuplicateId { index: 1, .. })
        ));
        assert!(matches!(
            assets_from_geojson(
                "{\"type\":\"FeatureCollection\",\"features\":[",
                &spec("road")
            ),
            Err(ImportError::Malformed(_))
        ));
        assert!(matches!(
            assets_from_geojson(
                r#"{"type":"Point","coordinates":[116.7,39.5]}"#,
                &spec("road")
            ),
            Err(ImportError::NotFeatures(_))
        ));
    }
}
