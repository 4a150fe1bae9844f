//! Owns the demo road network: centrelines built from the anchor tables (local frame, metres),
//! every crossing of a north–south road with an east–west road, the trimming of overhangs, and
//! the shared vertices (crossings, alley mouths) written into road coordinates so that a road
//! graph can node features on exactly equal WGS84 lon/lat pairs.

use super::admin::{Districts, responsible_unit};
use super::facts::{Axis, LOCAL_NAME_SPLITS, ROADS, RoadClass, RoadFact, UnitKind};
use super::feature::{Props, feature, geodesic_length_m, line_string, point};
use super::geom::{Polyline, Xy, segment_crossing};
use serde_json::Value;

/// How far a road is drawn past the outermost road it crosses.
const OVERHANG_M: f64 = 40.0;
/// Two crossings of the same pair of roads closer than this are the same crossing.
const SAME_CROSSING_M: f64 = 1.0;
/// A road vertex this close to a shared vertex is replaced by it.
const VERTEX_MERGE_M: f64 = 0.5;

#[derive(Debug)]
pub struct Road {
    pub fact: &'static RoadFact,
    pub id: String,
    pub line: Polyline,
    /// Crossings along the road, ascending by arc length: (arc length in m, crossing index).
    pub crossings: Vec<(f64, usize)>,
    /// Shared vertices to add to the written line: (arc length in m, rounded [lon, lat]).
    junctions: Vec<(f64, [f64; 2])>,
}

#[derive(Debug)]
pub struct Crossing {
    pub ns_road: usize,
    pub ew_road: usize,
    pub at: Xy,
    pub lonlat: [f64; 2],
}

#[derive(Debug)]
pub struct Network {
    pub roads: Vec<Road>,
    pub crossings: Vec<Crossing>,
}

/// One stretch of a road between two consecutive crossings (a block side).
#[derive(Debug, Clone, Copy)]
pub struct BlockSide {
    pub from_s_m: f64,
    pub to_s_m: f64,
    pub from_crossing: usize,
    pub to_crossing: usize,
}

fn anchor_line(fact: &RoadFact) -> Polyline {
    Polyline::new(
        fact.anchors
            .iter()
            .map(|&(lon, lat)| Xy::from_lonlat(lon, lat))
            .collect(),
    )
}

/// A crossing found on the untrimmed lines, with arc lengths on both roads.
struct RawCrossing {
    ns_road: usize,
    ew_road: usize,
    ns_s_m: f64,
    ew_s_m: f64,
    at: Xy,
}

fn crossings_between(a: &Polyline, b: &Polyline) -> Vec<(f64, f64, Xy)> {
    let mut found: Vec<(f64, f64, Xy)> = Vec::new();
    for (i, (a0, a1)) in a.segments().enumerate() {
        for (j, (b0, b1)) in b.segments().enumerate() {
            let Some((t, u)) = segment_crossing(a0, a1, b0, b1) else {
                continue;
            };
            let at = a0 + (a1 - a0) * t;
            if found
                .iter()
                .all(|(_, _, p)| p.distance_m(at) > SAME_CROSSING_M)
            {
                found.push((a.s_on_segment(i, t), b.s_on_segment(j, u), at));
            }
        }
    }
    found
}

fn raw_crossings(lines: &[Polyline]) -> Vec<RawCrossing> {
    let mut out = Vec::new();
    for (ns, ns_fact) in ROADS.iter().enumerate() {
        if ns_fact.axis != Axis::NorthSouth {
            continue;
        }
        for (ew, ew_fact) in ROADS.iter().enumerate() {
            if ew_fact.axis != Axis::EastWest {
                continue;
            }
            for (ns_s_m, ew_s_m, at) in crossings_between(&lines[ns], &lines[ew]) {
                out.push(RawCrossing {
                    ns_road: ns,
                    ew_road: ew,
                    ns_s_m,
                    ew_s_m,
                    at,
                });
            }
        }
    }
    out
}

/// Names of same-direction road pairs whose anchor lines cross (the tables should have none).
#[cfg(test)]
pub fn same_axis_crossings() -> Vec<(&'static str, &'static str)> {
    let lines: Vec<Polyline> = ROADS.iter().map(anchor_line).collect();
    let mut out = Vec::new();
    for (i, a) in ROADS.iter().enumerate() {
        for (j, b) in ROADS.iter().enumerate().skip(i + 1) {
            if a.axis == b.axis && !crossings_between(&lines[i], &lines[j]).is_empty() {
                out.push((a.name, b.name));
            }
        }
    }
    out
}

/// Builds the roads, finds all crossings and trims every road to its outermost crossings plus
/// a short overhang.
pub fn build() -> Network {
    let lines: Vec<Polyline> = ROADS.iter().map(anchor_line).collect();
    let raw = raw_crossings(&lines);

    let mut roads: Vec<Road> = Vec::with_capacity(ROADS.len());
    let mut trim_start_m = Vec::with_capacity(ROADS.len());
    for (i, (fact, line)) in ROADS.iter().zip(&lines).enumerate() {
        let on_road = raw.iter().filter_map(|c| crossing_s_on(c, i));
        let (first, last) = on_road.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), s| {
            (lo.min(s), hi.max(s))
        });
        let (from_m, to_m) = if first.is_finite() {
            (
                (first - OVERHANG_M).max(0.0),
                (last + OVERHANG_M).min(line.length_m()),
            )
        } else {
            (0.0, line.length_m())
        };
        trim_start_m.push(from_m);
        roads.push(Road {
            fact,
            id: format!("road-{:03}", i + 1),
            line: line.slice(from_m, to_m),
            crossings: Vec::new(),
            junctions: Vec::new(),
        });
    }

    let mut crossings = Vec::with_capacity(raw.len());
    for c in &raw {
        let index = crossings.len();
        let lonlat = c.at.to_lonlat();
        for (road, s_m) in [(c.ns_road, c.ns_s_m), (c.ew_road, c.ew_s_m)] {
            let s_m = s_m - trim_start_m[road];
            roads[road].crossings.push((s_m, index));
            roads[road].junctions.push((s_m, lonlat));
        }
        crossings.push(Crossing {
            ns_road: c.ns_road,
            ew_road: c.ew_road,
            at: c.at,
            lonlat,
        });
    }
    for road in &mut roads {
        road.crossings.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    Network { roads, crossings }
}

fn crossing_s_on(c: &RawCrossing, road: usize) -> Option<f64> {
    if c.ns_road == road {
        Some(c.ns_s_m)
    } else if c.ew_road == road {
        Some(c.ew_s_m)
    } else {
        None
    }
}

impl Network {
    /// Adds a shared vertex at arc length `s_m` of `road` and returns its rounded [lon, lat].
    pub fn add_junction(&mut self, road: usize, s_m: f64) -> [f64; 2] {
        let lonlat = self.roads[road].line.point_at(s_m).to_lonlat();
        self.roads[road].junctions.push((s_m, lonlat));
        lonlat
    }

    /// The road's WGS84 coordinates: its trimmed course plus every shared vertex, in order.
    pub fn road_coordinates(&self, road: usize) -> Vec<[f64; 2]> {
        let r = &self.roads[road];
        let mut stations: Vec<(f64, bool, [f64; 2])> =
            r.junctions.iter().map(|&(s, ll)| (s, true, ll)).collect();
        for (p, &s) in r.line.points().iter().zip(r.line.vertex_s_m()) {
            let near_junction = r
                .junctions
                .iter()
                .any(|(js, _)| (js - s).abs() < VERTEX_MERGE_M);
            if !near_junction {
                stations.push((s, false, p.to_lonlat()));
            }
        }
        stations.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut coords: Vec<[f64; 2]> = Vec::with_capacity(stations.len());
        for (_, _, ll) in stations {
            if coords.last() != Some(&ll) {
                coords.push(ll);
            }
        }
        coords
    }

    /// The stretches of a road between consecutive crossings.
    pub fn block_sides(&self, road: usize) -> Vec<BlockSide> {
        self.roads[road]
            .crossings
            .windows(2)
            .map(|w| BlockSide {
                from_s_m: w[0].0,
                to_s_m: w[1].0,
                from_crossing: w[0].1,
                to_crossing: w[1].1,
            })
            .collect()
    }

    /// The road crossing `road` at crossing `crossing`.
    pub fn other_road(&self, crossing: usize, road: usize) -> usize {
        let c = &self.crossings[crossing];
        if c.ns_road == road {
            c.ew_road
        } else {
            c.ns_road
        }
    }

    /// The crossing on `road` nearest to arc length `s_m`.
    pub fn nearest_crossing(&self, road: usize, s_m: f64) -> Option<(f64, usize)> {
        self.roads[road]
            .crossings
            .iter()
            .copied()
            .min_by(|a, b| (a.0 - s_m).abs().total_cmp(&(b.0 - s_m).abs()))
    }

    /// Arc length of crossing `crossing` along `road`, if the road passes through it.
    pub fn crossing_s_m(&self, road: usize, crossing: usize) -> Option<f64> {
        self.roads[road]
            .crossings
            .iter()
            .find(|(_, c)| *c == crossing)
            .map(|(s, _)| *s)
    }

    /// The local name of the road that crosses `road` at `crossing` (e.g. 光明西道).
    pub fn cross_street_name(&self, road: usize, crossing: usize) -> &'static str {
        let other = self.other_road(crossing, road);
        match self.crossing_s_m(other, crossing) {
            Some(s_m) => self.local_name(other, s_m),
            None => self.roads[other].fact.name,
        }
    }

    /// The name locals use for `road` at arc length `s_m` (光明西道 vs 光明东道 …).
    pub fn local_name(&self, road: usize, s_m: f64) -> &'static str {
        let r = &self.roads[road];
        for &(name, split_by, low, high) in LOCAL_NAME_SPLITS {
            if name != r.fact.name {
                continue;
            }
            let split_at = r
                .crossings
                .iter()
                .find(|(_, c)| self.roads[self.other_road(*c, road)].fact.name == split_by);
            if let Some(&(split_s_m, _)) = split_at {
                return if s_m < split_s_m { low } else { high };
            }
        }
        r.fact.name
    }

    /// Every road segment, tagged with its road index (for clearance checks).
    pub fn segments(&self) -> Vec<(usize, Xy, Xy)> {
        self.roads
            .iter()
            .enumerate()
            .flat_map(|(i, r)| r.line.segments().map(move |(a, b)| (i, a, b)))
            .collect()
    }
}

/// Road features: `class`, `lanes`, `oneway`, geodesic `length_m`. Six-lane roads are looked
/// after by the district's 住建 bureau, the rest by its 城管 bureau.
pub fn road_features(net: &Network, districts: &Districts) -> Vec<Value> {
    net.roads
        .iter()
        .enumerate()
        .map(|(i, road)| {
            let mid = road.line.point_at(road.line.length_m() / 2.0);
            let district = districts.name_at(mid);
            let kind = if road.fact.lanes >= 6 {
                UnitKind::Construction
            } else {
                UnitKind::UrbanManagement
            };
            let unit = responsible_unit(kind, district, mid);
            let coords = net.road_coordinates(i);
            let props = Props::common(&road.id, road.fact.name, district, unit)
                .with("class", road.fact.class.as_str())
                .with("lanes", road.fact.lanes)
                .with("oneway", road.fact.oneway)
                .with("length_m", geodesic_length_m(&coords));
            feature(line_string(&coords), props)
        })
        .collect()
}

/// Intersection features, named "<north–south road>与<east–west road>交口".
pub fn intersection_features(net: &Network, districts: &Districts) -> Vec<Value> {
    net.crossings
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let ns = net.roads[c.ns_road].fact;
            let ew = net.roads[c.ew_road].fact;
            let district = districts.name_at(c.at);
            let unit = responsible_unit(UnitKind::TrafficPolice, district, c.at);
            let name = format!("{}与{}交口", ns.name, ew.name);
            let is_main = ns.class == RoadClass::Main || ew.class == RoadClass::Main;
            let props = Props::common(&format!("int-{:04}", i + 1), &name, district, unit)
                .with("roads", vec![ns.name, ew.name])
                .with("main", is_main);
            feature(point(c.lonlat), props)
        })
        .collect()
}
