//! Asset layers served from memory: a published snapshot of the catalogue, the assets, their
//! spatial index and their pre-serialised RFC 7946 features. Lon/lat in, metres out.

use std::collections::HashMap;

use geo::{Coord, Intersects, Rect};
use serde::Serialize;
use serde_json::{Value, json};

use crate::index::{Hit, SpatialIndex};
use crate::model::{Asset, Catalogue, ModelError};

/// A lon/lat box, validated: finite, in range, min ≤ max.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BBox {
    pub min_lon: f64,
    pub min_lat: f64,
    pub max_lon: f64,
    pub max_lat: f64,
}

impl BBox {
    /// Parses `minLon,minLat,maxLon,maxLat`.
    ///
    /// # Examples
    /// ```
    /// use civmap::layers::BBox;
    /// assert!(BBox::parse("116.6,39.5,116.7,39.6").is_ok());
    /// assert!(BBox::parse("116.7,39.5,116.6,39.6").is_err()); // reversed
    /// assert!(BBox::parse("116.6,39.5,196.7,39.6").is_err()); // out of range
    /// ```
    pub fn parse(text: &str) -> Result<Self, String> {
        let parts: Vec<f64> = text
            .split(',')
            .map(|p| p.trim().parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|_| {
                format!("bbox {text:?} must be four numbers minLon,minLat,maxLon,maxLat")
            })?;
        let [min_lon, min_lat, max_lon, max_lat] = parts[..] else {
            return Err(format!(
                "bbox {text:?} must be four numbers minLon,minLat,maxLon,maxLat"
            ));
        };
        let lon_ok = |v: f64| v.is_finite() && (-180.0..=180.0).contains(&v);
        let lat_ok = |v: f64| v.is_finite() && (-90.0..=90.0).contains(&v);
        if !(lon_ok(min_lon) && lon_ok(max_lon) && lat_ok(min_lat) && lat_ok(max_lat)) {
            return Err(format!(
                "bbox {text:?} is outside lon -180..180 / lat -90..90"
            ));
        }
        if min_lon > max_lon || min_lat > max_lat {
            return Err(format!(
                "bbox {text:?} is reversed: the minimum must come before the maximum"
            ));
        }
        Ok(Self {
            min_lon,
            min_lat,
            max_lon,
            max_lat,
        })
    }

    fn rect(&self) -> Rect<f64> {
        Rect::new(
            Coord {
                x: self.min_lon,
                y: self.min_lat,
            },
            Coord {
                x: self.max_lon,
                y: self.max_lat,
            },
        )
    }
}

/// Filters of a layer listing.
#[derive(Debug, Clone, Default)]
pub struct LayerQuery {
    pub bbox: Option<BBox>,
    pub district: Option<String>,
    pub unit: Option<String>,
    /// Case-insensitive substring of the name.
    pub name_contains: Option<String>,
    pub offset: usize,
    pub limit: usize,
}

/// One page of a listing: asset positions and how many matched in all.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub items: Vec<usize>,
    pub number_matched: usize,
}

/// What `/api/layers` says of a kind.
#[derive(Debug, Clone, Serialize)]
pub struct LayerSummary {
    pub kind: String,
    pub name_zh: String,
    pub name_en: String,
    pub geometry_type: &'static str,
    pub colour: String,
    pub count: usize,
    /// `[minLon, minLat, maxLon, maxLat]`, absent for an empty layer.
    pub bbox: Option<[f64; 4]>,
}

/// A published, immutable view of all assets. Rebuilt and swapped as a whole on change.
pub struct Layers {
    catalogue: Catalogue,
    assets: Vec<Asset>,
    by_id: HashMap<String, usize>,
    by_kind: Vec<Vec<usize>>,
    index: SpatialIndex,
    feature_json: Vec<Box<str>>,
}

impl Layers {
    /// Indexes `assets` of the catalogue's kinds (others are ignored).
    pub fn build(catalogue: Catalogue, assets: Vec<Asset>) -> Self {
        let kinds: Vec<String> = catalogue.kinds.iter().map(|k| k.kind.clone()).collect();
        let assets: Vec<Asset> = assets
            .into_iter()
            .filter(|a| kinds.contains(&a.kind))
            .collect();
        let index = SpatialIndex::build(&assets, &kinds);
        let mut by_kind = vec![Vec::new(); kinds.len()];
        let mut by_id = HashMap::with_capacity(assets.len());
        for (n, asset) in assets.iter().enumerate() {
            if let Some(k) = index.kind_position(&asset.kind) {
                by_kind[k].push(n);
            }
            by_id.insert(asset.id.clone(), n);
        }
        let feature_json = assets
            .iter()
            .map(|a| feature(a, None).to_string().into_boxed_str())
            .collect();
        Self {
            catalogue,
            assets,
            by_id,
            by_kind,
            index,
            feature_json,
        }
    }

    pub fn catalogue(&self) -> &Catalogue {
        &self.catalogue
    }

    pub fn assets(&self) -> &[Asset] {
        &self.assets
    }

    pub fn index(&self) -> &SpatialIndex {
        &self.index
    }

    /// The asset with this id.
    pub fn asset(&self, id: &str) -> Option<&Asset> {
        self.by_id.get(id).map(|&n| &self.assets[n])
    }

    /// Tree positions of the named kinds; all kinds for an empty list.
    pub fn kind_set(&self, kinds: &[String]) -> Result<Vec<usize>, ModelError> {
        if kinds.is_empty() {
            return Ok(self.index.all_kinds());
        }
        kinds
            .iter()
            .map(|k| {
                self.index
                    .kind_position(k)
                    .ok_or_else(|| ModelError::UnknownKind(k.clone()))
            })
            .collect()
    }

    /// Counts and extents of every kind, in catalogue order.
    pub fn summaries(&self) -> Vec<LayerSummary> {
        self.catalogue
            .kinds
            .iter()
            .zip(&self.by_kind)
            .map(|(spec, members)| LayerSummary {
                kind: spec.kind.clone(),
                name_zh: spec.name_zh.clone(),
                name_en: spec.name_en.clone(),
                geometry_type: spec.geometry_type.geojson_name(),
                colour: spec.colour.clone(),
                count: members.len(),
                bbox: extent(members.iter().filter_map(|&n| self.assets[n].bbox())),
            })
            .collect()
    }

    /// The assets of `kind` passing `query`, in stable (store) order, paged.
    pub fn list(&self, kind: &str, query: &LayerQuery) -> Result<Page, ModelError> {
        let k = self
            .index
            .kind_position(kind)
            .ok_or_else(|| ModelError::UnknownKind(kind.to_string()))?;
        let needle = query.name_contains.as_ref().map(|q| q.to_lowercase());
        let keep = |&n: &usize| {
            let a = &self.assets[n];
            query
                .district
                .as_ref()
                .is_none_or(|d| a.district.as_ref() == Some(d))
                && query
                    .unit
                    .as_ref()
                    .is_none_or(|u| a.unit.as_ref() == Some(u))
                && needle
                    .as_ref()
                    .is_none_or(|q| a.name.to_lowercase().contains(q))
        };
        let matched: Vec<usize> = match &query.bbox {
            Some(b) => self
                .index
                .candidates_in_bbox((b.min_lon, b.min_lat), (b.max_lon, b.max_lat), &[k])
                .into_iter()
                .filter(|&n| self.assets[n].geometry.intersects(&b.rect()))
                .filter(keep)
                .collect(),
            None => self.by_kind[k].iter().copied().filter(keep).collect(),
        };
        let number_matched = matched.len();
        let items = matched
            .into_iter()
            .skip(query.offset)
            .take(query.limit)
            .collect();
        Ok(Page {
            items,
            number_matched,
        })
    }

    /// Nearest `k` assets of `kinds` (all when empty).
    pub fn nearest(
        &self,
        lon: f64,
        lat: f64,
        kinds: &[String],
        k: usize,
    ) -> Result<Vec<Hit>, ModelError> {
        Ok(self.index.nearest(lon, lat, &self.kind_set(kinds)?, k))
    }

    /// Assets of `kinds` (all when empty) within `radius_m`.
    pub fn within(
        &self,
        lon: f64,
        lat: f64,
        radius_m: f64,
        kinds: &[String],
    ) -> Result<Vec<Hit>, ModelError> {
        Ok(self
            .index
            .within_radius(lon, lat, radius_m, &self.kind_set(kinds)?))
    }

    /// Writes the features at `items` as the members of a `"features": [...]` array.
    pub fn write_features(&self, items: &[usize], out: &mut String) {
        let extra: usize = items.iter().map(|&n| self.feature_json[n].len() + 1).sum();
        out.reserve(extra);
        for (i, &n) in items.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&self.feature_json[n]);
        }
    }

    /// A FeatureCollection of hits, each feature carrying `distance_m` (rounded to cm).
    pub fn hits_collection(&self, hits: &[Hit]) -> Value {
        let features: Vec<Value> = hits
            .iter()
            .map(|h| feature(&self.assets[h.asset], Some(h.distance_m)))
            .collect();
        json!({
            "type": "FeatureCollection",
            "numberReturned": features.len(),
            "features": features,
        })
    }

    /// One asset as a Feature.
    pub fn feature(&self, asset: &Asset) -> Value {
        feature(asset, None)
    }
}

/// An asset as an RFC 7946 Feature; `distance_m` is added to the properties when given.
pub fn feature(asset: &Asset, distance_m: Option<f64>) -> Value {
    let mut properties = serde_json::Map::with_capacity(asset.properties.len() + 6);
    properties.insert("id".into(), Value::String(asset.id.clone()));
    properties.insert("kind".into(), Value::String(asset.kind.clone()));
    properties.insert("name".into(), Value::String(asset.name.clone()));
    properties.insert("district".into(), json!(asset.district));
    properties.insert("unit".into(), json!(asset.unit));
    for (key, value) in &asset.properties {
        properties
            .entry(key.clone())
            .or_insert_with(|| value.clone());
    }
    if let Some(d) = distance_m {
        properties.insert("distance_m".into(), json!((d * 100.0).round() / 100.0));
    }
    json!({
        "type": "Feature",
        "id": asset.id,
        "geometry": geojson::Geometry::from(&asset.geometry),
        "properties": properties,
    })
}

fn extent(rects: impl Iterator<Item = Rect<f64>>) -> Option<[f64; 4]> {
    rects.fold(None, |acc, r| {
        Some(match acc {
            None => [r.min().x, r.min().y, r.max().x, r.max().y],
            Some([a, b, c, d]) => [
                a.min(r.min().x),
                b.min(r.min().y),
                c.max(r.max().x),
                d.max(r.max().y),
            ],
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Geometry, Point};

    fn stop(id: &str, lon: f64, district: &str) -> Asset {
        Asset {
            id: id.into(),
            kind: "bus_stop".into(),
            name: format!("站{id}"),
            district: Some(district.into()),
            unit: Some("公交公司".into()),
            properties: Default::default(),
            geometry: Geometry::Point(Point::new(lon, 39.52)),
        }
    }

    fn layers() -> Layers {
        let assets = (0..10)
            .map(|i| {
                let district = if i % 2 == 0 { "广阳区" } else { "安次区" };
                stop(&format!("s{i}"), 116.60 + i as f64 * 0.01, district)
            })
            .collect();
        Layers::build(Catalogue::builtin(), assets)
    }

    #[test]
    fn a_bbox_keeps_only_assets_inside_it() {
        let layers = layers();
        let query = LayerQuery {
            bbox: Some(BBox::parse("116.625,39.5,116.655,39.6").unwrap()),
            limit: 100,
            ..Default::default()
        };
        let page = layers.list("bus_stop", &query).unwrap();
        let ids: Vec<&str> = page
            .items
            .iter()
            .map(|&n| layers.assets()[n].id.as_str())
            .collect();
        assert_eq!(ids, ["s3", "s4", "s5"]);
    }

    #[test]
    fn paging_walks_the_whole_filtered_layer_once() {
        let layers = layers();
        let mut seen = Vec::new();
        let mut query = LayerQuery {
            district: Some("广阳区".into()),
            limit: 2,
            ..Default::default()
        };
        loop {
            let page = layers.list("bus_stop", &query).unwrap();
            assert_eq!(page.number_matched, 5);
            if page.items.is_empty() {
                break;
            }
            seen.extend(page.items);
            query.offset += 2;
        }
        assert_eq!(seen, [0, 2, 4, 6, 8]);
    }

    #[test]
    fn an_unknown_kind_is_an_error() {
        assert_eq!(
            layers().list("volcano", &LayerQuery::default()),
            Err(ModelError::UnknownKind("volcano".into()))
        );
    }

    #[test]
    fn the_summary_counts_each_layer() {
        let summaries = layers().summaries();
        let stops = summaries.iter().find(|s| s.kind == "bus_stop").unwrap();
        assert_eq!(stops.count, 10);
        assert_eq!(stops.bbox, Some([116.60, 39.52, 116.69, 39.52]));
    }
}
