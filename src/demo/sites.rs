//! Owns off-street sites in the local frame (metres): market polygons 60–150 m across with 5–8
//! vertices, and parking lots beside markets and landmarks. Each is placed as close as it can
//! get to its reference point while keeping clear of road centrelines, alleys and other sites.

use super::admin::{Districts, responsible_unit};
use super::alleys::Alley;
use super::facts::{MARKETS, MarketFact, PLACES, Provenance, UnitKind};
use super::feature::{Props, feature, polygon};
use super::geom::{
    Xy, point_segment_distance_m, ring_area_m2, ring_centroid, ring_contains, ring_edges,
    segment_distance_m,
};
use super::network::Network;
use super::rng::SplitMix64;
use serde_json::Value;
use std::f64::consts::TAU;

/// Sites keep this far from road centrelines (on-street bays reach out to about 14.5 m).
pub const SITE_ROAD_CLEAR_M: f64 = 18.0;
const SITE_ALLEY_CLEAR_M: f64 = 10.0;
const SITE_SITE_CLEAR_M: f64 = 6.0;
/// Placement search: rings of candidate centres every 25 m out to 600 m, 16 bearings each.
const SEARCH_STEP_M: f64 = 25.0;
const SEARCH_RINGS: u32 = 24;
const SEARCH_BEARINGS: u32 = 16;
/// Square metres per market stall and per parking space (aisles included).
const M2_PER_STALL: f64 = 30.0;
const M2_PER_CAR: f64 = 25.0;

/// Everything a new polygon must keep clear of.
pub struct Obstacles {
    road_segments: Vec<(usize, Xy, Xy)>,
    alley_segments: Vec<(Xy, Xy)>,
    rings: Vec<Vec<Xy>>,
}

/// How much room a polygon needs from each kind of obstacle.
#[derive(Debug, Clone, Copy)]
pub struct Clearance {
    pub road_m: f64,
    pub alley_m: f64,
    pub site_m: f64,
    /// A road whose centreline the polygon may hug (on-street bays), if any.
    pub except_road: Option<usize>,
}

const SITE_CLEARANCE: Clearance = Clearance {
    road_m: SITE_ROAD_CLEAR_M,
    alley_m: SITE_ALLEY_CLEAR_M,
    site_m: SITE_SITE_CLEAR_M,
    except_road: None,
};

impl Obstacles {
    pub fn new(net: &Network, alleys: &[Alley]) -> Self {
        let alley_segments = alleys
            .iter()
            .flat_map(|a| a.pts.windows(2).map(|w| (w[0], w[1])))
            .collect();
        Self {
            road_segments: net.segments(),
            alley_segments,
            rings: Vec::new(),
        }
    }

    pub fn add_ring(&mut self, ring: Vec<Xy>) {
        self.rings.push(ring);
    }

    pub fn is_clear(&self, ring: &[Xy], clearance: Clearance) -> bool {
        let roads = self
            .road_segments
            .iter()
            .filter(|(r, _, _)| Some(*r) != clearance.except_road)
            .map(|(_, a, b)| (*a, *b));
        if !segments_clear(ring, roads, clearance.road_m) {
            return false;
        }
        if !segments_clear(ring, self.alley_segments.iter().copied(), clearance.alley_m) {
            return false;
        }
        self.rings.iter().all(|other| {
            segments_clear(ring, ring_edges(other), clearance.site_m)
                && !other.iter().any(|p| ring_contains(ring, *p))
                && !ring.iter().any(|p| ring_contains(other, *p))
        })
    }

    /// Direction of the road centreline nearest to `p`.
    pub fn nearest_road_direction(&self, p: Xy) -> Xy {
        self.road_segments
            .iter()
            .min_by(|x, y| {
                point_segment_distance_m(p, x.1, x.2)
                    .total_cmp(&point_segment_distance_m(p, y.1, y.2))
            })
            .map_or(Xy::new(1.0, 0.0), |(_, a, b)| (*b - *a).unit())
    }
}

/// True when no segment comes within `clear_m` of the ring's edges or lies inside it.
fn segments_clear(ring: &[Xy], segments: impl Iterator<Item = (Xy, Xy)>, clear_m: f64) -> bool {
    for (a, b) in segments {
        if ring_contains(ring, a) || ring_contains(ring, b) {
            return false;
        }
        if ring_edges(ring).any(|(p, q)| segment_distance_m(p, q, a, b) < clear_m) {
            return false;
        }
    }
    true
}

/// Candidate centres around an anchor, nearest first, starting `min_offset_m` out.
fn candidate_centres(anchor: Xy, min_offset_m: f64) -> impl Iterator<Item = Xy> {
    (0..=SEARCH_RINGS).flat_map(move |k| {
        let radius_m = min_offset_m + f64::from(k) * SEARCH_STEP_M;
        let bearings = if radius_m == 0.0 { 1 } else { SEARCH_BEARINGS };
        (0..bearings).map(move |b| {
            let angle = TAU * f64::from(b) / f64::from(SEARCH_BEARINGS);
            anchor + Xy::new(angle.cos(), angle.sin()) * radius_m
        })
    })
}

/// The first clear polygon produced by `shape_at(centre)` around `anchor`.
fn place(
    obstacles: &Obstacles,
    anchor: Xy,
    min_offset_m: f64,
    shape_at: impl Fn(Xy) -> Vec<Xy>,
) -> Option<Vec<Xy>> {
    candidate_centres(anchor, min_offset_m)
        .map(shape_at)
        .find(|ring| obstacles.is_clear(ring, SITE_CLEARANCE))
}

#[derive(Debug)]
pub struct Market {
    pub fact: &'static MarketFact,
    pub ring: Vec<Xy>,
}

/// An irregular 5–8-gon around the origin, 76–150 m across.
fn market_shape(rng: &mut SplitMix64) -> Vec<Xy> {
    let vertices = rng.range_u32(5, 8);
    let radius_m = rng.range_f64(38.0, 75.0);
    let start = rng.range_f64(0.0, TAU);
    (0..vertices)
        .map(|i| {
            let angle =
                start + TAU * f64::from(i) / f64::from(vertices) + rng.range_f64(-0.15, 0.15);
            Xy::new(angle.cos(), angle.sin()) * (radius_m * rng.range_f64(0.85, 1.0))
        })
        .collect()
}

pub fn place_markets(obstacles: &mut Obstacles, rng: &mut SplitMix64) -> Vec<Market> {
    let mut markets = Vec::with_capacity(MARKETS.len());
    for fact in MARKETS {
        let shape = market_shape(rng);
        let anchor = Xy::from_lonlat(fact.lon, fact.lat);
        let translated = |c: Xy| shape.iter().map(|p| *p + c).collect::<Vec<Xy>>();
        if let Some(ring) = place(obstacles, anchor, 0.0, translated) {
            obstacles.add_ring(ring.clone());
            markets.push(Market { fact, ring });
        }
    }
    markets
}

#[derive(Debug)]
pub struct Lot {
    pub name: String,
    pub serves: &'static str,
    pub ring: Vec<Xy>,
}

/// A `length_m` × `depth_m` rectangle centred on `centre`, its long side along `along`.
pub fn rectangle(centre: Xy, along: Xy, length_m: f64, depth_m: f64) -> Vec<Xy> {
    let u = along * (length_m / 2.0);
    let v = along.left() * (depth_m / 2.0);
    vec![
        centre - u - v,
        centre + u - v,
        centre + u + v,
        centre - u + v,
    ]
}

/// One lot beside every market and the named lots of each landmark.
pub fn place_lots(obstacles: &mut Obstacles, markets: &[Market], rng: &mut SplitMix64) -> Vec<Lot> {
    let mut wanted: Vec<(String, &'static str, Xy)> = markets
        .iter()
        .map(|m| {
            (
                format!("{}停车场", m.fact.name),
                m.fact.name,
                ring_centroid(&m.ring),
            )
        })
        .collect();
    for place in PLACES {
        for lot_name in place.lots {
            let anchor = Xy::from_lonlat(place.lon, place.lat);
            wanted.push((lot_name.to_string(), place.name, anchor));
        }
    }
    let mut lots = Vec::with_capacity(wanted.len());
    for (name, serves, anchor) in wanted {
        let length_m = rng.range_f64(40.0, 80.0);
        let depth_m = rng.range_f64(30.0, 50.0);
        let shape_at = |c: Xy| rectangle(c, obstacles.nearest_road_direction(c), length_m, depth_m);
        if let Some(ring) = place(obstacles, anchor, 40.0, shape_at) {
            obstacles.add_ring(ring.clone());
            lots.push(Lot { name, serves, ring });
        }
    }
    lots
}

fn provenance_label(p: Provenance) -> &'static str {
    match p {
        Provenance::Reference => "reference",
        Provenance::Approximate => "approximate",
        Provenance::Invented => "invented",
    }
}

pub fn market_features(markets: &[Market], districts: &Districts) -> Vec<Value> {
    markets
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let centre = ring_centroid(&m.ring);
            let district = districts.name_at(centre);
            let unit = responsible_unit(UnitKind::MarketSupervision, district, centre);
            let area_m2 = ring_area_m2(&m.ring);
            let props = Props::common(&format!("market-{:02}", i + 1), m.fact.name, district, unit)
                .with("category", m.fact.category)
                .with("stalls", (area_m2 / M2_PER_STALL).round() as u64)
                .with("area_m2", area_m2.round() as u64)
                .with("provenance", provenance_label(m.fact.provenance));
            feature(polygon(&m.ring), props)
        })
        .collect()
}

/// Lot features, numbered from `first_number` in the shared parking id series.
pub fn lot_features(lots: &[Lot], districts: &Districts, first_number: usize) -> Vec<Value> {
    lots.iter()
        .enumerate()
        .map(|(i, lot)| {
            let centre = ring_centroid(&lot.ring);
            let district = districts.name_at(centre);
            let unit = responsible_unit(UnitKind::UrbanManagement, district, centre);
            let area_m2 = ring_area_m2(&lot.ring);
            let id = format!("parking-{:04}", first_number + i);
            let props = Props::common(&id, &lot.name, district, unit)
                .with("parking_kind", "lot")
                .with("capacity", (area_m2 / M2_PER_CAR).floor() as u64)
                .with("serves", lot.serves);
            feature(polygon(&lot.ring), props)
        })
        .collect()
}
