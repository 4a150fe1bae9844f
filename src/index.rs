//! The in-memory spatial index: one rstar R-tree per kind, in a local metric projection.
//!
//! Projection: an equirectangular plane in metres centred on the data's extent, scaled by the
//! WGS84 ellipsoid's meridian and prime-vertical radii at the centre latitude. It is used to find
//! candidates; every distance handed out is measured on the ellipsoid ([`distance_m`]) from the
//! query point to the closest point of the geometry, so it agrees with geodesic distance (and
//! PostGIS geography) to well under 0.1 % at city scale. A point inside a polygon is at 0 m.

use geo::{Coord, Distance, Geodesic, Geometry, InterpolatePoint, Point};
use rstar::{AABB, PointDistance, RTree, RTreeObject};

use crate::model::Asset;

const WGS84_A: f64 = 6_378_137.0;
const WGS84_E2: f64 = 6.694_379_990_141_33e-3;
/// Relative disagreement allowed between plane and ellipsoid distances when gathering
/// candidates; the plane is far better than this inside a city.
const PLANE_SLACK: f64 = 0.005;
/// Edges are geodesics (as in PostGIS geography). Longer edges are split so that the straight
/// chords in the plane stay within millimetres of the geodesic (a 300 m chord bulges < 2 mm).
const MAX_EDGE_M: f64 = 300.0;

/// Metres per degree of longitude and latitude at latitude `lat_deg` on the WGS84 ellipsoid.
fn metres_per_degree(lat_deg: f64) -> (f64, f64) {
    let phi = lat_deg.to_radians();
    let w2 = 1.0 - WGS84_E2 * phi.sin().powi(2);
    let prime_vertical = WGS84_A / w2.sqrt();
    let meridian = WGS84_A * (1.0 - WGS84_E2) / (w2 * w2.sqrt());
    let per_radian_to_degree = std::f64::consts::PI / 180.0;
    (
        prime_vertical * phi.cos() * per_radian_to_degree,
        meridian * per_radian_to_degree,
    )
}

/// Distance in metres between two lon/lat points on the WGS84 ellipsoid.
///
/// Short distances (< 20 km) use the ellipsoid's local radii at the mean latitude (relative error
/// below 1e-5 there, and cheap); longer ones use Karney's geodesic.
///
/// # Examples
/// ```
/// use civmap::index::distance_m;
/// use geo::{Distance, Geodesic, Point};
/// let (a, b) = ((116.6790, 39.5119), (116.6935, 39.5114));
/// let exact = Geodesic.distance(Point::new(a.0, a.1), Point::new(b.0, b.1));
/// assert!((distance_m(a, b) - exact).abs() < 0.01);
/// ```
pub fn distance_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (kx, ky) = metres_per_degree((a.1 + b.1) * 0.5);
    let mut dlon = b.0 - a.0;
    if dlon > 180.0 {
        dlon -= 360.0;
    } else if dlon < -180.0 {
        dlon += 360.0;
    }
    let (dx, dy) = (dlon * kx, (b.1 - a.1) * ky);
    let d = (dx * dx + dy * dy).sqrt();
    if d < 20_000.0 {
        d
    } else {
        Geodesic.distance(Point::new(a.0, a.1), Point::new(b.0, b.1))
    }
}

/// The local metric plane the index works in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LocalProjection {
    lon0: f64,
    lat0: f64,
    m_per_deg_lon: f64,
    m_per_deg_lat: f64,
}

impl LocalProjection {
    /// A plane centred on `(lon0, lat0)`.
    pub fn around(lon0: f64, lat0: f64) -> Self {
        let (m_per_deg_lon, m_per_deg_lat) = metres_per_degree(lat0);
        Self {
            lon0,
            lat0,
            m_per_deg_lon,
            m_per_deg_lat,
        }
    }

    /// lon/lat → metres east/north of the centre.
    pub fn forward(&self, lon: f64, lat: f64) -> [f64; 2] {
        [
            (lon - self.lon0) * self.m_per_deg_lon,
            (lat - self.lat0) * self.m_per_deg_lat,
        ]
    }

    /// Metres east/north of the centre → lon/lat.
    pub fn inverse(&self, xy: [f64; 2]) -> (f64, f64) {
        (
            self.lon0 + xy[0] / self.m_per_deg_lon,
            self.lat0 + xy[1] / self.m_per_deg_lat,
        )
    }
}

/// A projected polygon: rings closed, exterior first.
#[derive(Debug)]
pub struct PlanePolygon {
    rings: Vec<Vec<[f64; 2]>>,
    envelope: AABB<[f64; 2]>,
}

impl PlanePolygon {
    fn contains(&self, p: [f64; 2]) -> bool {
        let mut inside = false;
        for ring in &self.rings {
            for w in ring.windows(2) {
                let (a, b) = (w[0], w[1]);
                if (a[1] > p[1]) != (b[1] > p[1]) {
                    let x = a[0] + (p[1] - a[1]) / (b[1] - a[1]) * (b[0] - a[0]);
                    if p[0] < x {
                        inside = !inside;
                    }
                }
            }
        }
        inside
    }

    fn closest_on_boundary(&self, p: [f64; 2]) -> [f64; 2] {
        let mut best = (f64::INFINITY, p);
        for ring in &self.rings {
            for w in ring.windows(2) {
                let c = closest_on_segment(w[0], w[1], p);
                let d2 = dist2(c, p);
                if d2 < best.0 {
                    best = (d2, c);
                }
            }
        }
        best.1
    }
}

/// The part of an asset one R-tree entry holds.
#[derive(Debug)]
pub enum Shape {
    Point([f64; 2]),
    Segment([f64; 2], [f64; 2]),
    Polygon(Box<PlanePolygon>),
}

/// One R-tree entry: a point, a line segment or a polygon of asset number `asset`.
#[derive(Debug)]
pub struct IndexedAsset {
    pub asset: u32,
    pub shape: Shape,
}

fn dist2(a: [f64; 2], b: [f64; 2]) -> f64 {
    let (dx, dy) = (a[0] - b[0], a[1] - b[1]);
    dx * dx + dy * dy
}

fn closest_on_segment(a: [f64; 2], b: [f64; 2], p: [f64; 2]) -> [f64; 2] {
    let (vx, vy) = (b[0] - a[0], b[1] - a[1]);
    let len2 = vx * vx + vy * vy;
    if len2 == 0.0 {
        return a;
    }
    let t = (((p[0] - a[0]) * vx + (p[1] - a[1]) * vy) / len2).clamp(0.0, 1.0);
    [a[0] + t * vx, a[1] + t * vy]
}

impl IndexedAsset {
    /// The closest point of this shape to `p` (`p` itself when inside a polygon).
    pub fn closest_point(&self, p: [f64; 2]) -> [f64; 2] {
        match &self.shape {
            Shape::Point(q) => *q,
            Shape::Segment(a, b) => closest_on_segment(*a, *b, p),
            Shape::Polygon(poly) => {
                if poly.contains(p) {
                    p
                } else {
                    poly.closest_on_boundary(p)
                }
            }
        }
    }
}

impl RTreeObject for IndexedAsset {
    type Envelope = AABB<[f64; 2]>;

    fn envelope(&self) -> Self::Envelope {
        match &self.shape {
            Shape::Point(p) => AABB::from_point(*p),
            Shape::Segment(a, b) => AABB::from_corners(*a, *b),
            Shape::Polygon(poly) => poly.envelope,
        }
    }
}

impl PointDistance for IndexedAsset {
    fn distance_2(&self, point: &[f64; 2]) -> f64 {
        dist2(self.closest_point(*point), *point)
    }
}

/// An asset found by a query, with its distance on the ellipsoid.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    /// Position of the asset in the slice the index was built from.
    pub asset: usize,
    pub distance_m: f64,
}

/// R-trees over a set of assets, one per kind.
pub struct SpatialIndex {
    projection: LocalProjection,
    kinds: Vec<String>,
    trees: Vec<RTree<IndexedAsset>>,
}

/// Which kinds a query looks at: positions in [`SpatialIndex::kinds`].
pub type KindSet = [usize];

impl SpatialIndex {
    /// Bulk-loads `assets`; `kinds` names the trees (assets of other kinds are left out).
    pub fn build(assets: &[Asset], kinds: &[String]) -> Self {
        let projection = projection_for(assets);
        let mut entries: Vec<Vec<IndexedAsset>> = kinds.iter().map(|_| Vec::new()).collect();
        for (n, asset) in assets.iter().enumerate() {
            if let Some(k) = kinds.iter().position(|k| *k == asset.kind) {
                push_shapes(&mut entries[k], n as u32, &asset.geometry, &projection);
            }
        }
        Self {
            projection,
            kinds: kinds.to_vec(),
            trees: entries.into_iter().map(RTree::bulk_load).collect(),
        }
    }

    pub fn projection(&self) -> &LocalProjection {
        &self.projection
    }

    /// The kinds, in tree order.
    pub fn kinds(&self) -> &[String] {
        &self.kinds
    }

    /// Position of `kind` among the trees.
    pub fn kind_position(&self, kind: &str) -> Option<usize> {
        self.kinds.iter().position(|k| k == kind)
    }

    /// The R-tree of the kind at `position`.
    pub fn tree(&self, position: usize) -> Option<&RTree<IndexedAsset>> {
        self.trees.get(position)
    }

    /// Every kind position.
    pub fn all_kinds(&self) -> Vec<usize> {
        (0..self.kinds.len()).collect()
    }

    fn hit(&self, entry: &IndexedAsset, q: [f64; 2], lon: f64, lat: f64) -> Hit {
        let closest = entry.closest_point(q);
        let distance_m = if closest == q {
            0.0
        } else {
            distance_m((lon, lat), self.projection.inverse(closest))
        };
        Hit {
            asset: entry.asset as usize,
            distance_m,
        }
    }

    /// The `k` assets of the given kinds nearest to (lon, lat), nearest first; ties by asset order.
    ///
    /// # Examples
    /// ```
    /// use civmap::index::SpatialIndex;
    /// use civmap::model::Asset;
    /// let stop = |id: &str, lon: f64| Asset {
    ///     id: id.into(), kind: "bus_stop".into(), name: id.into(), district: None, unit: None,
    ///     properties: Default::default(), geometry: geo::Geometry::Point(geo::Point::new(lon, 39.5)),
    /// };
    /// let assets = vec![stop("a", 116.70), stop("b", 116.71)];
    /// let index = SpatialIndex::build(&assets, &["bus_stop".to_string()]);
    /// let hits = index.nearest(116.709, 39.5, &[0], 1);
    /// assert_eq!(hits[0].asset, 1);
    /// assert!((hits[0].distance_m - 85.9).abs() < 0.5);
    /// ```
    pub fn nearest(&self, lon: f64, lat: f64, kinds: &KindSet, k: usize) -> Vec<Hit> {
        if k == 0 {
            return Vec::new();
        }
        let q = self.projection.forward(lon, lat);
        let mut found: Vec<Hit> = Vec::with_capacity(k + 2);
        for &kind in kinds {
            let Some(tree) = self.trees.get(kind) else {
                continue;
            };
            let mut kth_plane_m = f64::INFINITY;
            let mut seen_here = 0usize;
            for (entry, d2) in tree.nearest_neighbor_iter_with_distance_2(&q) {
                let plane_m = d2.sqrt();
                if seen_here >= k && plane_m > kth_plane_m * (1.0 + 2.0 * PLANE_SLACK) + 0.01 {
                    break;
                }
                if found.iter().any(|h| h.asset == entry.asset as usize) {
                    continue; // another part of an asset already found (its nearest part came first)
                }
                found.push(self.hit(entry, q, lon, lat));
                seen_here += 1;
                if seen_here == k {
                    kth_plane_m = plane_m;
                }
            }
        }
        sort_hits(&mut found);
        found.truncate(k);
        found
    }

    /// Every asset of the given kinds within `radius_m` metres of (lon, lat), nearest first.
    pub fn within_radius(&self, lon: f64, lat: f64, radius_m: f64, kinds: &KindSet) -> Vec<Hit> {
        let q = self.projection.forward(lon, lat);
        let plane_radius = radius_m * (1.0 + PLANE_SLACK) + 0.01;
        let mut best: std::collections::HashMap<u32, (f64, &IndexedAsset)> = Default::default();
        for &kind in kinds {
            let Some(tree) = self.trees.get(kind) else {
                continue;
            };
            for entry in tree.locate_within_distance(q, plane_radius * plane_radius) {
                let d2 = entry.distance_2(&q);
                let slot = best.entry(entry.asset).or_insert((d2, entry));
                if d2 < slot.0 {
                    *slot = (d2, entry);
                }
            }
        }
        let mut hits: Vec<Hit> = best
            .values()
            .map(|(_, entry)| self.hit(entry, q, lon, lat))
            .filter(|h| h.distance_m <= radius_m)
            .collect();
        sort_hits(&mut hits);
        hits
    }

    /// Assets of the given kinds whose parts' envelopes meet the lon/lat box; ascending asset
    /// order, no repeats. Callers refine with the exact geometry.
    pub fn candidates_in_bbox(
        &self,
        min: (f64, f64),
        max: (f64, f64),
        kinds: &KindSet,
    ) -> Vec<usize> {
        let envelope = AABB::from_corners(
            self.projection.forward(min.0, min.1),
            self.projection.forward(max.0, max.1),
        );
        let mut found: Vec<usize> = Vec::new();
        for &kind in kinds {
            if let Some(tree) = self.trees.get(kind) {
                found.extend(
                    tree.locate_in_envelope_intersecting(&envelope)
                        .map(|e| e.asset as usize),
                );
            }
        }
        found.sort_unstable();
        found.dedup();
        found
    }
}

fn sort_hits(hits: &mut [Hit]) {
    hits.sort_by(|a, b| {
        a.distance_m
            .total_cmp(&b.distance_m)
            .then(a.asset.cmp(&b.asset))
    });
}

/// The projection centred on the assets' extent (Langfang's centre when there are none).
fn projection_for(assets: &[Asset]) -> LocalProjection {
    let mut extent: Option<geo::Rect<f64>> = None;
    for rect in assets.iter().filter_map(Asset::bbox) {
        extent = Some(match extent {
            None => rect,
            Some(e) => geo::Rect::new(
                Coord {
                    x: e.min().x.min(rect.min().x),
                    y: e.min().y.min(rect.min().y),
                },
                Coord {
                    x: e.max().x.max(rect.max().x),
                    y: e.max().y.max(rect.max().y),
                },
            ),
        });
    }
    match extent {
        Some(e) => LocalProjection::around(e.center().x, e.center().y),
        None => LocalProjection::around(116.70, 39.52),
    }
}

/// The projected vertices of a line, with points added along each edge longer than
/// [`MAX_EDGE_M`] so that the plane chords follow the geodesic.
fn geodesic_vertices(coords: &[Coord<f64>], projection: &LocalProjection) -> Vec<[f64; 2]> {
    let mut out = Vec::with_capacity(coords.len());
    for (i, c) in coords.iter().enumerate() {
        if i > 0 {
            let prev = coords[i - 1];
            let approx_m = distance_m((prev.x, prev.y), (c.x, c.y));
            let pieces = (approx_m / MAX_EDGE_M).ceil() as usize;
            for k in 1..pieces.min(10_000) {
                let p = Geodesic.point_at_ratio_between(
                    Point(prev),
                    Point(*c),
                    k as f64 / pieces as f64,
                );
                out.push(projection.forward(p.x(), p.y()));
            }
        }
        out.push(projection.forward(c.x, c.y));
    }
    out
}

fn push_shapes(
    out: &mut Vec<IndexedAsset>,
    asset: u32,
    geometry: &Geometry<f64>,
    projection: &LocalProjection,
) {
    let fwd = |c: &Coord<f64>| projection.forward(c.x, c.y);
    let line = |out: &mut Vec<IndexedAsset>, l: &geo::LineString<f64>| {
        if l.0.len() == 1 {
            out.push(IndexedAsset {
                asset,
                shape: Shape::Point(fwd(&l.0[0])),
            });
        }
        let vertices = geodesic_vertices(&l.0, projection);
        for w in vertices.windows(2) {
            out.push(IndexedAsset {
                asset,
                shape: Shape::Segment(w[0], w[1]),
            });
        }
    };
    let polygon = |out: &mut Vec<IndexedAsset>, p: &geo::Polygon<f64>| {
        let rings: Vec<Vec<[f64; 2]>> = std::iter::once(p.exterior())
            .chain(p.interiors())
            .map(|r| geodesic_vertices(&r.0, projection))
            .collect();
        let envelope = AABB::from_points(rings[0].iter());
        out.push(IndexedAsset {
            asset,
            shape: Shape::Polygon(Box::new(PlanePolygon { rings, envelope })),
        });
    };
    match geometry {
        Geometry::Point(p) => out.push(IndexedAsset {
            asset,
            shape: Shape::Point(fwd(&p.0)),
        }),
        Geometry::MultiPoint(m) => {
            for p in &m.0 {
                push_shapes(out, asset, &Geometry::Point(*p), projection);
            }
        }
        Geometry::LineString(l) => line(out, l),
        Geometry::MultiLineString(m) => m.0.iter().for_each(|l| line(out, l)),
        Geometry::Polygon(p) => polygon(out, p),
        Geometry::MultiPolygon(m) => m.0.iter().for_each(|p| polygon(out, p)),
        Geometry::Line(l) => line(out, &geo::LineString::from(vec![l.start, l.end])),
        Geometry::Rect(r) => polygon(out, &r.to_polygon()),
        Geometry::Triangle(t) => polygon(out, &t.to_polygon()),
        Geometry::GeometryCollection(c) => {
            for g in &c.0 {
                push_shapes(out, asset, g, projection);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Densify, LineString, line_string, polygon};

    /// A small deterministic generator for test points (splitmix64).
    struct Seeded(u64);
    impl Seeded {
        fn next_f64(&mut self) -> f64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    fn asset(id: &str, kind: &str, geometry: Geometry<f64>) -> Asset {
        Asset {
            id: id.into(),
            kind: kind.into(),
            name: id.into(),
            district: None,
            unit: None,
            properties: Default::default(),
            geometry,
        }
    }

    fn demo_like_assets() -> Vec<Asset> {
        vec![
            asset(
                "guangming",
                "road",
                Geometry::LineString(line_string![
                    (x: 116.5649, y: 39.5053), (x: 116.6606, y: 39.5112),
                    (x: 116.6838, y: 39.5121), (x: 116.7251, y: 39.5115)
                ]),
            ),
            asset(
                "yongxing",
                "road",
                Geometry::LineString(line_string![
                    (x: 116.6831, y: 39.4900), (x: 116.6762, y: 39.5265), (x: 116.6713, y: 39.5600)
                ]),
            ),
            asset(
                "chunshu",
                "market",
                Geometry::Polygon(polygon![
                    (x: 116.7010, y: 39.5250), (x: 116.7025, y: 39.5250),
                    (x: 116.7025, y: 39.5262), (x: 116.7010, y: 39.5262), (x: 116.7010, y: 39.5250)
                ]),
            ),
            asset(
                "stop",
                "bus_stop",
                Geometry::Point(Point::new(116.6950, 39.5190)),
            ),
        ]
    }

    fn kinds() -> Vec<String> {
        ["road", "market", "bus_stop"].map(String::from).to_vec()
    }

    /// Reference distance: geodesic to the closest of many densified vertices (or 0 inside).
    fn reference_distance_m(geometry: &Geometry<f64>, p: Point<f64>) -> f64 {
        use geo::Contains;
        let line_min = |l: &LineString<f64>| {
            Geodesic
                .densify(l, 0.5)
                .points()
                .map(|v| Geodesic.distance(p, v))
                .fold(f64::INFINITY, f64::min)
        };
        match geometry {
            Geometry::Point(q) => Geodesic.distance(p, *q),
            Geometry::LineString(l) => line_min(l),
            Geometry::Polygon(poly) if poly.contains(&p) => 0.0,
            Geometry::Polygon(poly) => line_min(poly.exterior()),
            _ => unreachable!("test geometries only"),
        }
    }

    #[test]
    fn distances_agree_with_geodesic_within_a_tenth_of_a_percent_or_half_a_metre() {
        let assets = demo_like_assets();
        let index = SpatialIndex::build(&assets, &kinds());
        let mut rng = Seeded(7);
        for _ in 0..60 {
            let lon = 116.60 + rng.next_f64() * 0.16;
            let lat = 39.47 + rng.next_f64() * 0.10;
            for hit in index.nearest(lon, lat, &[0, 1, 2], 4) {
                let expected =
                    reference_distance_m(&assets[hit.asset].geometry, Point::new(lon, lat));
                let error = (hit.distance_m - expected).abs();
                assert!(
                    error <= 0.5 || error <= expected * 0.001,
                    "{} at ({lon}, {lat}): {} vs geodesic {expected}",
                    assets[hit.asset].id,
                    hit.distance_m
                );
            }
        }
    }

    #[test]
    fn a_point_inside_a_polygon_is_at_zero_metres() {
        let assets = demo_like_assets();
        let index = SpatialIndex::build(&assets, &kinds());
        let hits = index.nearest(116.7017, 39.5256, &[1], 1);
        assert_eq!(
            hits,
            vec![Hit {
                asset: 2,
                distance_m: 0.0
            }]
        );
    }

    #[test]
    fn nearest_returns_k_distinct_assets_in_order() {
        let assets = demo_like_assets();
        let index = SpatialIndex::build(&assets, &kinds());
        let hits = index.nearest(116.6790, 39.5119, &[0, 1, 2], 10);
        assert_eq!(hits.len(), 4);
        assert!(hits.windows(2).all(|w| w[0].distance_m <= w[1].distance_m));
        let mut ids: Vec<usize> = hits.iter().map(|h| h.asset).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 4);
    }

    #[test]
    fn within_radius_keeps_only_what_is_in_reach() {
        let assets = demo_like_assets();
        let index = SpatialIndex::build(&assets, &kinds());
        let (lon, lat) = (116.6950, 39.5190);
        let near = index.within_radius(lon, lat, 50.0, &[0, 1, 2]);
        assert_eq!(
            near,
            vec![Hit {
                asset: 3,
                distance_m: 0.0
            }]
        );
        let all = index.within_radius(lon, lat, 5_000.0, &[0, 1, 2]);
        for hit in &all {
            assert!(hit.distance_m <= 5_000.0);
        }
        let brute: Vec<usize> = index
            .nearest(lon, lat, &[0, 1, 2], 10)
            .into_iter()
            .filter(|h| h.distance_m <= 5_000.0)
            .map(|h| h.asset)
            .collect();
        assert_eq!(all.iter().map(|h| h.asset).collect::<Vec<_>>(), brute);
    }

    #[test]
    fn long_distances_fall_back_to_the_geodesic() {
        let (a, b) = ((116.70, 39.52), (121.47, 31.23));
        let exact = Geodesic.distance(Point::new(a.0, a.1), Point::new(b.0, b.1));
        assert!((distance_m(a, b) - exact).abs() < 1e-6);
    }

    #[test]
    fn the_projection_round_trips() {
        let projection = LocalProjection::around(116.7, 39.52);
        let (lon, lat) = projection.inverse(projection.forward(116.6543, 39.5876));
        assert!((lon - 116.6543).abs() < 1e-12 && (lat - 39.5876).abs() < 1e-12);
    }
}
