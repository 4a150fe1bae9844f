//! Owns the administrative side of the demo: which district a point (local frame, metres) lies
//! in, by point-in-polygon on the simplified outlines in `facts`, and which responsible unit
//! (包联单位) looks after an asset of a given kind there.

use super::facts::{DISTRICT_LOOKUP_ORDER, DISTRICTS, DistrictFact, UNITS, UnitFact, UnitKind};
use super::feature::{Props, feature, polygon};
use super::geom::{Xy, ring_area_m2, ring_centroid, ring_contains, ring_distance_m};
use serde_json::{Value, json};

#[derive(Debug)]
pub struct Districts {
    /// In lookup order (开发区 first), each with its outline in the local frame.
    outlines: Vec<(&'static DistrictFact, Vec<Xy>)>,
}

impl Districts {
    pub fn new() -> Self {
        let outlines = DISTRICT_LOOKUP_ORDER
            .iter()
            .filter_map(|name| DISTRICTS.iter().find(|d| d.name == *name))
            .map(|d| (d, outline_xy(d)))
            .collect();
        Self { outlines }
    }

    /// The district a point lies in; a point outside every outline goes to the nearest one.
    pub fn name_at(&self, p: Xy) -> &'static str {
        if let Some((d, _)) = self
            .outlines
            .iter()
            .find(|(_, ring)| ring_contains(ring, p))
        {
            return d.name;
        }
        self.outlines
            .iter()
            .map(|(d, ring)| (d.name, ring_distance_m(ring, p)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map_or(DISTRICT_LOOKUP_ORDER[0], |(name, _)| name)
    }
}

/// A district outline in the local frame, wound counter-clockwise (RFC 7946 exterior ring).
pub fn outline_xy(d: &DistrictFact) -> Vec<Xy> {
    let mut ring: Vec<Xy> = d
        .outline
        .iter()
        .map(|&(lon, lat)| Xy::from_lonlat(lon, lat))
        .collect();
    if signed_area_m2(&ring) < 0.0 {
        ring.reverse();
    }
    ring
}

fn signed_area_m2(ring: &[Xy]) -> f64 {
    let twice: f64 = ring
        .iter()
        .enumerate()
        .map(|(i, a)| a.cross(ring[(i + 1) % ring.len()]))
        .sum();
    twice.signum() * ring_area_m2(ring)
}

/// The unit of `kind` responsible in `district`; where several share a district (街道,
/// 市场监管所) the one whose seat is nearest to `near` wins.
pub fn responsible_unit(kind: UnitKind, district: &str, near: Xy) -> &'static UnitFact {
    let in_district = || {
        UNITS
            .iter()
            .filter(move |u| u.kind == kind && u.district == district)
    };
    let seat_distance = |u: &&UnitFact| {
        u.seat
            .map_or(0.0, |(lon, lat)| Xy::from_lonlat(lon, lat).distance_m(near))
    };
    in_district()
        .min_by(|a, b| seat_distance(a).total_cmp(&seat_distance(b)))
        .or_else(|| UNITS.iter().find(|u| u.kind == kind))
        .unwrap_or(&UNITS[0])
}

/// A community (社区) of a subdistrict office for a point: neighbouring points share one,
/// by a coarse grid of cells about 700 m across.
pub fn community_at(subdistrict: &UnitFact, p: Xy) -> &'static str {
    const CELL_M: f64 = 700.0;
    let n = subdistrict.communities.len();
    if n == 0 {
        return "";
    }
    let cell_x = (p.x / CELL_M).floor() as i64;
    let cell_y = (p.y / CELL_M).floor() as i64;
    let index = (cell_x * 7 + cell_y * 13).rem_euclid(n as i64) as usize;
    subdistrict.communities[index]
}

/// District features: `adcode` and the district's 创城办 as responsible unit.
pub fn district_features() -> Vec<Value> {
    DISTRICTS
        .iter()
        .map(|d| {
            let ring = outline_xy(d);
            let unit = responsible_unit(UnitKind::CampaignOffice, d.name, ring_centroid(&ring));
            let props = Props::common(&format!("district-{}", d.adcode), d.name, d.name, unit)
                .with("adcode", d.adcode);
            feature(polygon(&ring), props)
        })
        .collect()
}

/// units.json entries: `id`, `name`, `kind` (城管, 住建, 交警, 市场监管, 街道, 公交, 创城办),
/// `district`, and for 街道 their `communities`.
pub fn unit_records() -> Vec<Value> {
    UNITS
        .iter()
        .map(|u| {
            let mut record = json!({ "id": u.id, "name": u.name, "kind": u.kind.as_str(), "district": u.district });
            if !u.communities.is_empty() {
                record["communities"] = json!(u.communities);
            }
            record
        })
        .collect()
}
