//! The "synth-20km" benchmark city of shared/BENCHMARKS.md, in WGS84 around Langfang: a jittered
//! 158×158 grid of intersections (≈127 m apart), the roads between neighbours, 2,000 markets and
//! 10,000 parking zones as star polygons inside blocks, and random report points. Deterministic.

use geo::{Coord, Geometry, LineString, Point, Polygon};

use crate::index::LocalProjection;
use crate::model::Asset;

pub const GRID: usize = 158;
pub const SPACING_M: f64 = 127.0;
const ORIGIN: (f64, f64) = (116.70, 39.52);

/// splitmix64: small, fast, reproducible.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [-r, r).
    pub fn jitter(&mut self, r: f64) -> f64 {
        (self.unit() * 2.0 - 1.0) * r
    }
}

/// The plane the city is laid out in: metres from its south-west corner.
pub fn plane() -> LocalProjection {
    LocalProjection::around(ORIGIN.0, ORIGIN.1)
}

fn to_lonlat(p: &LocalProjection, x: f64, y: f64) -> Coord<f64> {
    let (lon, lat) = p.inverse([x - 10_000.0, y - 10_000.0]);
    Coord { x: lon, y: lat }
}

fn asset(id: String, kind: &str, geometry: Geometry<f64>) -> Asset {
    Asset {
        name: id.clone(),
        id,
        kind: kind.to_string(),
        district: None,
        unit: None,
        properties: Default::default(),
        geometry,
    }
}

fn star(
    p: &LocalProjection,
    rng: &mut Rng,
    cx: f64,
    cy: f64,
    r_min: f64,
    r_max: f64,
) -> Polygon<f64> {
    let n = 5 + (rng.next_u64() % 4) as usize;
    let mut ring: Vec<Coord<f64>> = (0..n)
        .map(|i| {
            let angle = i as f64 / n as f64 * std::f64::consts::TAU;
            let r = r_min + rng.unit() * (r_max - r_min);
            to_lonlat(p, cx + r * angle.cos(), cy + r * angle.sin())
        })
        .collect();
    ring.push(ring[0]);
    Polygon::new(LineString(ring), vec![])
}

/// Intersections, roads, markets and parking zones of synth-20km (≈86,600 assets).
pub fn city(seed: u64) -> Vec<Asset> {
    let p = plane();
    let mut rng = Rng::new(seed);
    let mut nodes = vec![(0.0, 0.0); GRID * GRID];
    for row in 0..GRID {
        for col in 0..GRID {
            nodes[row * GRID + col] = (
                col as f64 * SPACING_M + rng.jitter(20.0),
                row as f64 * SPACING_M + rng.jitter(20.0),
            );
        }
    }
    let mut assets = Vec::with_capacity(90_000);
    for (n, &(x, y)) in nodes.iter().enumerate() {
        assets.push(asset(
            format!("i{n}"),
            "intersection",
            Geometry::Point(Point(to_lonlat(&p, x, y))),
        ));
    }
    let road = |rng: &mut Rng, a: usize, b: usize, assets: &mut Vec<Asset>| {
        let ((ax, ay), (bx, by)) = (nodes[a], nodes[b]);
        let mut coords = vec![to_lonlat(&p, ax, ay)];
        for t in [1.0 / 3.0, 2.0 / 3.0] {
            coords.push(to_lonlat(
                &p,
                ax + (bx - ax) * t + rng.jitter(6.0),
                ay + (by - ay) * t + rng.jitter(6.0),
            ));
        }
        coords.push(to_lonlat(&p, bx, by));
        let mut road = asset(
            format!("r{}", assets.len()),
            "road",
            Geometry::LineString(LineString(coords)),
        );
        road.properties
            .insert("source".into(), serde_json::json!(a));
        road.properties
            .insert("target".into(), serde_json::json!(b));
        assets.push(road);
    };
    for row in 0..GRID {
        for col in 0..GRID {
            let n = row * GRID + col;
            if col + 1 < GRID {
                road(&mut rng, n, n + 1, &mut assets);
            }
            if row + 1 < GRID {
                road(&mut rng, n, n + GRID, &mut assets);
            }
        }
    }
    for (count, kind, r_min, r_max) in [
        (2_000, "market", 25.0, 50.0),
        (10_000, "parking_zone", 10.0, 25.0),
    ] {
        for i in 0..count {
            let block_col = (rng.next_u64() % (GRID as u64 - 1)) as f64;
            let block_row = (rng.next_u64() % (GRID as u64 - 1)) as f64;
            let cx = (block_col + 0.5) * SPACING_M + rng.jitter(10.0);
            let cy = (block_row + 0.5) * SPACING_M + rng.jitter(10.0);
            let shape = star(&p, &mut rng, cx, cy, r_min, r_max);
            assets.push(asset(format!("{kind}{i}"), kind, Geometry::Polygon(shape)));
        }
    }
    assets
}

/// `n` uniform random lon/lat points over the city.
pub fn points(seed: u64, n: usize) -> Vec<(f64, f64)> {
    let p = plane();
    let mut rng = Rng::new(seed);
    let side = (GRID - 1) as f64 * SPACING_M;
    (0..n)
        .map(|_| {
            let c = to_lonlat(&p, rng.unit() * side, rng.unit() * side);
            (c.x, c.y)
        })
        .collect()
}
