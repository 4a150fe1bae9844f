//! Owns the demo's planar geometry: a local metric frame (metres, x east / y north) around
//! Langfang, conversion to and from WGS84 lon/lat degrees, rounding to 6 decimals, and the
//! small polyline / segment / ring helpers the generators need.
//!
//! The frame is an equirectangular projection centred on (116.70 E, 39.52 N). It is affine in
//! lon/lat, so straight segments and their crossings are the same in both systems; distances
//! are off by well under 0.1 % across the city, which is plenty for layout. Reported lengths
//! (`length_m`) are geodesic and computed separately from the final lon/lat coordinates.

use std::ops::{Add, Mul, Sub};

pub const ORIGIN_LON_DEG: f64 = 116.70;
pub const ORIGIN_LAT_DEG: f64 = 39.52;
/// Metres per degree of longitude at the origin latitude (WGS84).
const M_PER_DEG_LON: f64 = 86_006.0;
/// Metres per degree of latitude at the origin latitude (WGS84).
const M_PER_DEG_LAT: f64 = 111_025.0;

/// A point or vector in the local metric frame, in metres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Xy {
    pub x: f64,
    pub y: f64,
}

impl Add for Xy {
    type Output = Xy;
    fn add(self, o: Xy) -> Xy {
        Xy::new(self.x + o.x, self.y + o.y)
    }
}

impl Sub for Xy {
    type Output = Xy;
    fn sub(self, o: Xy) -> Xy {
        Xy::new(self.x - o.x, self.y - o.y)
    }
}

impl Mul<f64> for Xy {
    type Output = Xy;
    fn mul(self, k: f64) -> Xy {
        Xy::new(self.x * k, self.y * k)
    }
}

impl Xy {
    pub const fn new(x: f64, y: f64) -> Self {
        Self { x, y }
    }

    pub fn from_lonlat(lon_deg: f64, lat_deg: f64) -> Self {
        Self::new(
            (lon_deg - ORIGIN_LON_DEG) * M_PER_DEG_LON,
            (lat_deg - ORIGIN_LAT_DEG) * M_PER_DEG_LAT,
        )
    }

    /// WGS84 [lon, lat] in degrees, rounded to 6 decimals (about 0.1 m).
    pub fn to_lonlat(self) -> [f64; 2] {
        [
            round6(ORIGIN_LON_DEG + self.x / M_PER_DEG_LON),
            round6(ORIGIN_LAT_DEG + self.y / M_PER_DEG_LAT),
        ]
    }

    pub fn dot(self, o: Xy) -> f64 {
        self.x * o.x + self.y * o.y
    }

    pub fn cross(self, o: Xy) -> f64 {
        self.x * o.y - self.y * o.x
    }

    pub fn norm_m(self) -> f64 {
        self.x.hypot(self.y)
    }

    pub fn distance_m(self, o: Xy) -> f64 {
        (self - o).norm_m()
    }

    pub fn unit(self) -> Xy {
        let n = self.norm_m();
        if n == 0.0 { self } else { self * (1.0 / n) }
    }

    /// The vector turned 90° counter-clockwise (to the left of the direction of travel).
    pub fn left(self) -> Xy {
        Xy::new(-self.y, self.x)
    }

    /// The vector turned counter-clockwise by `angle_rad`.
    pub fn rotated(self, angle_rad: f64) -> Xy {
        let (s, c) = angle_rad.sin_cos();
        Xy::new(self.x * c - self.y * s, self.x * s + self.y * c)
    }
}

pub fn round6(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

pub fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// Where segments a0–a1 and b0–b1 cross: `(t, u)` with the point at `a0 + t (a1 − a0)` and
/// `b0 + u (b1 − b0)`, both in [0, 1]. Parallel segments never cross here.
pub fn segment_crossing(a0: Xy, a1: Xy, b0: Xy, b1: Xy) -> Option<(f64, f64)> {
    let da = a1 - a0;
    let db = b1 - b0;
    let denom = da.cross(db);
    if denom.abs() < 1e-12 {
        return None;
    }
    let w = b0 - a0;
    let t = w.cross(db) / denom;
    let u = w.cross(da) / denom;
    ((0.0..=1.0).contains(&t) && (0.0..=1.0).contains(&u)).then_some((t, u))
}

pub fn point_segment_distance_m(p: Xy, a: Xy, b: Xy) -> f64 {
    let ab = b - a;
    let len2 = ab.dot(ab);
    let t = if len2 == 0.0 {
        0.0
    } else {
        ((p - a).dot(ab) / len2).clamp(0.0, 1.0)
    };
    p.distance_m(a + ab * t)
}

pub fn segment_distance_m(a0: Xy, a1: Xy, b0: Xy, b1: Xy) -> f64 {
    if segment_crossing(a0, a1, b0, b1).is_some() {
        return 0.0;
    }
    point_segment_distance_m(a0, b0, b1)
        .min(point_segment_distance_m(a1, b0, b1))
        .min(point_segment_distance_m(b0, a0, a1))
        .min(point_segment_distance_m(b1, a0, a1))
}

/// Even–odd point-in-polygon test on an open ring (first vertex not repeated).
pub fn ring_contains(ring: &[Xy], p: Xy) -> bool {
    let mut inside = false;
    for (i, a) in ring.iter().enumerate() {
        let b = ring[(i + 1) % ring.len()];
        if (a.y > p.y) != (b.y > p.y) {
            let x_at = a.x + (p.y - a.y) * (b.x - a.x) / (b.y - a.y);
            if p.x < x_at {
                inside = !inside;
            }
        }
    }
    inside
}

/// The edges of an open ring, closing edge included.
pub fn ring_edges(ring: &[Xy]) -> impl Iterator<Item = (Xy, Xy)> + '_ {
    ring.iter()
        .enumerate()
        .map(|(i, a)| (*a, ring[(i + 1) % ring.len()]))
}

pub fn ring_centroid(ring: &[Xy]) -> Xy {
    let sum = ring.iter().fold(Xy::new(0.0, 0.0), |acc, p| acc + *p);
    sum * (1.0 / ring.len() as f64)
}

/// Shoelace area of an open ring, in square metres.
pub fn ring_area_m2(ring: &[Xy]) -> f64 {
    ring_edges(ring).map(|(a, b)| a.cross(b)).sum::<f64>().abs() / 2.0
}

/// Distance from a point to the nearest edge of a ring (0 when inside).
pub fn ring_distance_m(ring: &[Xy], p: Xy) -> f64 {
    if ring_contains(ring, p) {
        return 0.0;
    }
    ring_edges(ring)
        .map(|(a, b)| point_segment_distance_m(p, a, b))
        .fold(f64::INFINITY, f64::min)
}

/// A polyline in the local frame with cumulative arc lengths, so positions along it can be
/// addressed by distance from its start (`s_m`).
#[derive(Debug, Clone)]
pub struct Polyline {
    pts: Vec<Xy>,
    cum_m: Vec<f64>,
}

impl Polyline {
    pub fn new(pts: Vec<Xy>) -> Self {
        let mut cum_m = Vec::with_capacity(pts.len());
        let mut total = 0.0;
        for (i, p) in pts.iter().enumerate() {
            if i > 0 {
                total += pts[i - 1].distance_m(*p);
            }
            cum_m.push(total);
        }
        Self { pts, cum_m }
    }

    pub fn points(&self) -> &[Xy] {
        &self.pts
    }

    pub fn length_m(&self) -> f64 {
        self.cum_m.last().copied().unwrap_or(0.0)
    }

    /// Arc length at each vertex.
    pub fn vertex_s_m(&self) -> &[f64] {
        &self.cum_m
    }

    pub fn segments(&self) -> impl Iterator<Item = (Xy, Xy)> + '_ {
        self.pts.windows(2).map(|w| (w[0], w[1]))
    }

    /// Index of the segment that holds arc length `s_m` (clamped to the line).
    pub fn segment_at(&self, s_m: f64) -> usize {
        let last = self.pts.len().saturating_sub(2);
        (0..=last)
            .find(|&i| s_m <= self.cum_m[i + 1])
            .unwrap_or(last)
    }

    pub fn point_at(&self, s_m: f64) -> Xy {
        let i = self.segment_at(s_m);
        let (a, b) = (self.pts[i], self.pts[i + 1]);
        let seg_len = self.cum_m[i + 1] - self.cum_m[i];
        if seg_len == 0.0 {
            return a;
        }
        let t = ((s_m - self.cum_m[i]) / seg_len).clamp(0.0, 1.0);
        a + (b - a) * t
    }

    /// Unit direction of travel at arc length `s_m`.
    pub fn direction_at(&self, s_m: f64) -> Xy {
        let i = self.segment_at(s_m);
        (self.pts[i + 1] - self.pts[i]).unit()
    }

    /// The part of the line between arc lengths `from_m` and `to_m`.
    pub fn slice(&self, from_m: f64, to_m: f64) -> Polyline {
        let mut pts = vec![self.point_at(from_m)];
        for (p, s) in self.pts.iter().zip(&self.cum_m) {
            if *s > from_m && *s < to_m {
                pts.push(*p);
            }
        }
        pts.push(self.point_at(to_m));
        Polyline::new(pts)
    }

    /// Arc length of the point on segment `seg` at parameter `t`.
    pub fn s_on_segment(&self, seg: usize, t: f64) -> f64 {
        self.cum_m[seg] + t * (self.cum_m[seg + 1] - self.cum_m[seg])
    }

    pub fn distance_to_m(&self, p: Xy) -> f64 {
        self.segments()
            .map(|(a, b)| point_segment_distance_m(p, a, b))
            .fold(f64::INFINITY, f64::min)
    }
}

/// Distance in metres between two WGS84 points, measured in a frame centred on the first
/// (used by tests to check that features touch to within a metre).
#[cfg(test)]
pub fn lonlat_distance_m(a: [f64; 2], b: [f64; 2]) -> f64 {
    let m_per_deg_lon = 111_320.0 * a[1].to_radians().cos();
    ((b[0] - a[0]) * m_per_deg_lon).hypot((b[1] - a[1]) * 110_950.0)
}

/// Distance in metres from a WGS84 point to a WGS84 line string.
#[cfg(test)]
pub fn lonlat_point_line_distance_m(p: [f64; 2], line: &[[f64; 2]]) -> f64 {
    let m_per_deg_lon = 111_320.0 * p[1].to_radians().cos();
    let local = |q: [f64; 2]| Xy::new((q[0] - p[0]) * m_per_deg_lon, (q[1] - p[1]) * 110_950.0);
    line.windows(2)
        .map(|w| point_segment_distance_m(Xy::new(0.0, 0.0), local(w[0]), local(w[1])))
        .fold(f64::INFINITY, f64::min)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lonlat_round_trips_through_the_local_frame() {
        let p = Xy::from_lonlat(116.712345, 39.534567);
        assert_eq!(p.to_lonlat(), [116.712345, 39.534567]);
    }

    #[test]
    fn crossing_segments_meet_at_the_expected_point() {
        let (t, u) = segment_crossing(
            Xy::new(0.0, 0.0),
            Xy::new(10.0, 0.0),
            Xy::new(5.0, -5.0),
            Xy::new(5.0, 5.0),
        )
        .expect("segments cross");
        assert!((t - 0.5).abs() < 1e-12 && (u - 0.5).abs() < 1e-12);
    }

    #[test]
    fn a_polyline_is_addressed_by_arc_length() {
        let line = Polyline::new(vec![
            Xy::new(0.0, 0.0),
            Xy::new(100.0, 0.0),
            Xy::new(100.0, 50.0),
        ]);
        assert_eq!(line.length_m(), 150.0);
        assert_eq!(line.point_at(125.0), Xy::new(100.0, 25.0));
        assert_eq!(line.slice(50.0, 120.0).length_m(), 70.0);
    }
}
