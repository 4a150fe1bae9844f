//! Owns back alleys (背街小巷): short lanes, 100–400 m long (local frame, metres), that leave a
//! road into the block beside it. Each alley's mouth is written into the road's coordinates as
//! a shared vertex, so its first WGS84 point lies exactly on the road.

use super::admin::{Districts, community_at, responsible_unit};
use super::facts::{Axis, UnitKind};
use super::feature::{Props, feature, geodesic_length_m, line_string};
use super::geom::{Xy, segment_distance_m};
use super::network::Network;
use super::rng::SplitMix64;
use serde_json::Value;
use std::collections::BTreeMap;

pub const ALLEY_MIN_M: f64 = 100.0;
pub const ALLEY_MAX_M: f64 = 400.0;
/// Alleys keep this far from the crossings at either end of a block side.
const CORNER_CLEAR_M: f64 = 60.0;
/// Clearances from other roads' centrelines and from other alleys.
const ROAD_CLEAR_M: f64 = 25.0;
const ALLEY_CLEAR_M: f64 = 15.0;
/// Clearance checks ignore the first metres, where the alley meets its own road.
const MOUTH_SKIP_M: f64 = 15.0;
/// An alley's far end stays at least this far from its own road (no doubling back).
const OWN_ROAD_END_CLEAR_M: f64 = 60.0;
/// Largest deviation from a right angle to the road.
const MAX_SKEW_RAD: f64 = 0.12;

/// Which side of its road an alley leaves on, relative to the road's drawing direction
/// (south→north or west→east).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Left,
    Right,
}

impl Side {
    /// 东/西 for north–south roads, 北/南 for east–west roads.
    pub fn label(self, axis: Axis) -> &'static str {
        match (axis, self) {
            (Axis::NorthSouth, Side::Left) => "西",
            (Axis::NorthSouth, Side::Right) => "东",
            (Axis::EastWest, Side::Left) => "北",
            (Axis::EastWest, Side::Right) => "南",
        }
    }

    /// Unit normal pointing to this side of a direction of travel.
    pub fn normal(self, direction: Xy) -> Xy {
        match self {
            Side::Left => direction.left(),
            Side::Right => direction.left() * -1.0,
        }
    }
}

#[derive(Debug)]
pub struct Alley {
    pub road: usize,
    pub s_m: f64,
    pub side: Side,
    pub name: String,
    /// Local-frame course, starting at the mouth on the road.
    pub pts: Vec<Xy>,
    /// The mouth's WGS84 position, shared with the road's coordinates.
    pub mouth: [f64; 2],
}

/// Likelihood of an alley at a candidate spot: old neighbourhoods near the centre are denser.
fn alley_density(p: Xy) -> f64 {
    let from_centre_m = p.norm_m();
    if from_centre_m < 3_000.0 {
        0.17
    } else if from_centre_m < 6_000.0 {
        0.06
    } else {
        0.02
    }
}

struct Candidate {
    road: usize,
    s_m: f64,
    side: Side,
    pts: Vec<Xy>,
}

/// Generates the alleys and registers their mouths as shared vertices on the roads.
pub fn generate(net: &mut Network, rng: &mut SplitMix64) -> Vec<Alley> {
    let road_segments = net.segments();
    let mut placed: Vec<Candidate> = Vec::new();
    for road in 0..net.roads.len() {
        for side in [Side::Left, Side::Right] {
            for block in net.block_sides(road) {
                let last_s_m = block.to_s_m - CORNER_CLEAR_M;
                let mut s_m = block.from_s_m + CORNER_CLEAR_M + rng.range_f64(0.0, 80.0);
                while s_m <= last_s_m {
                    let base = net.roads[road].line.point_at(s_m);
                    if rng.chance(alley_density(base))
                        && let Some(pts) =
                            fit_alley(net, &road_segments, &placed, road, s_m, side, rng)
                    {
                        placed.push(Candidate {
                            road,
                            s_m,
                            side,
                            pts,
                        });
                    }
                    s_m += rng.range_f64(150.0, 280.0);
                }
            }
        }
    }
    name_and_register(net, placed)
}

/// Tries an alley at arc length `s_m` of `road`: a straight or once-bent lane into the block,
/// shortened until it keeps clear of other roads and alleys.
fn fit_alley(
    net: &Network,
    road_segments: &[(usize, Xy, Xy)],
    placed: &[Candidate],
    road: usize,
    s_m: f64,
    side: Side,
    rng: &mut SplitMix64,
) -> Option<Vec<Xy>> {
    let line = &net.roads[road].line;
    let base = line.point_at(s_m);
    let heading = side
        .normal(line.direction_at(s_m))
        .rotated(rng.range_f64(-MAX_SKEW_RAD, MAX_SKEW_RAD));
    let wanted_m = rng.range_f64(ALLEY_MIN_M, ALLEY_MAX_M);
    let bend_rad = if rng.chance(0.3) {
        rng.range_f64(-0.45, 0.45)
    } else {
        0.0
    };
    for factor in [1.0, 0.8, 0.62, 0.45, 0.3] {
        let length_m = (wanted_m * factor).max(ALLEY_MIN_M);
        let pts = course(base, heading, length_m, bend_rad);
        if is_clear(net, road_segments, placed, road, &pts) {
            return Some(pts);
        }
        if length_m <= ALLEY_MIN_M {
            break;
        }
    }
    None
}

/// Mouth, optional elbow at 60 % of the length, and end.
fn course(base: Xy, heading: Xy, length_m: f64, bend_rad: f64) -> Vec<Xy> {
    if bend_rad == 0.0 {
        return vec![base, base + heading * length_m];
    }
    let elbow = base + heading * (0.6 * length_m);
    vec![
        base,
        elbow,
        elbow + heading.rotated(bend_rad) * (0.4 * length_m),
    ]
}

fn is_clear(
    net: &Network,
    road_segments: &[(usize, Xy, Xy)],
    placed: &[Candidate],
    own_road: usize,
    pts: &[Xy],
) -> bool {
    let first_dir = (pts[1] - pts[0]).unit();
    let mut checked = pts.to_vec();
    checked[0] = pts[0] + first_dir * MOUTH_SKIP_M;
    let end = pts[pts.len() - 1];
    if net.roads[own_road].line.distance_to_m(end) < OWN_ROAD_END_CLEAR_M {
        return false;
    }
    for w in checked.windows(2) {
        let near_road = road_segments
            .iter()
            .filter(|(r, _, _)| *r != own_road)
            .any(|(_, a, b)| segment_distance_m(w[0], w[1], *a, *b) < ROAD_CLEAR_M);
        let near_alley = placed.iter().any(|other| {
            other
                .pts
                .windows(2)
                .any(|o| segment_distance_m(w[0], w[1], o[0], o[1]) < ALLEY_CLEAR_M)
        });
        if near_road || near_alley {
            return false;
        }
    }
    true
}

/// Numbers alleys per (local road name, side) in placement order and adds their mouths to the
/// roads as shared vertices.
fn name_and_register(net: &mut Network, placed: Vec<Candidate>) -> Vec<Alley> {
    let mut counters: BTreeMap<(&'static str, &'static str), usize> = BTreeMap::new();
    let mut alleys = Vec::with_capacity(placed.len());
    for c in placed {
        let axis = net.roads[c.road].fact.axis;
        let local = net.local_name(c.road, c.s_m);
        let side_label = c.side.label(axis);
        let n = counters.entry((local, side_label)).or_insert(0);
        *n += 1;
        let name = match axis {
            Axis::NorthSouth => format!("{local}{side_label}{}巷", chinese_number(*n)),
            Axis::EastWest => format!("{local}{side_label}侧{}巷", chinese_number(*n)),
        };
        let mouth = net.add_junction(c.road, c.s_m);
        alleys.push(Alley {
            road: c.road,
            s_m: c.s_m,
            side: c.side,
            name,
            pts: c.pts,
            mouth,
        });
    }
    alleys
}

/// 1 → 一, 12 → 十二, 20 → 二十, 35 → 三十五 (1–99).
pub fn chinese_number(n: usize) -> String {
    const DIGITS: [&str; 10] = ["", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    let (tens, ones) = (n / 10 % 10, n % 10);
    match tens {
        0 => DIGITS[ones].to_string(),
        1 => format!("十{}", DIGITS[ones]),
        _ => format!("{}十{}", DIGITS[tens], DIGITS[ones]),
    }
}

impl Alley {
    /// WGS84 coordinates, the first being the shared mouth vertex.
    pub fn coordinates(&self) -> Vec<[f64; 2]> {
        std::iter::once(self.mouth)
            .chain(self.pts[1..].iter().map(|p| p.to_lonlat()))
            .collect()
    }

    fn midpoint(&self) -> Xy {
        let end = self.pts[self.pts.len() - 1];
        self.pts[0] + (end - self.pts[0]) * 0.5
    }
}

pub fn features(alleys: &[Alley], net: &Network, districts: &Districts) -> Vec<Value> {
    alleys
        .iter()
        .enumerate()
        .map(|(i, alley)| {
            let mid = alley.midpoint();
            let district = districts.name_at(mid);
            let subdistrict = responsible_unit(UnitKind::Subdistrict, district, mid);
            let coords = alley.coordinates();
            let road = &net.roads[alley.road];
            let props = Props::common(
                &format!("alley-{:04}", i + 1),
                &alley.name,
                district,
                subdistrict,
            )
            .with("community", community_at(subdistrict, mid))
            .with("length_m", geodesic_length_m(&coords))
            .with("road", road.fact.name)
            .with("side", alley.side.label(road.fact.axis));
            feature(line_string(&coords), props)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::chinese_number;

    #[test]
    fn alley_numbers_read_as_chinese_numerals() {
        assert_eq!(chinese_number(1), "一");
        assert_eq!(chinese_number(10), "十");
        assert_eq!(chinese_number(12), "十二");
        assert_eq!(chinese_number(20), "二十");
        assert_eq!(chinese_number(35), "三十五");
    }
}
