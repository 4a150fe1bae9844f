//! Owns bus stops (公交站): points every 500–700 m (local frame, metres) along the main roads
//! and the six-lane trunk roads, 15 m to either side of the centreline, named after a landmark
//! within 250 m or else "<road>·<nearest cross street>".

use super::admin::{Districts, responsible_unit};
use super::alleys::Side;
use super::facts::{Axis, RoadClass, UnitKind};
use super::feature::{Props, feature, point};
use super::geom::Xy;
use super::network::Network;
use super::rng::SplitMix64;
use serde_json::Value;

const STOP_OFFSET_M: f64 = 15.0;
const STOP_SPACING_M: (f64, f64) = (500.0, 700.0);
/// Stops stand back from crossings: a stop closer than this moves past the crossing.
const CROSSING_CLEAR_M: f64 = 50.0;
const PAST_CROSSING_M: f64 = 70.0;
const LANDMARK_RADIUS_M: f64 = 250.0;

#[derive(Debug)]
pub struct BusStop {
    pub road: usize,
    pub s_m: f64,
    pub side: Side,
    pub at: Xy,
    pub name: String,
}

/// A named point that bus stops and parking bays may be named after.
#[derive(Debug, Clone, Copy)]
pub struct Landmark {
    pub label: &'static str,
    pub at: Xy,
}

/// The landmark nearest to `p` within `radius_m`.
pub fn nearby_landmark(landmarks: &[Landmark], p: Xy, radius_m: f64) -> Option<&'static str> {
    landmarks
        .iter()
        .map(|l| (l.label, l.at.distance_m(p)))
        .filter(|(_, d)| *d <= radius_m)
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(label, _)| label)
}

fn is_bus_route(net: &Network, road: usize) -> bool {
    let fact = net.roads[road].fact;
    fact.class == RoadClass::Main || fact.lanes >= 6
}

/// Travel direction served by a stop on `side` of a road, with right-hand traffic.
pub fn direction_label(axis: Axis, side: Side) -> &'static str {
    match (axis, side) {
        (Axis::NorthSouth, Side::Right) => "北行",
        (Axis::NorthSouth, Side::Left) => "南行",
        (Axis::EastWest, Side::Left) => "西行",
        (Axis::EastWest, Side::Right) => "东行",
    }
}

pub fn generate(net: &Network, landmarks: &[Landmark], rng: &mut SplitMix64) -> Vec<BusStop> {
    let mut stops = Vec::new();
    for road in (0..net.roads.len()).filter(|&r| is_bus_route(net, r)) {
        let line = &net.roads[road].line;
        let end_m = line.length_m() - 80.0;
        let mut s_m = rng.range_f64(150.0, 300.0);
        while s_m < end_m {
            if let Some((cross_s_m, _)) = net.nearest_crossing(road, s_m)
                && (cross_s_m - s_m).abs() < CROSSING_CLEAR_M
            {
                s_m = cross_s_m + PAST_CROSSING_M;
                continue;
            }
            for side in [Side::Right, Side::Left] {
                let at = line.point_at(s_m) + side.normal(line.direction_at(s_m)) * STOP_OFFSET_M;
                let name = stop_name(net, landmarks, road, s_m, at);
                stops.push(BusStop {
                    road,
                    s_m,
                    side,
                    at,
                    name,
                });
            }
            s_m += rng.range_f64(STOP_SPACING_M.0, STOP_SPACING_M.1);
        }
    }
    stops
}

fn stop_name(net: &Network, landmarks: &[Landmark], road: usize, s_m: f64, at: Xy) -> String {
    if let Some(label) = nearby_landmark(landmarks, at, LANDMARK_RADIUS_M) {
        return label.to_string();
    }
    let local = net.local_name(road, s_m);
    match net.nearest_crossing(road, s_m) {
        Some((_, crossing)) => format!("{local}·{}", net.cross_street_name(road, crossing)),
        None => local.to_string(),
    }
}

pub fn features(stops: &[BusStop], net: &Network, districts: &Districts) -> Vec<Value> {
    stops
        .iter()
        .enumerate()
        .map(|(i, stop)| {
            let district = districts.name_at(stop.at);
            let unit = responsible_unit(UnitKind::BusCompany, district, stop.at);
            let fact = net.roads[stop.road].fact;
            let props = Props::common(&format!("bus-{:04}", i + 1), &stop.name, district, unit)
                .with("road", fact.name)
                .with("direction", direction_label(fact.axis, stop.side))
                .with("side", stop.side.label(fact.axis));
            feature(point(stop.at.to_lonlat()), props)
        })
        .collect()
}
