//! The road graph: the lines of the `road` and `back_alley` layers noded where they share a
//! vertex and where their segments cross or touch, cut into edges between nodes, with a plain
//! adjacency and a contraction hierarchy per travel mode, and an R-tree of edge segments for
//! snapping. WGS84 lon/lat in and out; lengths in metres on the ellipsoid ([`distance_m`]);
//! noding and snapping work in a [`LocalProjection`] (metres) centred on the network.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use geo::{Geometry, LineString};
use rstar::{AABB, PointDistance, RTree, RTreeObject};
use serde_json::Value;

use super::Mode;
use super::ch::{Ch, InputArc};
use super::dijkstra::Adjacency;
use crate::index::{LocalProjection, distance_m};
use crate::model::Asset;

/// The asset kinds whose lines make up the network.
pub const NETWORK_KINDS: [&str; 2] = ["road", "back_alley"];
/// Points of two lines closer than this are one node, metres.
const NODE_TOLERANCE_M: f64 = 0.01;
/// The largest weight of one edge (keeps sums of thousands of edges inside `u32`).
const MAX_EDGE_WEIGHT: f64 = (1u32 << 28) as f64;

/// How a road is classed for driving speeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RoadClass {
    Main,
    Secondary,
    Alley,
}

impl RoadClass {
    /// Back alleys by kind; roads by their `class` property (`main`, anything else secondary).
    fn of(asset: &Asset) -> Self {
        if asset.kind == "back_alley" {
            return Self::Alley;
        }
        match asset.properties.get("class").and_then(Value::as_str) {
            Some("main") => Self::Main,
            _ => Self::Secondary,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Main => "main",
            Self::Secondary => "secondary",
            Self::Alley => "alley",
        }
    }
}

/// Whether an asset is one-way in its digitised direction: `oneway` is `true`, `"yes"`,
/// `"true"` or `"1"`.
fn is_oneway(asset: &Asset) -> bool {
    match asset.properties.get("oneway") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => matches!(s.as_str(), "yes" | "true" | "1"),
        Some(Value::Number(n)) => n.as_i64() == Some(1),
        _ => false,
    }
}

/// A road or alley the graph was built from.
#[derive(Debug, Clone, PartialEq)]
pub struct Road {
    pub id: String,
    pub name: String,
    pub class: RoadClass,
    /// Travel only in the digitised direction (driving; walkers go both ways).
    pub oneway: bool,
}

/// A piece of a road between two nodes, digitised from `from` to `to`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Edge {
    pub from: u32,
    pub to: u32,
    pub length_m: f64,
    /// Position in [`RoadGraph::roads`].
    pub road: u32,
    first_coord: u32,
    end_coord: u32,
}

/// One mode's view: edge weights, plain adjacency and hierarchy.
pub(crate) struct ModeGraph {
    pub weights: Vec<u32>,
    pub plain: Adjacency,
    pub ch: Ch,
}

/// A segment of an edge in the projection, for snapping.
struct Segment {
    a: [f64; 2],
    b: [f64; 2],
    edge: u32,
    /// Index of `a` in the graph's coordinates.
    coord: u32,
}

impl RTreeObject for Segment {
    type Envelope = AABB<[f64; 2]>;

    fn envelope(&self) -> Self::Envelope {
        AABB::from_corners(self.a, self.b)
    }
}

impl PointDistance for Segment {
    fn distance_2(&self, p: &[f64; 2]) -> f64 {
        let t = segment_t(self.a, self.b, *p);
        let q = lerp(self.a, self.b, t);
        let (dx, dy) = (p[0] - q[0], p[1] - q[1]);
        dx * dx + dy * dy
    }
}

/// A point on the network: on `edge`, `along_m` from its `from` node.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Snap {
    pub edge: u32,
    pub along_m: f64,
    /// The point on the edge, lon/lat.
    pub point: [f64; 2],
    /// From the query point to `point`, metres.
    pub distance_m: f64,
}

/// The routable network, immutable once built; rebuilt and swapped as a whole when roads or
/// alleys change.
pub struct RoadGraph {
    projection: LocalProjection,
    nodes: Vec<[f64; 2]>,
    edges: Vec<Edge>,
    coords: Vec<[f64; 2]>,
    /// Metres from the edge's start at each of `coords`.
    along_m: Vec<f64>,
    roads: Vec<Road>,
    segments: RTree<Segment>,
    modes: [ModeGraph; 2],
    fingerprint: u64,
}

impl std::fmt::Debug for RoadGraph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoadGraph")
            .field("nodes", &self.nodes.len())
            .field("edges", &self.edges.len())
            .field("roads", &self.roads.len())
            .finish()
    }
}

/// What identifies the network inside a set of assets: the routable assets' ids, names,
/// classes, one-way flags and coordinates.
fn network_fingerprint(assets: &[Asset]) -> u64 {
    let mut hasher = DefaultHasher::new();
    for asset in network_assets(assets) {
        asset.id.hash(&mut hasher);
        asset.kind.hash(&mut hasher);
        asset.name.hash(&mut hasher);
        RoadClass::of(asset).hash(&mut hasher);
        is_oneway(asset).hash(&mut hasher);
        for line in lines_of(&asset.geometry) {
            line.0.len().hash(&mut hasher);
            for c in &line.0 {
                c.x.to_bits().hash(&mut hasher);
                c.y.to_bits().hash(&mut hasher);
            }
        }
    }
    hasher.finish()
}

fn network_assets(assets: &[Asset]) -> impl Iterator<Item = &Asset> {
    assets
        .iter()
        .filter(|a| NETWORK_KINDS.contains(&a.kind.as_str()))
}

fn lines_of(geometry: &Geometry<f64>) -> Vec<&LineString<f64>> {
    match geometry {
        Geometry::LineString(l) => vec![l],
        Geometry::MultiLineString(m) => m.0.iter().collect(),
        _ => Vec::new(),
    }
}

fn sub(a: [f64; 2], b: [f64; 2]) -> [f64; 2] {
    [a[0] - b[0], a[1] - b[1]]
}

fn dot(a: [f64; 2], b: [f64; 2]) -> f64 {
    a[0] * b[0] + a[1] * b[1]
}

fn cross(a: [f64; 2], b: [f64; 2]) -> f64 {
    a[0] * b[1] - a[1] * b[0]
}

fn lerp(a: [f64; 2], b: [f64; 2], t: f64) -> [f64; 2] {
    [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t]
}

/// The parameter of the point of segment `ab` closest to `p`, in [0, 1].
fn segment_t(a: [f64; 2], b: [f64; 2], p: [f64; 2]) -> f64 {
    let d = sub(b, a);
    let dd = dot(d, d);
    if dd == 0.0 {
        0.0
    } else {
        (dot(sub(p, a), d) / dd).clamp(0.0, 1.0)
    }
}

/// Where segments `a0a1` and `b0b1` (plane, metres) cross or touch within `tol_m`: the
/// parameters on each, clamped to [0, 1].
fn meet(a0: [f64; 2], a1: [f64; 2], b0: [f64; 2], b1: [f64; 2], tol_m: f64) -> Option<(f64, f64)> {
    let (r, s) = (sub(a1, a0), sub(b1, b0));
    let (lr, ls) = (dot(r, r).sqrt(), dot(s, s).sqrt());
    if lr == 0.0 || ls == 0.0 {
        return None;
    }
    let denom = cross(r, s);
    if denom.abs() > 1e-12 * lr * ls {
        let qp = sub(b0, a0);
        let t = cross(qp, s) / denom;
        let u = cross(qp, r) / denom;
        let (et, eu) = (tol_m / lr, tol_m / ls);
        if (-et..=1.0 + et).contains(&t) && (-eu..=1.0 + eu).contains(&u) {
            return Some((t.clamp(0.0, 1.0), u.clamp(0.0, 1.0)));
        }
        return None;
    }
    // Parallel: they meet only if ends touch.
    for (t, p) in [(0.0, a0), (1.0, a1)] {
        for (u, q) in [(0.0, b0), (1.0, b1)] {
            let d = sub(p, q);
            if dot(d, d).sqrt() <= tol_m {
                return Some((t, u));
            }
        }
    }
    None
}

/// Points of the noding, merged by union-find; a set's root prefers an input vertex.
#[derive(Default)]
struct Points {
    parent: Vec<u32>,
    lonlat: Vec<[f64; 2]>,
    original: Vec<bool>,
}

impl Points {
    fn add(&mut self, lonlat: [f64; 2], original: bool) -> u32 {
        let id = self.parent.len() as u32;
        self.parent.push(id);
        self.lonlat.push(lonlat);
        self.original.push(original);
        id
    }

    fn find(&mut self, mut p: u32) -> u32 {
        while self.parent[p as usize] != p {
            let grand = self.parent[self.parent[p as usize] as usize];
            self.parent[p as usize] = grand;
            p = grand;
        }
        p
    }

    fn union(&mut self, a: u32, b: u32) {
        let (mut ra, mut rb) = (self.find(a), self.find(b));
        if ra == rb {
            return;
        }
        if self.original[rb as usize] && !self.original[ra as usize] {
            std::mem::swap(&mut ra, &mut rb);
        }
        self.parent[rb as usize] = ra;
    }
}

/// A segment's box for finding crossings, grown by the node tolerance.
struct SegmentBox {
    line: u32,
    seg: u32,
    envelope: AABB<[f64; 2]>,
}

impl RTreeObject for SegmentBox {
    type Envelope = AABB<[f64; 2]>;

    fn envelope(&self) -> Self::Envelope {
        self.envelope
    }
}

/// A line to node: its road and its lon/lat vertices (no consecutive repeats).
struct Line {
    road: u32,
    lonlat: Vec<[f64; 2]>,
}

/// A piece of a line between two nodes.
struct Piece {
    road: u32,
    from: u32,
    to: u32,
    coords: Vec<[f64; 2]>,
}

/// Nodes the lines and cuts them into pieces between nodes.
fn node_lines(projection: &LocalProjection, lines: &[Line]) -> (Vec<[f64; 2]>, Vec<Piece>) {
    let mut points = Points::default();
    let mut by_key: HashMap<(u64, u64), u32> = HashMap::new();
    let key = |c: [f64; 2]| ((c[0] + 0.0).to_bits(), (c[1] + 0.0).to_bits());
    let vertex_points: Vec<Vec<u32>> = lines
        .iter()
        .map(|line| {
            line.lonlat
                .iter()
                .map(|&c| *by_key.entry(key(c)).or_insert_with(|| points.add(c, true)))
                .collect()
        })
        .collect();
    let xy: Vec<Vec<[f64; 2]>> = lines
        .iter()
        .map(|line| {
            line.lonlat
                .iter()
                .map(|c| projection.forward(c[0], c[1]))
                .collect()
        })
        .collect();

    let boxes: Vec<SegmentBox> = xy
        .iter()
        .enumerate()
        .flat_map(|(l, pts)| {
            pts.windows(2).enumerate().map(move |(s, w)| {
                let lo = [w[0][0].min(w[1][0]), w[0][1].min(w[1][1])];
                let hi = [w[0][0].max(w[1][0]), w[0][1].max(w[1][1])];
                SegmentBox {
                    line: l as u32,
                    seg: s as u32,
                    envelope: AABB::from_corners(
                        [lo[0] - NODE_TOLERANCE_M, lo[1] - NODE_TOLERANCE_M],
                        [hi[0] + NODE_TOLERANCE_M, hi[1] + NODE_TOLERANCE_M],
                    ),
                }
            })
        })
        .collect();
    let tree = RTree::bulk_load(boxes);
    // Stations inside segments: (line, segment) → [(t, point)].
    let mut inside: HashMap<(u32, u32), Vec<(f64, u32)>> = HashMap::new();
    for (a, b) in tree.intersection_candidates_with_other_tree(&tree) {
        if (a.line, a.seg) >= (b.line, b.seg) || (a.line == b.line && b.seg == a.seg + 1) {
            continue;
        }
        let (la, lb) = (a.line as usize, b.line as usize);
        let (sa, sb) = (a.seg as usize, b.seg as usize);
        let (a0, a1, b0, b1) = (xy[la][sa], xy[la][sa + 1], xy[lb][sb], xy[lb][sb + 1]);
        let Some((t, u)) = meet(a0, a1, b0, b1, NODE_TOLERANCE_M) else {
            continue;
        };
        let at = lerp(a0, a1, t);
        let mut station = |line: usize, seg: usize, t: f64, len: f64| {
            if t * len <= NODE_TOLERANCE_M {
                vertex_points[line][seg]
            } else if (1.0 - t) * len <= NODE_TOLERANCE_M {
                vertex_points[line][seg + 1]
            } else {
                let (lon, lat) = projection.inverse(at);
                let p = points.add([lon, lat], false);
                inside
                    .entry((line as u32, seg as u32))
                    .or_default()
                    .push((t, p));
                p
            }
        };
        let pa = station(la, sa, t, dot(sub(a1, a0), sub(a1, a0)).sqrt());
        let pb = station(lb, sb, u, dot(sub(b1, b0), sub(b1, b0)).sqrt());
        points.union(pa, pb);
    }
    // Crossings a hair apart on one segment are one node (three lines through one point).
    for ((line, seg), stations) in &mut inside {
        stations.sort_by(|x, y| x.0.total_cmp(&y.0));
        let (l, s) = (*line as usize, *seg as usize);
        let d = sub(xy[l][s + 1], xy[l][s]);
        let len = dot(d, d).sqrt();
        for w in stations.windows(2) {
            if (w[1].0 - w[0].0) * len <= NODE_TOLERANCE_M {
                points.union(w[0].1, w[1].1);
            }
        }
    }

    // Each line as a sequence of (root point, own lon/lat), repeats collapsed.
    let mut sequences: Vec<Vec<(u32, [f64; 2])>> = Vec::with_capacity(lines.len());
    for (l, line) in lines.iter().enumerate() {
        let mut seq: Vec<(u32, [f64; 2])> = Vec::with_capacity(line.lonlat.len());
        for (i, &c) in line.lonlat.iter().enumerate() {
            let root = points.find(vertex_points[l][i]);
            if seq.last().map(|s| s.0) != Some(root) {
                seq.push((root, c));
            }
            if let Some(stations) = inside.get(&(l as u32, i as u32)) {
                for &(_, p) in stations {
                    let root = points.find(p);
                    if seq.last().map(|s| s.0) != Some(root) {
                        seq.push((root, points.lonlat[root as usize]));
                    }
                }
            }
        }
        sequences.push(seq);
    }
    let mut uses: HashMap<u32, u32> = HashMap::new();
    let mut is_node: HashMap<u32, bool> = HashMap::new();
    for seq in &sequences {
        for (i, &(root, _)) in seq.iter().enumerate() {
            *uses.entry(root).or_default() += 1;
            if i == 0 || i + 1 == seq.len() {
                is_node.insert(root, true);
            }
        }
    }
    for (root, n) in &uses {
        if *n >= 2 {
            is_node.insert(*root, true);
        }
    }
    let mut node_of: HashMap<u32, u32> = HashMap::new();
    let mut nodes: Vec<[f64; 2]> = Vec::new();
    let mut pieces = Vec::new();
    for (seq, line) in sequences.iter().zip(lines) {
        if seq.len() < 2 {
            continue;
        }
        let mut node = |root: u32, points: &Points| {
            *node_of.entry(root).or_insert_with(|| {
                nodes.push(points.lonlat[root as usize]);
                (nodes.len() - 1) as u32
            })
        };
        let (first_root, _) = seq[0];
        let mut from = node(first_root, &points);
        let mut coords = vec![points.lonlat[first_root as usize]];
        for &(root, own) in &seq[1..] {
            if is_node.get(&root).copied().unwrap_or(false) {
                let at = points.lonlat[root as usize];
                if coords.last() != Some(&at) {
                    coords.push(at);
                }
                let to = node(root, &points);
                let piece = std::mem::replace(&mut coords, vec![at]);
                if piece.len() >= 2 {
                    pieces.push(Piece {
                        road: line.road,
                        from,
                        to,
                        coords: piece,
                    });
                }
                from = to;
            } else if coords.last() != Some(&own) {
                coords.push(own);
            }
        }
    }
    (nodes, pieces)
}

impl RoadGraph {
    /// Builds the network from the `road` and `back_alley` assets among `assets` (others are
    /// ignored), with both modes' hierarchies.
    ///
    /// # Examples
    /// ```
    /// use civmap::model::Asset;
    /// use civmap::routing::RoadGraph;
    /// use geo::{Geometry, LineString};
    ///
    /// let road = |id: &str, coords: Vec<(f64, f64)>| Asset {
    ///     id: id.into(),
    ///     kind: "road".into(),
    ///     name: id.into(),
    ///     district: None,
    ///     unit: None,
    ///     properties: Default::default(),
    ///     geometry: Geometry::LineString(LineString::from(coords)),
    /// };
    /// // Two roads crossing mid-segment: noded at the crossing, so 5 nodes and 4 edges.
    /// let graph = RoadGraph::build(&[
    ///     road("ew", vec![(116.70, 39.52), (116.72, 39.52)]),
    ///     road("ns", vec![(116.71, 39.51), (116.71, 39.53)]),
    /// ]);
    /// assert_eq!((graph.node_count(), graph.edge_count()), (5, 4));
    /// ```
    pub fn build(assets: &[Asset]) -> Self {
        let fingerprint = network_fingerprint(assets);
        let mut roads = Vec::new();
        let mut lines = Vec::new();
        for asset in network_assets(assets) {
            let road = roads.len() as u32;
            let before = lines.len();
            for part in lines_of(&asset.geometry) {
                let mut lonlat: Vec<[f64; 2]> = Vec::with_capacity(part.0.len());
                for c in &part.0 {
                    let p = [c.x, c.y];
                    if super::valid_lon_lat(p) && lonlat.last() != Some(&p) {
                        lonlat.push(p);
                    }
                }
                if lonlat.len() >= 2 {
                    lines.push(Line { road, lonlat });
                }
            }
            if lines.len() > before {
                roads.push(Road {
                    id: asset.id.clone(),
                    name: asset.name.clone(),
                    class: RoadClass::of(asset),
                    oneway: is_oneway(asset),
                });
            }
        }
        let projection = centre_of(&lines);
        let (nodes, pieces) = node_lines(&projection, &lines);

        let mut edges = Vec::with_capacity(pieces.len());
        let mut coords = Vec::new();
        let mut along_m = Vec::new();
        for piece in pieces {
            let first_coord = coords.len() as u32;
            let mut total_m = 0.0;
            for (i, &c) in piece.coords.iter().enumerate() {
                if i > 0 {
                    let p = piece.coords[i - 1];
                    total_m += distance_m((p[0], p[1]), (c[0], c[1]));
                }
                coords.push(c);
                along_m.push(total_m);
            }
            if total_m <= 0.0 {
                coords.truncate(first_coord as usize);
                along_m.truncate(first_coord as usize);
                continue;
            }
            edges.push(Edge {
                from: piece.from,
                to: piece.to,
                length_m: total_m,
                road: piece.road,
                first_coord,
                end_coord: coords.len() as u32,
            });
        }
        let segments = RTree::bulk_load(
            edges
                .iter()
                .enumerate()
                .flat_map(|(e, edge)| {
                    let (coords, projection) = (&coords, &projection);
                    (edge.first_coord..edge.end_coord - 1).map(move |i| {
                        let (a, b) = (coords[i as usize], coords[i as usize + 1]);
                        Segment {
                            a: projection.forward(a[0], a[1]),
                            b: projection.forward(b[0], b[1]),
                            edge: e as u32,
                            coord: i,
                        }
                    })
                })
                .collect(),
        );
        // The two modes' hierarchies are independent: build them side by side.
        let mode_graph = |mode: Mode| {
            let weights: Vec<u32> = edges
                .iter()
                .map(|e| weight(mode, roads[e.road as usize].class, e.length_m))
                .collect();
            let arcs = arcs(mode, &edges, &roads, &weights);
            ModeGraph {
                plain: Adjacency::build(nodes.len(), &arcs),
                ch: Ch::build(nodes.len(), &arcs),
                weights,
            }
        };
        let (walk, drive) = std::thread::scope(|scope| {
            let drive = scope.spawn(|| mode_graph(Mode::Drive));
            let walk = mode_graph(Mode::Walk);
            (walk, drive.join())
        });
        let drive = match drive {
            Ok(drive) => drive,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        let modes = [walk, drive];
        Self {
            projection,
            nodes,
            edges,
            coords,
            along_m,
            roads,
            segments,
            modes,
            fingerprint,
        }
    }

    /// `previous` again when the routable assets among `assets` are the ones it was built
    /// from, else a freshly built graph.
    ///
    /// # Examples
    /// ```
    /// # use civmap::model::Asset;
    /// # use civmap::routing::{Mode, RoadGraph};
    /// # use geo::{Geometry, LineString};
    /// # let road = |id: &str, oneway: bool, coords: Vec<(f64, f64)>| Asset {
    /// #     id: id.into(),
    /// #     kind: "road".into(),
    /// #     name: format!("{id}路"),
    /// #     district: None,
    /// #     unit: None,
    /// #     properties: serde_json::json!({"oneway": oneway}).as_object().cloned().unwrap(),
    /// #     geometry: Geometry::LineString(LineString::from(coords)),
    /// # };
    /// # // A cross: 东西路 (one-way, west → east) and 南北路 meet at (116.71, 39.52).
    /// # let assets = vec![
    /// #     road("东西", true, vec![(116.70, 39.52), (116.72, 39.52)]),
    /// #     road("南北", false, vec![(116.71, 39.51), (116.71, 39.53)]),
    /// # ];
    /// # let graph = RoadGraph::build(&assets);
    /// use std::sync::Arc;
    /// let graph = Arc::new(graph);
    /// // The same roads and alleys (whatever else changed): the same graph, not rebuilt.
    /// assert!(Arc::ptr_eq(&graph, &RoadGraph::rebuild_if_changed(&graph, &assets)));
    /// assert!(!Arc::ptr_eq(&graph, &RoadGraph::rebuild_if_changed(&graph, &assets[..1])));
    /// ```
    pub fn rebuild_if_changed(
        previous: &std::sync::Arc<RoadGraph>,
        assets: &[Asset],
    ) -> std::sync::Arc<RoadGraph> {
        if previous.fingerprint == network_fingerprint(assets) {
            std::sync::Arc::clone(previous)
        } else {
            std::sync::Arc::new(RoadGraph::build(assets))
        }
    }

    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    pub fn edge_count(&self) -> usize {
        self.edges.len()
    }

    /// Node positions, lon/lat, by node id.
    pub fn nodes(&self) -> &[[f64; 2]] {
        &self.nodes
    }

    /// Edges by edge id.
    pub fn edges(&self) -> &[Edge] {
        &self.edges
    }

    /// The roads and alleys edges belong to ([`Edge::road`]).
    pub fn roads(&self) -> &[Road] {
        &self.roads
    }

    /// Shortcuts the hierarchy of `mode` added.
    pub fn shortcut_count(&self, mode: Mode) -> usize {
        self.mode(mode).ch.shortcut_count()
    }

    /// The weight of `edge` in `mode` forward (from → to) and backward (`None` when it may only
    /// be travelled forward), in the mode's units (millimetres or milliseconds).
    ///
    /// # Examples
    /// ```
    /// # use civmap::model::Asset;
    /// # use civmap::routing::{Mode, RoadGraph};
    /// # use geo::{Geometry, LineString};
    /// # let road = |id: &str, oneway: bool, coords: Vec<(f64, f64)>| Asset {
    /// #     id: id.into(),
    /// #     kind: "road".into(),
    /// #     name: format!("{id}路"),
    /// #     district: None,
    /// #     unit: None,
    /// #     properties: serde_json::json!({"oneway": oneway}).as_object().cloned().unwrap(),
    /// #     geometry: Geometry::LineString(LineString::from(coords)),
    /// # };
    /// # // A cross: 东西路 (one-way, west → east) and 南北路 meet at (116.71, 39.52).
    /// # let assets = vec![
    /// #     road("东西", true, vec![(116.70, 39.52), (116.72, 39.52)]),
    /// #     road("南北", false, vec![(116.71, 39.51), (116.71, 39.53)]),
    /// # ];
    /// # let graph = RoadGraph::build(&assets);
    /// // Walking: millimetres, both ways. Driving the one-way 东西路: forward only.
    /// let (forward, backward) = graph.edge_weight(Mode::Walk, 0).unwrap();
    /// assert_eq!(Some(forward), backward);
    /// assert!((f64::from(forward) / 1000.0 - graph.edges()[0].length_m).abs() < 0.001);
    /// assert_eq!(graph.edge_weight(Mode::Drive, 0).unwrap().1, None);
    /// ```
    pub fn edge_weight(&self, mode: Mode, edge: usize) -> Option<(u32, Option<u32>)> {
        let e = self.edges.get(edge)?;
        let w = self.mode(mode).weights[edge];
        Some((w, self.two_way(mode, e).then_some(w)))
    }

    pub(crate) fn mode(&self, mode: Mode) -> &ModeGraph {
        &self.modes[mode.index()]
    }

    pub(crate) fn two_way(&self, mode: Mode, edge: &Edge) -> bool {
        mode == Mode::Walk || !self.roads[edge.road as usize].oneway
    }

    pub(crate) fn road_of(&self, edge: u32) -> &Road {
        &self.roads[self.edges[edge as usize].road as usize]
    }

    /// The point of the network nearest to (`lon`, `lat`), or `None` for an empty network.
    ///
    /// # Examples
    /// ```
    /// use civmap::model::Asset;
    /// use civmap::routing::RoadGraph;
    /// use geo::{Geometry, LineString};
    ///
    /// let graph = RoadGraph::build(&[Asset {
    ///     id: "r1".into(),
    ///     kind: "road".into(),
    ///     name: "光明道".into(),
    ///     district: None,
    ///     unit: None,
    ///     properties: Default::default(),
    ///     geometry: Geometry::LineString(LineString::from(vec![(116.70, 39.52), (116.72, 39.52)])),
    /// }]);
    /// let snap = graph.snap(116.71, 39.5205).unwrap();
    /// assert!((snap.distance_m - 55.5).abs() < 0.5);
    /// assert!((snap.point[0] - 116.71).abs() < 1e-9);
    /// ```
    pub fn snap(&self, lon: f64, lat: f64) -> Option<Snap> {
        let p = self.projection.forward(lon, lat);
        let seg = self.segments.nearest_neighbor(&p)?;
        let t = segment_t(seg.a, seg.b, p);
        let i = seg.coord as usize;
        let (a, b) = (self.coords[i], self.coords[i + 1]);
        let point = lerp(a, b, t);
        let along_m = (self.along_m[i] + distance_m((a[0], a[1]), (point[0], point[1])))
            .min(self.along_m[i + 1]);
        Some(Snap {
            edge: seg.edge,
            along_m,
            point,
            distance_m: distance_m((lon, lat), (point[0], point[1])),
        })
    }

    /// The node at (`lon`, `lat`) exactly (within a millimetre), if there is one.
    ///
    /// # Examples
    /// ```
    /// # use civmap::model::Asset;
    /// # use civmap::routing::{Mode, RoadGraph};
    /// # use geo::{Geometry, LineString};
    /// # let road = |id: &str, oneway: bool, coords: Vec<(f64, f64)>| Asset {
    /// #     id: id.into(),
    /// #     kind: "road".into(),
    /// #     name: format!("{id}路"),
    /// #     district: None,
    /// #     unit: None,
    /// #     properties: serde_json::json!({"oneway": oneway}).as_object().cloned().unwrap(),
    /// #     geometry: Geometry::LineString(LineString::from(coords)),
    /// # };
    /// # // A cross: 东西路 (one-way, west → east) and 南北路 meet at (116.71, 39.52).
    /// # let assets = vec![
    /// #     road("东西", true, vec![(116.70, 39.52), (116.72, 39.52)]),
    /// #     road("南北", false, vec![(116.71, 39.51), (116.71, 39.53)]),
    /// # ];
    /// # let graph = RoadGraph::build(&assets);
    /// assert!(graph.node_at(116.71, 39.52).is_some()); // the crossing
    /// assert!(graph.node_at(116.705, 39.52).is_none()); // mid-block
    /// ```
    pub fn node_at(&self, lon: f64, lat: f64) -> Option<u32> {
        let snap = self.snap(lon, lat)?;
        let edge = &self.edges[snap.edge as usize];
        if snap.distance_m > 0.001 {
            None
        } else if snap.along_m <= 0.001 {
            Some(edge.from)
        } else if edge.length_m - snap.along_m <= 0.001 {
            Some(edge.to)
        } else {
            None
        }
    }

    fn edge_coords(&self, edge: u32) -> (&[[f64; 2]], &[f64]) {
        let e = &self.edges[edge as usize];
        let range = e.first_coord as usize..e.end_coord as usize;
        (&self.coords[range.clone()], &self.along_m[range])
    }

    /// The point `at_m` along `edge` from its start.
    fn point_along(&self, edge: u32, at_m: f64) -> [f64; 2] {
        let (coords, along) = self.edge_coords(edge);
        let last = coords.len() - 1;
        if at_m <= 0.0 {
            return coords[0];
        }
        if at_m >= along[last] {
            return coords[last];
        }
        let i = along
            .partition_point(|&s| s <= at_m)
            .saturating_sub(1)
            .min(last - 1);
        let span = along[i + 1] - along[i];
        let t = if span > 0.0 {
            (at_m - along[i]) / span
        } else {
            0.0
        };
        lerp(coords[i], coords[i + 1], t)
    }

    /// Appends the course of `edge` from `from_m` to `to_m` along it (either way) to `out`,
    /// skipping a repeat of `out`'s last position.
    pub(crate) fn push_course(&self, edge: u32, from_m: f64, to_m: f64, out: &mut Vec<[f64; 2]>) {
        let push = |c: [f64; 2], out: &mut Vec<[f64; 2]>| {
            if out.last() != Some(&c) {
                out.push(c);
            }
        };
        let (coords, along) = self.edge_coords(edge);
        let length_m = along[along.len() - 1];
        // Whole edges (most of a route) need no interpolation.
        if from_m <= 0.0 && to_m >= length_m {
            for &c in coords {
                push(c, out);
            }
            return;
        }
        if from_m >= length_m && to_m <= 0.0 {
            for &c in coords.iter().rev() {
                push(c, out);
            }
            return;
        }
        push(self.point_along(edge, from_m), out);
        if from_m <= to_m {
            for (c, &s) in coords.iter().zip(along) {
                if s > from_m && s < to_m {
                    push(*c, out);
                }
            }
        } else {
            for (c, &s) in coords.iter().zip(along).rev() {
                if s < from_m && s > to_m {
                    push(*c, out);
                }
            }
        }
        push(self.point_along(edge, to_m), out);
    }
}

fn centre_of(lines: &[Line]) -> LocalProjection {
    let mut lo = [f64::INFINITY; 2];
    let mut hi = [f64::NEG_INFINITY; 2];
    for c in lines.iter().flat_map(|l| &l.lonlat) {
        lo = [lo[0].min(c[0]), lo[1].min(c[1])];
        hi = [hi[0].max(c[0]), hi[1].max(c[1])];
    }
    if lo[0].is_finite() {
        LocalProjection::around((lo[0] + hi[0]) / 2.0, (lo[1] + hi[1]) / 2.0)
    } else {
        LocalProjection::around(0.0, 0.0)
    }
}

/// An edge's weight in `mode`: millimetres walking, milliseconds driving.
fn weight(mode: Mode, class: RoadClass, length_m: f64) -> u32 {
    let units = match mode {
        Mode::Walk => length_m * 1000.0,
        Mode::Drive => length_m / (mode.speed_kmh(class) / 3.6) * 1000.0,
    };
    units.round().clamp(0.0, MAX_EDGE_WEIGHT) as u32
}

fn arcs(mode: Mode, edges: &[Edge], roads: &[Road], weights: &[u32]) -> Vec<InputArc> {
    let mut arcs = Vec::with_capacity(edges.len() * 2);
    for (e, (edge, &weight)) in edges.iter().zip(weights).enumerate() {
        if edge.from == edge.to {
            continue;
        }
        arcs.push(InputArc {
            tail: edge.from,
            head: edge.to,
            weight,
            edge_dir: (e as u32) << 1,
        });
        if mode == Mode::Walk || !roads[edge.road as usize].oneway {
            arcs.push(InputArc {
                tail: edge.to,
                head: edge.from,
                weight,
                edge_dir: (e as u32) << 1 | 1,
            });
        }
    }
    arcs
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn line(id: &str, kind: &str, coords: &[(f64, f64)], props: Value) -> Asset {
        Asset {
            id: id.into(),
            kind: kind.into(),
            name: format!("{id}路"),
            district: None,
            unit: None,
            properties: props.as_object().cloned().unwrap_or_default(),
            geometry: Geometry::LineString(LineString::from(coords.to_vec())),
        }
    }

    fn road(id: &str, coords: &[(f64, f64)]) -> Asset {
        line(id, "road", coords, json!({}))
    }

    #[test]
    fn lines_are_noded_at_shared_vertices_crossings_and_touching_ends() {
        let cases: &[(&str, Vec<Asset>, usize, usize)] = &[
            (
                "a shared vertex splits both roads",
                vec![
                    road("a", &[(116.70, 39.52), (116.71, 39.52), (116.72, 39.52)]),
                    road("b", &[(116.71, 39.51), (116.71, 39.52), (116.71, 39.53)]),
                ],
                5,
                4,
            ),
            (
                "a crossing between vertices splits both roads",
                vec![
                    road("a", &[(116.70, 39.52), (116.72, 39.52)]),
                    road("b", &[(116.71, 39.51), (116.71, 39.53)]),
                ],
                5,
                4,
            ),
            (
                "an alley ending on a road segment splits the road",
                vec![
                    road("a", &[(116.70, 39.52), (116.72, 39.52)]),
                    line(
                        "b",
                        "back_alley",
                        &[(116.71, 39.52), (116.71, 39.53)],
                        json!({}),
                    ),
                ],
                4,
                3,
            ),
            (
                "roads that do not meet stay apart",
                vec![
                    road("a", &[(116.70, 39.52), (116.72, 39.52)]),
                    road("b", &[(116.71, 39.521), (116.71, 39.53)]),
                ],
                4,
                2,
            ),
            (
                "a road through the same point twice is noded there",
                vec![road(
                    "loop",
                    &[
                        (116.70, 39.52),
                        (116.72, 39.52),
                        (116.71, 39.53),
                        (116.71, 39.51),
                    ],
                )],
                3,
                3,
            ),
        ];
        for (name, assets, nodes, edges) in cases {
            let graph = RoadGraph::build(assets);
            assert_eq!(
                (graph.node_count(), graph.edge_count()),
                (*nodes, *edges),
                "{name}"
            );
        }
    }

    #[test]
    fn edge_lengths_add_up_to_the_road_length() {
        let graph = RoadGraph::build(&[
            road("a", &[(116.70, 39.52), (116.72, 39.52)]),
            road("b", &[(116.71, 39.51), (116.71, 39.53)]),
        ]);
        let total: f64 = graph
            .edges()
            .iter()
            .filter(|e| graph.roads()[e.road as usize].id == "a")
            .map(|e| e.length_m)
            .sum();
        let whole = distance_m((116.70, 39.52), (116.72, 39.52));
        assert!((total - whole).abs() < 1e-6, "{total} vs {whole}");
    }

    #[test]
    fn other_kinds_are_not_part_of_the_network() {
        let graph = RoadGraph::build(&[line(
            "m",
            "market_edge",
            &[(116.70, 39.52), (116.72, 39.52)],
            json!({}),
        )]);
        assert_eq!(graph.edge_count(), 0);
        assert!(graph.snap(116.7, 39.5).is_none());
    }

    #[test]
    fn classes_and_one_way_flags_come_from_the_properties() {
        let graph = RoadGraph::build(&[
            line(
                "a",
                "road",
                &[(116.70, 39.52), (116.72, 39.52)],
                json!({"class": "main"}),
            ),
            line(
                "b",
                "road",
                &[(116.70, 39.53), (116.72, 39.53)],
                json!({"oneway": true}),
            ),
            line(
                "c",
                "back_alley",
                &[(116.70, 39.54), (116.72, 39.54)],
                json!({"oneway": "yes"}),
            ),
        ]);
        let got: Vec<(RoadClass, bool)> =
            graph.roads().iter().map(|r| (r.class, r.oneway)).collect();
        assert_eq!(
            got,
            [
                (RoadClass::Main, false),
                (RoadClass::Secondary, true),
                (RoadClass::Alley, true)
            ]
        );
        let (forward, backward) = graph.edge_weight(Mode::Drive, 1).unwrap();
        assert!(forward > 0 && backward.is_none());
        assert!(graph.edge_weight(Mode::Walk, 1).unwrap().1.is_some());
    }

    #[test]
    fn the_course_between_two_points_follows_the_vertices_either_way() {
        let graph = RoadGraph::build(&[road(
            "a",
            &[(116.70, 39.52), (116.71, 39.52), (116.72, 39.53)],
        )]);
        let len = graph.edges()[0].length_m;
        let mut out = Vec::new();
        graph.push_course(0, 10.0, len - 10.0, &mut out);
        assert_eq!(out.len(), 3);
        assert_eq!(out[1], [116.71, 39.52]);
        let mut back = Vec::new();
        graph.push_course(0, len - 10.0, 10.0, &mut back);
        back.reverse();
        assert_eq!(out, back);
    }

    #[test]
    fn an_unchanged_network_is_not_rebuilt() {
        let assets = vec![road("a", &[(116.70, 39.52), (116.72, 39.52)])];
        let graph = std::sync::Arc::new(RoadGraph::build(&assets));
        let same = RoadGraph::rebuild_if_changed(&graph, &assets);
        assert!(std::sync::Arc::ptr_eq(&graph, &same));
        let moved = vec![road("a", &[(116.70, 39.52), (116.72, 39.521)])];
        let fresh = RoadGraph::rebuild_if_changed(&graph, &moved);
        assert!(!std::sync::Arc::ptr_eq(&graph, &fresh));
    }
}
