//! The in-memory spatial index: one rstar R-tree over every kind, in a local metric projection.
//!
//! Entries are the parts of assets (points, line segments, polygons), each tagged with its kind;
//! every node's envelope carries the set of kinds below it ([`kinds`]), so a query for any set of
//! kinds is one descent that skips subtrees without them ([`nearest`] is that search).
//!
//! Projection: an equirectangular plane in metres centred on the data's extent, scaled by the
//! WGS84 ellipsoid's meridian and prime-vertical radii at the centre latitude. It is used to find
//! candidates; every distance handed out is measured on the ellipsoid ([`distance_m`]) from the
//! query point to the closest point of the geometry, so it agrees with geodesic distance (and
//! PostGIS geography) to well under 0.1 % at city scale. A point inside a polygon is at 0 m.

mod kinds;
mod nearest;

use std::sync::OnceLock;

use geo::{Coord, Distance, Geodesic, Geometry, InterpolatePoint, Point};
use rstar::{AABB, PointDistance, RStarInsertionStrategy, RTree, RTreeObject, RTreeParams};
use rstar::{Envelope, SelectionFunction};

use crate::model::Asset;
use kinds::{KindEnvelope, KindFilter, KindMask};

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
#[derive(Debug, Clone)]
pub struct PlanePolygon {
    rings: Vec<Vec<[f64; 2]>>,
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
#[derive(Debug, Clone)]
pub enum Shape {
    Point([f64; 2]),
    Segment([f64; 2], [f64; 2]),
    /// The box is kept beside the rings so that searches can rule a polygon out without
    /// following the pointer. It costs no memory: rstar stores entries and inner nodes in one
    /// enum, and inner nodes (a `Vec` and a [`kinds::KindEnvelope`]) are the larger.
    Polygon {
        envelope: AABB<[f64; 2]>,
        polygon: Box<PlanePolygon>,
    },
}

/// One R-tree entry: a point, a line segment or a polygon of asset number `asset`, whose kind is
/// at position `kind` in [`SpatialIndex::kinds`].
#[derive(Debug, Clone)]
pub struct IndexedAsset {
    pub asset: u32,
    pub kind: u32,
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
            Shape::Polygon { envelope, polygon } => {
                if envelope.contains_point(&p) && polygon.contains(p) {
                    p
                } else {
                    polygon.closest_on_boundary(p)
                }
            }
        }
    }

    /// A cheap lower bound of the squared plane distance to `p`: exact for points and segments
    /// (as cheap as their box), the box's for polygons (whose exact test walks every edge).
    fn lower_bound2(&self, p: [f64; 2]) -> f64 {
        match &self.shape {
            Shape::Polygon { envelope, .. } => self.envelope_of(*envelope).distance_2_to(p),
            _ => dist2(self.closest_point(p), p),
        }
    }

    fn envelope_of(&self, aabb: AABB<[f64; 2]>) -> KindEnvelope {
        KindEnvelope {
            aabb,
            kinds: KindMask::of(self.kind as usize),
        }
    }
}

impl RTreeObject for IndexedAsset {
    type Envelope = KindEnvelope;

    fn envelope(&self) -> Self::Envelope {
        self.envelope_of(match &self.shape {
            Shape::Point(p) => AABB::from_point(*p),
            Shape::Segment(a, b) => AABB::from_corners(*a, *b),
            Shape::Polygon { envelope, .. } => *envelope,
        })
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

/// Node sizes of the combined tree. Larger nodes than rstar's default (6) mean fewer levels, so
/// fewer dependent memory loads per descent, at the price of more boxes tested per node; 12 and
/// 16 were the fastest of 4–16 on synth-20km (within noise of each other), 12 builds faster.
pub struct IndexParams;

impl RTreeParams for IndexParams {
    const MIN_SIZE: usize = 4;
    const MAX_SIZE: usize = 12;
    const REINSERTION_COUNT: usize = 3;
    type DefaultInsertionStrategy = RStarInsertionStrategy;
}

/// One R-tree over the parts of a set of assets of several kinds.
pub struct SpatialIndex {
    projection: LocalProjection,
    kinds: Vec<String>,
    tree: RTree<IndexedAsset, IndexParams>,
    /// Plain one-kind trees for [`SpatialIndex::tree`], built on first use.
    per_kind: Vec<OnceLock<RTree<IndexedAsset>>>,
}

/// Which kinds a query looks at: positions in [`SpatialIndex::kinds`].
pub type KindSet = [usize];

impl SpatialIndex {
    /// Bulk-loads `assets`; `kinds` names the kind positions (assets of other kinds are left out).
    pub fn build(assets: &[Asset], kinds: &[String]) -> Self {
        let projection = projection_for(assets);
        let mut entries: Vec<IndexedAsset> = Vec::with_capacity(assets.len() * 2);
        for (n, asset) in assets.iter().enumerate() {
            if let Some(k) = kinds.iter().position(|k| *k == asset.kind) {
                let owner = Owner {
                    asset: n as u32,
                    kind: k as u32,
                };
                push_shapes(&mut entries, owner, &asset.geometry, &projection);
            }
        }
        Self {
            projection,
            kinds: kinds.to_vec(),
            tree: RTree::bulk_load_with_params(entries),
            per_kind: kinds.iter().map(|_| OnceLock::new()).collect(),
        }
    }

    pub fn projection(&self) -> &LocalProjection {
        &self.projection
    }

    /// The kinds; a kind's position here is its id in queries ([`KindSet`]).
    pub fn kinds(&self) -> &[String] {
        &self.kinds
    }

    /// Position of `kind` among the kinds.
    pub fn kind_position(&self, kind: &str) -> Option<usize> {
        self.kinds.iter().position(|k| k == kind)
    }

    /// A plain rstar R-tree (default parameters) of the kind at `position` alone, built from
    /// the combined tree on first use. Queries here do not use it: it is the reference the
    /// benchmark compares with, and a handle on rstar's own API for one kind.
    pub fn tree(&self, position: usize) -> Option<&RTree<IndexedAsset>> {
        let kind = u32::try_from(position).ok()?;
        let once = self.per_kind.get(position)?;
        Some(once.get_or_init(|| {
            let entries = self.tree.iter().filter(|e| e.kind == kind).cloned();
            RTree::bulk_load(entries.collect())
        }))
    }

    /// Every kind position.
    pub fn all_kinds(&self) -> Vec<usize> {
        (0..self.kinds.len()).collect()
    }

    /// The hit for `asset` whose part nearest to `q` (the plane image of lon/lat) in the plane is
    /// at `closest`: distance measured on the ellipsoid, 0 when `q` is on or inside the part.
    fn hit(&self, asset: u32, closest: [f64; 2], q: [f64; 2], lon: f64, lat: f64) -> Hit {
        let distance_m = if closest == q {
            0.0
        } else {
            distance_m((lon, lat), self.projection.inverse(closest))
        };
        Hit {
            asset: asset as usize,
            distance_m,
        }
    }

    /// One hit per asset, from its part nearest on the ellipsoid; nearest first.
    fn hits(&self, parts: &[nearest::Part], q: [f64; 2], lon: f64, lat: f64) -> Vec<Hit> {
        let mut hits: Vec<Hit> = parts
            .iter()
            .map(|p| self.hit(p.asset, p.closest, q, lon, lat))
            .collect();
        hits.sort_by(|a, b| {
            a.asset
                .cmp(&b.asset)
                .then(a.distance_m.total_cmp(&b.distance_m))
        });
        hits.dedup_by_key(|h| h.asset);
        sort_hits(&mut hits);
        hits
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
        let filter = KindFilter::new(kinds);
        nearest::with_candidates(self.tree.root(), q, &filter, k, |parts| {
            let mut hits = self.hits(parts, q, lon, lat);
            hits.truncate(k);
            hits
        })
    }

    /// Every asset of the given kinds within `radius_m` metres of (lon, lat), nearest first.
    pub fn within_radius(&self, lon: f64, lat: f64, radius_m: f64, kinds: &KindSet) -> Vec<Hit> {
        let q = self.projection.forward(lon, lat);
        // A part within `radius_m` on the ellipsoid is within radius/(1−s) in the plane.
        let plane_radius = radius_m / (1.0 - PLANE_SLACK) + 0.01;
        let select = WithinDistance {
            q,
            distance_2: plane_radius * plane_radius,
            kinds: KindFilter::new(kinds),
        };
        let parts: Vec<nearest::Part> = self
            .tree
            .locate_with_selection_function(select)
            .map(|entry| {
                let closest = entry.closest_point(q);
                nearest::Part {
                    d2: dist2(closest, q),
                    asset: entry.asset,
                    closest,
                }
            })
            .collect();
        let mut hits = self.hits(&parts, q, lon, lat);
        hits.retain(|h| h.distance_m <= radius_m);
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
        let select = InBox {
            aabb: AABB::from_corners(
                self.projection.forward(min.0, min.1),
                self.projection.forward(max.0, max.1),
            ),
            kinds: KindFilter::new(kinds),
        };
        let mut found: Vec<usize> = self
            .tree
            .locate_with_selection_function(select)
            .map(|e| e.asset as usize)
            .collect();
        found.sort_unstable();
        found.dedup();
        found
    }
}

/// Selects the entries of some kinds within a plane distance of a point.
struct WithinDistance<'a> {
    q: [f64; 2],
    distance_2: f64,
    kinds: KindFilter<'a>,
}

impl SelectionFunction<IndexedAsset> for WithinDistance<'_> {
    fn should_unpack_parent(&self, envelope: &KindEnvelope) -> bool {
        self.kinds.meets(envelope.kinds) && envelope.distance_2_to(self.q) <= self.distance_2
    }

    fn should_unpack_leaf(&self, entry: &IndexedAsset) -> bool {
        self.kinds.admits(entry.kind) && entry.distance_2(&self.q) <= self.distance_2
    }
}

/// Selects the entries of some kinds whose envelopes meet a plane box.
struct InBox<'a> {
    aabb: AABB<[f64; 2]>,
    kinds: KindFilter<'a>,
}

impl SelectionFunction<IndexedAsset> for InBox<'_> {
    fn should_unpack_parent(&self, envelope: &KindEnvelope) -> bool {
        self.kinds.meets(envelope.kinds) && envelope.aabb.intersects(&self.aabb)
    }

    fn should_unpack_leaf(&self, entry: &IndexedAsset) -> bool {
        self.kinds.admits(entry.kind) && entry.envelope().aabb.intersects(&self.aabb)
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

/// Which asset, of which kind position, the entries being made belong to.
#[derive(Clone, Copy)]
struct Owner {
    asset: u32,
    kind: u32,
}

impl Owner {
    fn entry(self, shape: Shape) -> IndexedAsset {
        IndexedAsset {
            asset: self.asset,
            kind: self.kind,
            shape,
        }
    }
}

fn push_shapes(
    out: &mut Vec<IndexedAsset>,
    owner: Owner,
    geometry: &Geometry<f64>,
    projection: &LocalProjection,
) {
    let fwd = |c: &Coord<f64>| projection.forward(c.x, c.y);
    let line = |out: &mut Vec<IndexedAsset>, l: &geo::LineString<f64>| {
        if l.0.len() == 1 {
            out.push(owner.entry(Shape::Point(fwd(&l.0[0]))));
        }
        let vertices = geodesic_vertices(&l.0, projection);
        for w in vertices.windows(2) {
            out.push(owner.entry(Shape::Segment(w[0], w[1])));
        }
    };
    let polygon = |out: &mut Vec<IndexedAsset>, p: &geo::Polygon<f64>| {
        let rings: Vec<Vec<[f64; 2]>> = std::iter::once(p.exterior())
            .chain(p.interiors())
            .map(|r| geodesic_vertices(&r.0, projection))
            .collect();
        let envelope = AABB::from_points(rings[0].iter());
        out.push(owner.entry(Shape::Polygon {
            envelope,
            polygon: Box::new(PlanePolygon { rings }),
        }));
    };
    match geometry {
        Geometry::Point(p) => out.push(owner.entry(Shape::Point(fwd(&p.0)))),
        Geometry::MultiPoint(m) => {
            for p in &m.0 {
                push_shapes(out, owner, &Geometry::Point(*p), projection);
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
                push_shapes(out, owner, g, projection);
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

    /// A jittered grid city in lon/lat around Langfang, like synth-20km but 20×20: intersections,
    /// roads with two interior vertices, star-shaped markets and parking zones, plus a 3.6 km
    /// diagonal road (densified along the geodesic) and a market with a courtyard (a hole).
    fn grid_city(rng: &mut Seeded) -> Vec<Asset> {
        const N: usize = 20;
        const SPACING_M: f64 = 127.0;
        let plane = LocalProjection::around(116.70, 39.52);
        let mut jitter = |r: f64| (rng.next_f64() * 2.0 - 1.0) * r;
        let at = |x: f64, y: f64| {
            let (lon, lat) = plane.inverse([x, y]);
            Coord { x: lon, y: lat }
        };
        let nodes: Vec<(f64, f64)> = (0..N * N)
            .map(|n| {
                let (row, col) = ((n / N) as f64, (n % N) as f64);
                (
                    col * SPACING_M + jitter(20.0),
                    row * SPACING_M + jitter(20.0),
                )
            })
            .collect();
        let mut assets: Vec<Asset> = nodes
            .iter()
            .enumerate()
            .map(|(n, &(x, y))| {
                asset(
                    &format!("i{n}"),
                    "intersection",
                    Geometry::Point(Point(at(x, y))),
                )
            })
            .collect();
        for n in 0..N * N {
            for m in [n + 1, n + N] {
                if m >= N * N || (m == n + 1 && m % N == 0) {
                    continue;
                }
                let ((ax, ay), (bx, by)) = (nodes[n], nodes[m]);
                let mut line = vec![at(ax, ay)];
                for t in [1.0 / 3.0, 2.0 / 3.0] {
                    line.push(at(
                        ax + (bx - ax) * t + jitter(6.0),
                        ay + (by - ay) * t + jitter(6.0),
                    ));
                }
                line.push(at(bx, by));
                let id = format!("r{n}-{m}");
                assets.push(asset(&id, "road", Geometry::LineString(LineString(line))));
            }
        }
        let side = (N - 1) as f64 * SPACING_M;
        let diagonal = LineString(vec![at(0.0, 0.0), at(side, side)]);
        assets.push(asset("avenue", "road", Geometry::LineString(diagonal)));
        for i in 0..80 {
            let (kind, r_min, r_max) = if i % 4 == 0 {
                ("market", 25.0, 50.0)
            } else {
                ("parking_zone", 10.0, 25.0)
            };
            let block = |u: f64| ((u * (N - 1) as f64).floor() + 0.5) * SPACING_M;
            let (cx, cy) = (block(rng.next_f64()), block(rng.next_f64()));
            let n = 5 + (rng.next_f64() * 4.0) as usize;
            let mut ring: Vec<Coord<f64>> = (0..n)
                .map(|v| {
                    let angle = v as f64 / n as f64 * std::f64::consts::TAU;
                    let r = r_min + rng.next_f64() * (r_max - r_min);
                    at(cx + r * angle.cos(), cy + r * angle.sin())
                })
                .collect();
            ring.push(ring[0]);
            let star = geo::Polygon::new(LineString(ring), vec![]);
            assets.push(asset(&format!("{kind}{i}"), kind, Geometry::Polygon(star)));
        }
        let (cx, cy) = (5.5 * SPACING_M, 7.5 * SPACING_M);
        let square = |r: f64| {
            LineString(vec![
                at(cx - r, cy - r),
                at(cx + r, cy - r),
                at(cx + r, cy + r),
                at(cx - r, cy + r),
                at(cx - r, cy - r),
            ])
        };
        let courtyard = geo::Polygon::new(square(50.0), vec![square(20.0)]);
        assets.push(asset("courtyard", "market", Geometry::Polygon(courtyard)));
        assets
    }

    /// Every asset of `kinds` with its distance, from every one of its parts: nearest first.
    fn brute_force(
        index: &SpatialIndex,
        parts: &[IndexedAsset],
        lon: f64,
        lat: f64,
        kinds: &[usize],
    ) -> Vec<Hit> {
        let q = index.projection().forward(lon, lat);
        let found: Vec<nearest::Part> = parts
            .iter()
            .filter(|e| kinds.contains(&(e.kind as usize)))
            .map(|e| nearest::Part {
                d2: e.distance_2(&q),
                asset: e.asset,
                closest: e.closest_point(q),
            })
            .collect();
        index.hits(&found, q, lon, lat)
    }

    #[test]
    fn nearest_agrees_with_a_brute_force_scan_of_every_part() {
        let mut rng = Seeded(2024);
        let assets = grid_city(&mut rng);
        let kinds: Vec<String> = ["road", "intersection", "market", "parking_zone", "bus_stop"]
            .map(String::from)
            .to_vec();
        let index = SpatialIndex::build(&assets, &kinds);
        let mut parts = Vec::new();
        for (n, a) in assets.iter().enumerate() {
            let kind = kinds.iter().position(|k| *k == a.kind).unwrap() as u32;
            let owner = Owner {
                asset: n as u32,
                kind,
            };
            push_shapes(&mut parts, owner, &a.geometry, index.projection());
        }
        let kind_sets: [&[usize]; 5] = [&[0], &[2], &[0, 3, 2], &[0, 1, 2, 3, 4], &[4]];
        let plane = LocalProjection::around(116.70, 39.52);
        for _ in 0..2_000 {
            // The city and 300 m around it.
            let xy = [
                rng.next_f64() * 3_013.0 - 300.0,
                rng.next_f64() * 3_013.0 - 300.0,
            ];
            let (lon, lat) = plane.inverse(xy);
            for kinds in kind_sets {
                let all = brute_force(&index, &parts, lon, lat, kinds);
                for k in [1, 3] {
                    let got = index.nearest(lon, lat, kinds, k);
                    let expected = &all[..k.min(all.len())];
                    assert_eq!(
                        got.len(),
                        expected.len(),
                        "at ({lon}, {lat}) kinds {kinds:?}"
                    );
                    for (g, e) in got.iter().zip(expected) {
                        // Same asset, or one tied with it within 1 cm.
                        let g_true = all.iter().find(|h| h.asset == g.asset).unwrap().distance_m;
                        assert!(
                            (g.distance_m - e.distance_m).abs() <= 0.01
                                && (g_true - e.distance_m).abs() <= 0.01,
                            "at ({lon}, {lat}) kinds {kinds:?} k {k}: got {got:?}, brute force {expected:?}"
                        );
                    }
                }
            }
        }
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
