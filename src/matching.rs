//! Snapping a report to the asset it is about: the nearest asset of an eligible kind within the
//! category's reach (metres, on the ellipsoid). Inside a polygon (0 m) beats a nearby line; a
//! point kind's snap radius (an intersection's box) counts as 0 m; assets equally near (within
//! [`TIE_M`]) are decided by kind priority. Also finds the district
//! the point lies in and whether it lies in a zone where the reported thing is permitted.

use crate::index::Hit;
use crate::layers::Layers;
use crate::reports::{Category, MatchedAsset};

/// Distances closer than this are a tie, decided by kind priority.
pub const TIE_M: f64 = 1.0;
/// How many candidates per query are weighed.
const CANDIDATES: usize = 8;
/// A report farther than this from every asset (and in no district) is outside the city.
pub const CITY_MARGIN_M: f64 = 2_000.0;

/// What a report point matched.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MatchOutcome {
    pub asset: Option<MatchedAsset>,
    /// The matched asset's responsible unit.
    pub unit: Option<String>,
    /// The district the point is in (or the asset's district).
    pub district: Option<String>,
    /// Id of an asset of a permitted kind containing the point (e.g. a marked parking zone).
    pub permitted_zone: Option<String>,
}

fn positions(layers: &Layers, kinds: &[String]) -> Vec<usize> {
    kinds
        .iter()
        .filter_map(|k| layers.index().kind_position(k))
        .collect()
}

fn priority(layers: &Layers, kind: &str) -> i32 {
    layers
        .catalogue()
        .get(kind)
        .map_or(i32::MAX, |k| k.priority)
}

/// The distance a hit counts for when ranking: a point asset's snap radius counts as 0 m.
fn ranking_m(layers: &Layers, hit: &Hit) -> f64 {
    let kind = &layers.assets()[hit.asset].kind;
    let snap = layers
        .catalogue()
        .get(kind)
        .map_or(0.0, |k| k.snap_radius_m);
    (hit.distance_m - snap).max(0.0)
}

/// Whether (lon, lat) is in the city: inside a district, or within [`CITY_MARGIN_M`] of an asset.
pub fn in_city(layers: &Layers, lon: f64, lat: f64) -> bool {
    let all = layers.index().all_kinds();
    let near = layers.index().nearest(lon, lat, &all, 1);
    near.first().is_some_and(|h| h.distance_m <= CITY_MARGIN_M)
}

/// The district containing (lon, lat), if any.
pub fn district_at(layers: &Layers, lon: f64, lat: f64) -> Option<String> {
    let kind = layers.index().kind_position("district")?;
    layers
        .index()
        .nearest(lon, lat, &[kind], 1)
        .first()
        .filter(|h| h.distance_m == 0.0)
        .map(|h| layers.assets()[h.asset].name.clone())
}

/// Matches a report of `category` at (lon, lat).
pub fn match_report(layers: &Layers, category: &Category, lon: f64, lat: f64) -> MatchOutcome {
    let eligible = positions(layers, &category.eligible_kinds);
    let mut hits: Vec<_> = layers
        .index()
        .nearest(lon, lat, &eligible, CANDIDATES)
        .into_iter()
        .filter(|h| h.distance_m <= category.max_distance_m)
        .collect();
    // Rank by distance (a point asset's snap radius counts as 0 m); among those tied with the
    // nearest, the kind priority decides.
    let nearest = hits
        .iter()
        .map(|h| ranking_m(layers, h))
        .fold(f64::INFINITY, f64::min);
    hits.retain(|h| {
        let d = ranking_m(layers, h);
        if nearest == 0.0 {
            d == 0.0
        } else {
            d <= nearest + TIE_M
        }
    });
    hits.sort_by(|a, b| {
        let (ka, kb) = (
            &layers.assets()[a.asset].kind,
            &layers.assets()[b.asset].kind,
        );
        priority(layers, ka)
            .cmp(&priority(layers, kb))
            .then(a.distance_m.total_cmp(&b.distance_m))
            .then(a.asset.cmp(&b.asset))
    });
    let best = hits.first().copied();
    let asset = best.map(|h| &layers.assets()[h.asset]);
    let permitted = positions(layers, &category.permitted_in);
    let permitted_zone = layers
        .index()
        .nearest(lon, lat, &permitted, 1)
        .first()
        .filter(|h| h.distance_m == 0.0)
        .map(|h| layers.assets()[h.asset].id.clone());
    MatchOutcome {
        asset: best.zip(asset).map(|(h, a)| MatchedAsset {
            id: a.id.clone(),
            kind: a.kind.clone(),
            name: a.name.clone(),
            distance_m: (h.distance_m * 100.0).round() / 100.0,
        }),
        unit: asset.and_then(|a| a.unit.clone()),
        district: district_at(layers, lon, lat).or_else(|| asset.and_then(|a| a.district.clone())),
        permitted_zone,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Asset, Catalogue};
    use crate::reports::Categories;
    use geo::{Geometry, line_string, polygon};

    fn asset(id: &str, kind: &str, unit: &str, geometry: Geometry<f64>) -> Asset {
        Asset {
            id: id.into(),
            kind: kind.into(),
            name: id.into(),
            district: Some("广阳区".into()),
            unit: Some(unit.into()),
            properties: Default::default(),
            geometry,
        }
    }

    /// A road along lat 39.5200 with a market polygon and a parking bay just north of it.
    fn layers() -> Layers {
        Layers::build(
            Catalogue::builtin(),
            vec![
                asset(
                    "road",
                    "road",
                    "城管局",
                    Geometry::LineString(
                        line_string![(x: 116.690, y: 39.5200), (x: 116.710, y: 39.5200)],
                    ),
                ),
                asset(
                    "market",
                    "market",
                    "市场监管所",
                    Geometry::Polygon(polygon![
                        (x: 116.6990, y: 39.5201), (x: 116.7010, y: 39.5201),
                        (x: 116.7010, y: 39.5210), (x: 116.6990, y: 39.5210), (x: 116.6990, y: 39.5201)
                    ]),
                ),
                asset(
                    "bay",
                    "parking_zone",
                    "交警一大队",
                    Geometry::Polygon(polygon![
                        (x: 116.7050, y: 39.52005), (x: 116.7060, y: 39.52005),
                        (x: 116.7060, y: 39.52010), (x: 116.7050, y: 39.52010), (x: 116.7050, y: 39.52005)
                    ]),
                ),
            ],
        )
    }

    fn category(code: &str) -> Category {
        Categories::builtin().get(code).unwrap().clone()
    }

    #[test]
    fn a_report_inside_a_market_matches_the_market_not_the_road_beside_it() {
        let outcome = match_report(
            &layers(),
            &category("street_occupation"),
            116.7000,
            39.52015,
        );
        let asset = outcome.asset.unwrap();
        assert_eq!((asset.id.as_str(), asset.distance_m), ("market", 0.0));
        assert_eq!(outcome.unit.as_deref(), Some("市场监管所"));
        assert_eq!(outcome.permitted_zone.as_deref(), Some("market"));
    }

    #[test]
    fn a_report_beside_the_road_matches_the_road() {
        let outcome = match_report(&layers(), &category("damaged_pavement"), 116.6950, 39.52003);
        assert_eq!(outcome.asset.unwrap().id, "road");
        assert_eq!(outcome.unit.as_deref(), Some("城管局"));
        assert_eq!(outcome.permitted_zone, None);
    }

    #[test]
    fn parking_inside_a_marked_bay_is_flagged_as_permitted() {
        let outcome = match_report(&layers(), &category("illegal_parking"), 116.7055, 39.52008);
        assert_eq!(outcome.asset.unwrap().id, "bay");
        assert_eq!(outcome.permitted_zone.as_deref(), Some("bay"));
    }

    #[test]
    fn nothing_in_reach_leaves_the_report_unmatched() {
        let outcome = match_report(&layers(), &category("damaged_pavement"), 116.6950, 39.5230);
        assert_eq!(outcome.asset, None);
        assert_eq!(outcome.unit, None);
        assert!(in_city(&layers(), 116.6950, 39.5230));
        assert!(!in_city(&layers(), 117.5, 39.5230));
    }
}
