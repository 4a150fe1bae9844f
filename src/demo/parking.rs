//! Owns on-street parking bays (路内停车位): rectangles 5 m wide and 20–60 m long (local
//! frame, metres) whose centreline runs 8–12 m beside a road centreline, parallel to it, kept
//! away from crossings, alley mouths, bus stops and off-street sites.

use super::admin::{Districts, responsible_unit};
use super::alleys::{Alley, Side};
use super::bus::{BusStop, Landmark, nearby_landmark};
use super::facts::{RoadClass, UnitKind};
use super::feature::{Props, feature, polygon};
use super::geom::{Xy, ring_centroid};
use super::network::{BlockSide, Network};
use super::rng::SplitMix64;
use super::sites::{Clearance, Obstacles, rectangle};
use serde_json::Value;
use std::collections::BTreeMap;

const BAY_WIDTH_M: f64 = 5.0;
const BAY_LENGTH_M: (f64, f64) = (20.0, 60.0);
const BAY_OFFSET_M: (f64, f64) = (8.0, 12.0);
/// Bays start this far from the crossings at either end of a block side.
const CROSSING_CLEAR_M: f64 = 35.0;
const ALLEY_MOUTH_CLEAR_M: f64 = 10.0;
const BUS_STOP_CLEAR_M: f64 = 20.0;
const LANDMARK_RADIUS_M: f64 = 300.0;
/// One parallel-parking space per 6 m of kerb.
const M_PER_SPACE: f64 = 6.0;

const BAY_CLEARANCE: Clearance = Clearance {
    road_m: 5.0,
    alley_m: 3.0,
    site_m: 3.0,
    except_road: None,
};

#[derive(Debug)]
pub struct Bay {
    pub road: usize,
    pub side: Side,
    pub length_m: f64,
    pub ring: Vec<Xy>,
    pub name: String,
}

/// Chance that a block side gets a group of bays: busy central streets are lined with them.
fn bay_density(p: Xy) -> f64 {
    let from_centre_m = p.norm_m();
    if from_centre_m < 2_500.0 {
        0.45
    } else if from_centre_m < 5_000.0 {
        0.14
    } else {
        0.03
    }
}

fn has_bays(net: &Network, road: usize) -> bool {
    let fact = net.roads[road].fact;
    fact.class == RoadClass::Main || fact.lanes >= 4
}

/// Arc lengths along each (road, side) that bays must keep away from, with the clearance.
fn kerb_conflicts(alleys: &[Alley], stops: &[BusStop]) -> Vec<(usize, Side, f64, f64)> {
    let mouths = alleys
        .iter()
        .map(|a| (a.road, a.side, a.s_m, ALLEY_MOUTH_CLEAR_M));
    let stands = stops
        .iter()
        .map(|b| (b.road, b.side, b.s_m, BUS_STOP_CLEAR_M));
    mouths.chain(stands).collect()
}

pub fn place_bays(
    net: &Network,
    alleys: &[Alley],
    stops: &[BusStop],
    obstacles: &Obstacles,
    landmarks: &[Landmark],
    rng: &mut SplitMix64,
) -> Vec<Bay> {
    let conflicts = kerb_conflicts(alleys, stops);
    let mut bays = Vec::new();
    for road in (0..net.roads.len()).filter(|&r| has_bays(net, r)) {
        for side in [Side::Right, Side::Left] {
            for block in net.block_sides(road) {
                let mid = net.roads[road]
                    .line
                    .point_at((block.from_s_m + block.to_s_m) / 2.0);
                if !rng.chance(bay_density(mid)) {
                    continue;
                }
                let blocked = |s0: f64, s1: f64| {
                    conflicts.iter().any(|&(r, sd, s, clear)| {
                        r == road && sd == side && s > s0 - clear && s < s1 + clear
                    })
                };
                let group = BayGroup {
                    net,
                    road,
                    side,
                    block,
                    obstacles,
                    landmarks,
                };
                bays.extend(group.place(rng, blocked));
            }
        }
    }
    number_duplicate_names(&mut bays);
    bays
}

/// A run of 1–3 bays along one side of one block side.
struct BayGroup<'a> {
    net: &'a Network,
    road: usize,
    side: Side,
    block: BlockSide,
    obstacles: &'a Obstacles,
    landmarks: &'a [Landmark],
}

impl BayGroup<'_> {
    fn place(&self, rng: &mut SplitMix64, blocked: impl Fn(f64, f64) -> bool) -> Vec<Bay> {
        let first_m = self.block.from_s_m + CROSSING_CLEAR_M;
        let last_m = self.block.to_s_m - CROSSING_CLEAR_M;
        let count = rng.range_u32(1, 3);
        let mut s_m = first_m + rng.range_f64(0.0, (last_m - first_m - 150.0).max(0.0));
        let mut bays = Vec::new();
        for _ in 0..count {
            let length_m = rng.range_f64(BAY_LENGTH_M.0, BAY_LENGTH_M.1);
            let offset_m = rng.range_f64(BAY_OFFSET_M.0, BAY_OFFSET_M.1);
            if s_m + length_m > last_m {
                break;
            }
            if !blocked(s_m, s_m + length_m)
                && let Some(bay) = self.bay(s_m, length_m, offset_m)
            {
                bays.push(bay);
            }
            s_m += length_m + rng.range_f64(6.0, 15.0);
        }
        bays
    }

    fn bay(&self, s_m: f64, length_m: f64, offset_m: f64) -> Option<Bay> {
        let line = &self.net.roads[self.road].line;
        if line.segment_at(s_m) != line.segment_at(s_m + length_m) {
            return None;
        }
        let mid_s_m = s_m + length_m / 2.0;
        let along = line.direction_at(mid_s_m);
        let centre = line.point_at(mid_s_m) + self.side.normal(along) * offset_m;
        let ring = rectangle(centre, along, length_m, BAY_WIDTH_M);
        let clearance = Clearance {
            except_road: Some(self.road),
            ..BAY_CLEARANCE
        };
        if !self.obstacles.is_clear(&ring, clearance) {
            return None;
        }
        Some(Bay {
            road: self.road,
            side: self.side,
            length_m,
            name: self.name(mid_s_m, centre),
            ring,
        })
    }

    /// "<road>路内停车位(<landmark or cross street>段)".
    fn name(&self, mid_s_m: f64, centre: Xy) -> String {
        let local = self.net.local_name(self.road, mid_s_m);
        let section =
            nearby_landmark(self.landmarks, centre, LANDMARK_RADIUS_M).unwrap_or_else(|| {
                let nearer = if mid_s_m - self.block.from_s_m <= self.block.to_s_m - mid_s_m {
                    self.block.from_crossing
                } else {
                    self.block.to_crossing
                };
                self.net.cross_street_name(self.road, nearer)
            });
        format!("{local}路内停车位({section}段)")
    }
}

/// Bays sharing a name get a running number: "…(人民医院段)1号", "…(人民医院段)2号".
fn number_duplicate_names(bays: &mut [Bay]) {
    let mut totals: BTreeMap<String, usize> = BTreeMap::new();
    for bay in bays.iter() {
        *totals.entry(bay.name.clone()).or_insert(0) += 1;
    }
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for bay in bays.iter_mut() {
        if totals.get(&bay.name).copied().unwrap_or(0) > 1 {
            let k = seen.entry(bay.name.clone()).or_insert(0);
            *k += 1;
            bay.name = format!("{}{}号", bay.name, k);
        }
    }
}

/// Bay features, numbered from `first_number` in the shared parking id series.
pub fn features(
    bays: &[Bay],
    net: &Network,
    districts: &Districts,
    first_number: usize,
) -> Vec<Value> {
    bays.iter()
        .enumerate()
        .map(|(i, bay)| {
            let centre = ring_centroid(&bay.ring);
            let district = districts.name_at(centre);
            let unit = responsible_unit(UnitKind::TrafficPolice, district, centre);
            let fact = net.roads[bay.road].fact;
            let id = format!("parking-{:04}", first_number + i);
            let props = Props::common(&id, &bay.name, district, unit)
                .with("parking_kind", "on_street")
                .with("capacity", (bay.length_m / M_PER_SPACE).floor() as u64)
                .with("road", fact.name)
                .with("side", bay.side.label(fact.axis))
                .with("length_m", super::geom::round1(bay.length_m));
            feature(polygon(&bay.ring), props)
        })
        .collect()
}
