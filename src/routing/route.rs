//! Point-to-point routes: points snapped onto edges (split at the projection), the cheapest
//! path between the partial edges by the contraction hierarchy (or plain Dijkstra, the
//! reference), and the course, lengths (metres), durations (seconds) and road names of it.

use super::ch::Path;
use super::graph::RoadGraph;
use super::{Mode, RoutingError};

/// Points farther than this from every road are refused, metres.
pub const MAX_SNAP_M: f64 = 500.0;
/// Stretches shorter than this do not put their road in the list of names, metres.
const NAMED_FROM_M: f64 = 0.5;

/// Which search finds the cheapest path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Engine {
    /// The contraction hierarchy (the service's engine).
    #[default]
    Hierarchy,
    /// Plain Dijkstra on the unprocessed graph (the reference).
    Dijkstra,
}

/// A requested point and where it joined the network.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapped {
    /// What the point is called in messages (`from`, `via 1`, an asset id...).
    pub label: String,
    /// As requested, lon/lat.
    pub input: [f64; 2],
    /// On the network, lon/lat.
    pub point: [f64; 2],
    /// From `input` to `point`, metres.
    pub distance_m: f64,
    pub edge: u32,
    /// From the edge's start to `point`, metres.
    pub along_m: f64,
    pub road_id: String,
    pub road_name: String,
}

/// The way from one point to the next.
#[derive(Debug, Clone, PartialEq)]
pub struct Leg {
    /// In the mode's units: millimetres walking, milliseconds driving.
    pub cost: u32,
    pub length_m: f64,
    pub duration_s: f64,
    /// lon/lat, from the first point's snapped position to the second's.
    pub coordinates: Vec<[f64; 2]>,
    /// Road and alley names in travel order, consecutive repeats merged.
    pub roads: Vec<String>,
}

/// A route through two or more points.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    pub mode: Mode,
    /// Sum of the legs' costs (mode units).
    pub cost: u64,
    pub length_m: f64,
    pub duration_s: f64,
    pub coordinates: Vec<[f64; 2]>,
    pub roads: Vec<String>,
    pub stops: Vec<Snapped>,
    pub legs: Vec<Leg>,
}

/// (node, cost) pairs a search starts from or ends at, in mode units.
pub(crate) type NodeCosts = Vec<(u32, u32)>;

/// Where a search starts or ends for a point on an edge: a node of the edge, the cost between
/// it and the point, and whether it is the edge's `to` end.
#[derive(Debug, Clone, Copy)]
struct Seed {
    node: u32,
    cost: u32,
    by_to: bool,
}

/// A stretch of one edge, from `from_m` to `to_m` along it (either way).
struct Stretch {
    edge: u32,
    from_m: f64,
    to_m: f64,
}

fn merge_names(names: &mut Vec<String>, more: impl IntoIterator<Item = String>) {
    for name in more {
        if names.last() != Some(&name) {
            names.push(name);
        }
    }
}

impl RoadGraph {
    /// Snaps (`lon`, `lat`) onto the nearest edge, refusing points farther than `limit_m`.
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
    /// let at = graph.snap_point("report", 116.705, 39.5201, 500.0).unwrap();
    /// assert_eq!(at.road_name, "东西路");
    /// assert!((at.distance_m - 11.1).abs() < 0.1);
    /// assert!(graph.snap_point("far", 116.80, 39.52, 500.0).is_err());
    /// ```
    pub fn snap_point(
        &self,
        label: &str,
        lon: f64,
        lat: f64,
        limit_m: f64,
    ) -> Result<Snapped, RoutingError> {
        let snap = self.snap(lon, lat).ok_or(RoutingError::NoRoads)?;
        if snap.distance_m > limit_m {
            return Err(RoutingError::TooFarFromRoad {
                what: label.to_string(),
                lon,
                lat,
                distance_m: snap.distance_m,
                limit_m,
            });
        }
        let road = self.road_of(snap.edge);
        Ok(Snapped {
            label: label.to_string(),
            input: [lon, lat],
            point: snap.point,
            distance_m: snap.distance_m,
            edge: snap.edge,
            along_m: snap.along_m,
            road_id: road.id.clone(),
            road_name: road.name.clone(),
        })
    }

    /// The fastest route through `points` (lon/lat, at least two: from, vias, to) in `mode`,
    /// by the contraction hierarchy. Points are labelled `from`, `via 1`..., `to`.
    ///
    /// # Examples
    /// ```
    /// use civmap::model::Asset;
    /// use civmap::routing::{Mode, RoadGraph};
    /// use geo::{Geometry, LineString};
    ///
    /// let road = |id: &str, coords: Vec<(f64, f64)>| Asset {
    ///     id: id.into(),
    ///     kind: "road".into(),
    ///     name: format!("{id}路"),
    ///     district: None,
    ///     unit: None,
    ///     properties: Default::default(),
    ///     geometry: Geometry::LineString(LineString::from(coords)),
    /// };
    /// let graph = RoadGraph::build(&[
    ///     road("东西", vec![(116.70, 39.52), (116.72, 39.52)]),
    ///     road("南北", vec![(116.71, 39.51), (116.71, 39.53)]),
    /// ]);
    /// let route = graph.route(Mode::Walk, &[[116.705, 39.52], [116.71, 39.525]]).unwrap();
    /// assert_eq!(route.roads, ["东西路", "南北路"]);
    /// assert!((route.length_m - (429.6 + 555.3)).abs() < 1.0);
    /// assert!((route.duration_s - route.length_m / (5.0 / 3.6)).abs() < 1e-6);
    /// ```
    pub fn route(&self, mode: Mode, points: &[[f64; 2]]) -> Result<Route, RoutingError> {
        self.route_with(Engine::Hierarchy, mode, points)
    }

    /// [`RoadGraph::route`] with a chosen search engine.
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
    /// use civmap::routing::Engine;
    /// let points = [[116.715, 39.52], [116.705, 39.52]];
    /// // Driving against the one-way 东西路 is impossible here (there is no way round)...
    /// assert!(graph.route_with(Engine::Hierarchy, Mode::Drive, &points).is_err());
    /// // ...walking is not, and both engines agree.
    /// let fast = graph.route_with(Engine::Hierarchy, Mode::Walk, &points).unwrap();
    /// let slow = graph.route_with(Engine::Dijkstra, Mode::Walk, &points).unwrap();
    /// assert_eq!(fast.cost, slow.cost);
    /// ```
    pub fn route_with(
        &self,
        engine: Engine,
        mode: Mode,
        points: &[[f64; 2]],
    ) -> Result<Route, RoutingError> {
        let last = points.len().saturating_sub(1);
        let stops = points
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let label = match i {
                    0 => "from".to_string(),
                    i if i == last => "to".to_string(),
                    i => format!("via {i}"),
                };
                self.snap_point(&label, p[0], p[1], MAX_SNAP_M)
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.route_snapped(engine, mode, stops)
    }

    /// The route through already snapped points, in order.
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
    /// use civmap::routing::Engine;
    /// let a = graph.snap_point("a", 116.705, 39.52, 500.0).unwrap();
    /// let b = graph.snap_point("b", 116.71, 39.525, 500.0).unwrap();
    /// let route = graph.route_snapped(Engine::Hierarchy, Mode::Drive, vec![a, b]).unwrap();
    /// assert_eq!(route.roads, ["东西路", "南北路"]);
    /// assert_eq!(route.legs.len(), 1);
    /// ```
    pub fn route_snapped(
        &self,
        engine: Engine,
        mode: Mode,
        stops: Vec<Snapped>,
    ) -> Result<Route, RoutingError> {
        if stops.len() < 2 {
            return Err(RoutingError::Invalid(
                "a route needs at least two points".into(),
            ));
        }
        let legs = stops
            .windows(2)
            .map(|w| self.leg(engine, mode, &w[0], &w[1]))
            .collect::<Result<Vec<_>, _>>()?;
        let mut route = Route {
            mode,
            cost: 0,
            length_m: 0.0,
            duration_s: 0.0,
            coordinates: Vec::new(),
            roads: Vec::new(),
            stops,
            legs: Vec::new(),
        };
        for leg in &legs {
            route.cost += u64::from(leg.cost);
            route.length_m += leg.length_m;
            route.duration_s += leg.duration_s;
            for &c in &leg.coordinates {
                if route.coordinates.last() != Some(&c) {
                    route.coordinates.push(c);
                }
            }
            merge_names(&mut route.roads, leg.roads.iter().cloned());
        }
        route.legs = legs;
        Ok(route)
    }

    /// The cheapest cost from node `from` to node `to` in `mode` (mode units), `None` when
    /// there is no way or a node does not exist.
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
    /// use civmap::routing::Engine;
    /// let west = graph.node_at(116.70, 39.52).unwrap();
    /// let east = graph.node_at(116.72, 39.52).unwrap();
    /// assert!(graph.node_to_node_cost(Engine::Hierarchy, Mode::Drive, west, east).is_some());
    /// assert_eq!(graph.node_to_node_cost(Engine::Hierarchy, Mode::Drive, east, west), None);
    /// ```
    pub fn node_to_node_cost(&self, engine: Engine, mode: Mode, from: u32, to: u32) -> Option<u32> {
        let n = self.node_count() as u32;
        if from >= n || to >= n {
            return None;
        }
        self.search(engine, mode, &[(from, 0)], &[(to, 0)])
            .map(|p| p.cost)
    }

    /// Where one can go from a point (`sources`: node, cost to reach it) and come to it
    /// (`targets`: node, cost from it), in mode units. A point on a node is that node alone.
    pub(crate) fn ends(&self, mode: Mode, at: &Snapped) -> (NodeCosts, NodeCosts) {
        let (sources, targets) = self.seeds(mode, at);
        let pairs = |seeds: Vec<Seed>| seeds.iter().map(|s| (s.node, s.cost)).collect();
        (pairs(sources), pairs(targets))
    }

    fn seeds(&self, mode: Mode, at: &Snapped) -> (Vec<Seed>, Vec<Seed>) {
        let edge = &self.edges()[at.edge as usize];
        let w = self.mode(mode).weights[at.edge as usize];
        let to_from = self.offset(mode, at);
        let to_to = w - to_from;
        let seed = |node, cost, by_to| Seed { node, cost, by_to };
        if to_from == 0 {
            let here = vec![seed(edge.from, 0, false)];
            return (here.clone(), here);
        }
        if to_to == 0 {
            let here = vec![seed(edge.to, 0, true)];
            return (here.clone(), here);
        }
        if self.two_way(mode, edge) {
            (
                vec![seed(edge.to, to_to, true), seed(edge.from, to_from, false)],
                vec![seed(edge.from, to_from, false), seed(edge.to, to_to, true)],
            )
        } else {
            (
                vec![seed(edge.to, to_to, true)],
                vec![seed(edge.from, to_from, false)],
            )
        }
    }

    /// The cost from the edge's start to the point, in mode units (rounded like the weights).
    fn offset(&self, mode: Mode, at: &Snapped) -> u32 {
        let edge = &self.edges()[at.edge as usize];
        let w = self.mode(mode).weights[at.edge as usize];
        let fraction = if edge.length_m > 0.0 {
            (at.along_m / edge.length_m).clamp(0.0, 1.0)
        } else {
            0.0
        };
        ((f64::from(w) * fraction).round() as u32).min(w)
    }

    /// The cost of going straight along a shared edge from `a` to `b`, if allowed.
    pub(crate) fn direct(&self, mode: Mode, a: &Snapped, b: &Snapped) -> Option<u32> {
        if a.edge != b.edge {
            return None;
        }
        let (oa, ob) = (self.offset(mode, a), self.offset(mode, b));
        if b.along_m >= a.along_m {
            Some(ob.saturating_sub(oa))
        } else if self.two_way(mode, &self.edges()[a.edge as usize]) {
            Some(oa.saturating_sub(ob))
        } else {
            None
        }
    }

    fn search(
        &self,
        engine: Engine,
        mode: Mode,
        sources: &[(u32, u32)],
        targets: &[(u32, u32)],
    ) -> Option<Path> {
        let graph = self.mode(mode);
        match engine {
            Engine::Hierarchy => graph.ch.query(sources, targets),
            Engine::Dijkstra => graph.plain.shortest(sources, targets),
        }
    }

    /// The cheapest way from `a` to `b`.
    pub(crate) fn leg(
        &self,
        engine: Engine,
        mode: Mode,
        a: &Snapped,
        b: &Snapped,
    ) -> Result<Leg, RoutingError> {
        let unreachable = || RoutingError::Unreachable {
            mode,
            from: a.label.clone(),
            to: b.label.clone(),
        };
        let (sources, _) = self.ends(mode, a);
        let (_, targets) = self.ends(mode, b);
        let direct = self.direct(mode, a, b);
        let path = self.search(engine, mode, &sources, &targets);
        let stretches = match (direct, &path) {
            (Some(cost), Some(p)) if cost <= p.cost => (cost, self.direct_stretch(a, b)),
            (Some(cost), None) => (cost, self.direct_stretch(a, b)),
            (_, Some(p)) => (p.cost, self.path_stretches(mode, a, b, p)),
            (None, None) => return Err(unreachable()),
        };
        let (cost, stretches) = stretches;
        Ok(self.leg_from(mode, cost, &stretches))
    }

    fn direct_stretch(&self, a: &Snapped, b: &Snapped) -> Vec<Stretch> {
        vec![Stretch {
            edge: a.edge,
            from_m: a.along_m,
            to_m: b.along_m,
        }]
    }

    /// The partial first edge, the path's edges, and the partial last edge.
    fn path_stretches(&self, mode: Mode, a: &Snapped, b: &Snapped, path: &Path) -> Vec<Stretch> {
        let edges = self.edges();
        let (ea, eb) = (&edges[a.edge as usize], &edges[b.edge as usize]);
        let (sources, _) = self.seeds(mode, a);
        let (_, targets) = self.seeds(mode, b);
        // Which end of a's edge the path left by, and of b's edge it came in by: the cheapest
        // seed at the path's end node (the first on a tie, as the searches keep it). A loop
        // edge has one node at both ends.
        let by_to = |seeds: &[Seed], node: u32| {
            seeds
                .iter()
                .filter(|s| s.node == node)
                .min_by_key(|s| s.cost)
                .is_some_and(|s| s.by_to)
        };
        let leave_by_to = by_to(&sources, path.start);
        let enter_by_from = !by_to(&targets, path.end);
        let mut stretches = Vec::with_capacity(path.edge_dirs.len() + 2);
        stretches.push(Stretch {
            edge: a.edge,
            from_m: a.along_m,
            to_m: if leave_by_to { ea.length_m } else { 0.0 },
        });
        for &edge_dir in &path.edge_dirs {
            let edge = edge_dir >> 1;
            let length_m = edges[edge as usize].length_m;
            let (from_m, to_m) = if edge_dir & 1 == 0 {
                (0.0, length_m)
            } else {
                (length_m, 0.0)
            };
            stretches.push(Stretch { edge, from_m, to_m });
        }
        stretches.push(Stretch {
            edge: b.edge,
            from_m: if enter_by_from { 0.0 } else { eb.length_m },
            to_m: b.along_m,
        });
        stretches
    }

    fn leg_from(&self, mode: Mode, cost: u32, stretches: &[Stretch]) -> Leg {
        let mut leg = Leg {
            cost,
            length_m: 0.0,
            duration_s: 0.0,
            coordinates: Vec::with_capacity(stretches.len() * 4),
            roads: Vec::new(),
        };
        let mut last_road = None;
        for s in stretches {
            let length_m = (s.to_m - s.from_m).abs();
            let edge = &self.edges()[s.edge as usize];
            let road = &self.roads()[edge.road as usize];
            leg.length_m += length_m;
            leg.duration_s += length_m / (mode.speed_kmh(road.class) / 3.6);
            self.push_course(s.edge, s.from_m, s.to_m, &mut leg.coordinates);
            if length_m >= NAMED_FROM_M && last_road != Some(edge.road) {
                last_road = Some(edge.road);
                merge_names(&mut leg.roads, [road.name.clone()]);
            }
        }
        if leg.roads.is_empty()
            && let Some(s) = stretches.first()
        {
            leg.roads.push(self.road_of(s.edge).name.clone());
        }
        if leg.coordinates.len() == 1 {
            leg.coordinates.push(leg.coordinates[0]);
        }
        leg
    }
}
