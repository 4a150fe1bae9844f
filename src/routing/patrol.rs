//! Patrol plans (晨巡): the order in which to visit stops from a start, exact (Held–Karp) for up
//! to [`EXACT_UP_TO`] stops and nearest neighbour + 2-opt + Or-opt with perturbed restarts
//! beyond, on a cost matrix from the contraction hierarchy's bucket many-to-many search; then
//! each leg's route. Stops are lon/lat points or assets (their representative point).

use geo::{Centroid, Geometry, InteriorPoint, Intersects, LineString};

use super::graph::RoadGraph;
use super::route::{Engine, Leg, MAX_SNAP_M, Snapped};
use super::{Mode, RoutingError, SplitMix64};
use crate::index::distance_m;
use crate::layers::Layers;

/// The most stops one plan takes.
pub const MAX_STOPS: usize = 200;
/// Up to this many stops the order is exact.
pub const EXACT_UP_TO: usize = 10;
/// A matrix entry for "no way there".
pub const UNREACHABLE: u32 = u32::MAX;
/// What an unreachable step costs inside the solvers: more than any real tour.
const BIG: u64 = 1 << 40;

/// A stop as requested: an asset id or a lon/lat point.
#[derive(Debug, Clone, PartialEq)]
pub enum StopRef {
    Asset(String),
    Point([f64; 2]),
}

/// A stop resolved to a position.
#[derive(Debug, Clone, PartialEq)]
pub struct StopPoint {
    /// The asset id, or `stop N` (1-based) for a point.
    pub label: String,
    pub asset_id: Option<String>,
    pub name: Option<String>,
    /// lon/lat.
    pub position: [f64; 2],
}

/// How the order was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Exact,
    Heuristic,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Exact => "exact",
            Self::Heuristic => "heuristic",
        }
    }
}

/// One stop of the plan, in visiting order.
#[derive(Debug, Clone, PartialEq)]
pub struct Visit {
    /// Position of the stop in the request.
    pub index: usize,
    pub stop: StopPoint,
    pub snapped: Snapped,
}

/// The plan: visiting order, legs (start → first stop → ... [→ start]) and totals.
#[derive(Debug, Clone, PartialEq)]
pub struct PatrolPlan {
    pub mode: Mode,
    pub return_to_start: bool,
    pub method: Method,
    pub start: Snapped,
    pub visits: Vec<Visit>,
    pub legs: Vec<Leg>,
    /// In mode units (millimetres walking, milliseconds driving).
    pub cost: u64,
    pub length_m: f64,
    pub duration_s: f64,
}

/// A point that stands for an asset on the map: a point itself, the middle (by length) of a
/// line (of its longest part), the centroid of a polygon when inside it, else a point inside.
///
/// # Examples
/// ```
/// use civmap::routing::representative_point;
/// use geo::{Geometry, LineString, Point, polygon};
///
/// let line = Geometry::LineString(LineString::from(vec![(116.70, 39.52), (116.72, 39.52)]));
/// let mid = representative_point(&line).unwrap();
/// assert!((mid[0] - 116.71).abs() < 1e-9 && (mid[1] - 39.52).abs() < 1e-12);
///
/// let square = Geometry::Polygon(polygon![
///     (x: 116.70, y: 39.52), (x: 116.71, y: 39.52), (x: 116.71, y: 39.53), (x: 116.70, y: 39.53)
/// ]);
/// let centre = representative_point(&square).unwrap();
/// assert!((centre[0] - 116.705).abs() < 1e-9);
/// assert_eq!(representative_point(&Geometry::Point(Point::new(1.0, 2.0))), Some([1.0, 2.0]));
/// ```
pub fn representative_point(geometry: &Geometry<f64>) -> Option<[f64; 2]> {
    match geometry {
        Geometry::Point(p) => Some([p.x(), p.y()]),
        Geometry::MultiPoint(m) => m.0.first().map(|p| [p.x(), p.y()]),
        Geometry::LineString(l) => middle_of(l),
        Geometry::MultiLineString(m) => {
            m.0.iter()
                .max_by(|a, b| line_length_m(a).total_cmp(&line_length_m(b)))
                .and_then(middle_of)
        }
        other => {
            let centroid = other.centroid()?;
            let inside = if other.intersects(&centroid) {
                centroid
            } else {
                other.interior_point()?
            };
            Some([inside.x(), inside.y()])
        }
    }
}

fn line_length_m(line: &LineString<f64>) -> f64 {
    line.0
        .windows(2)
        .map(|w| distance_m((w[0].x, w[0].y), (w[1].x, w[1].y)))
        .sum()
}

fn middle_of(line: &LineString<f64>) -> Option<[f64; 2]> {
    let first = line.0.first()?;
    let mut left_m = line_length_m(line) / 2.0;
    for w in line.0.windows(2) {
        let step_m = distance_m((w[0].x, w[0].y), (w[1].x, w[1].y));
        if step_m > 0.0 && left_m <= step_m {
            let t = left_m / step_m;
            return Some([
                w[0].x + (w[1].x - w[0].x) * t,
                w[0].y + (w[1].y - w[0].y) * t,
            ]);
        }
        left_m -= step_m;
    }
    Some([first.x, first.y])
}

/// Turns requested stops into positions: assets by id (their [`representative_point`]),
/// points as given. Refuses an empty list, more than [`MAX_STOPS`], unknown ids and points
/// out of lon/lat range.
pub fn resolve_stops(layers: &Layers, stops: &[StopRef]) -> Result<Vec<StopPoint>, RoutingError> {
    check_stop_count(stops.len())?;
    stops
        .iter()
        .enumerate()
        .map(|(i, stop)| match stop {
            StopRef::Asset(id) => {
                let asset = layers
                    .asset(id)
                    .ok_or_else(|| RoutingError::UnknownAsset(id.clone()))?;
                let position = representative_point(&asset.geometry).ok_or_else(|| {
                    RoutingError::Invalid(format!("asset {id:?} has no position"))
                })?;
                Ok(StopPoint {
                    label: id.clone(),
                    asset_id: Some(id.clone()),
                    name: Some(asset.name.clone()),
                    position,
                })
            }
            StopRef::Point(p) => {
                if !super::valid_lon_lat(*p) {
                    return Err(RoutingError::Invalid(format!(
                        "stop {} ({}, {}) is outside lon -180..180 / lat -90..90",
                        i + 1,
                        p[0],
                        p[1]
                    )));
                }
                Ok(StopPoint {
                    label: format!("stop {}", i + 1),
                    asset_id: None,
                    name: None,
                    position: *p,
                })
            }
        })
        .collect()
}

fn check_stop_count(given: usize) -> Result<(), RoutingError> {
    if given == 0 {
        Err(RoutingError::NoStops)
    } else if given > MAX_STOPS {
        Err(RoutingError::TooManyStops {
            given,
            max: MAX_STOPS,
        })
    } else {
        Ok(())
    }
}

impl RoadGraph {
    /// Costs between snapped points in `mode` (mode units; [`UNREACHABLE`] when there is no
    /// way), row = from, column = to, by the hierarchy's bucket many-to-many search.
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
    /// use civmap::routing::UNREACHABLE;
    /// let points: Vec<_> = [[116.705, 39.52], [116.715, 39.52], [116.71, 39.525]]
    ///     .iter()
    ///     .map(|p| graph.snap_point("p", p[0], p[1], 500.0).unwrap())
    ///     .collect();
    /// let m = graph.cost_matrix(Mode::Drive, &points);
    /// assert_eq!(m[0][0], 0);
    /// assert!(m[0][1] < UNREACHABLE);
    /// assert_eq!(m[1][0], UNREACHABLE); // against the one-way 东西路
    /// ```
    pub fn cost_matrix(&self, mode: Mode, points: &[Snapped]) -> Vec<Vec<u32>> {
        self.cost_matrix_with(Engine::Hierarchy, mode, points)
    }

    /// [`RoadGraph::cost_matrix`] with a chosen engine (plain Dijkstra runs one search per pair).
    pub fn cost_matrix_with(
        &self,
        engine: Engine,
        mode: Mode,
        points: &[Snapped],
    ) -> Vec<Vec<u32>> {
        let k = points.len();
        let ends: Vec<_> = points.iter().map(|p| self.ends(mode, p)).collect();
        let mut rows = vec![vec![UNREACHABLE; k]; k];
        match engine {
            Engine::Hierarchy => {
                let sources: Vec<_> = ends.iter().map(|e| e.0.clone()).collect();
                let targets: Vec<_> = ends.iter().map(|e| e.1.clone()).collect();
                let flat = self.mode(mode).ch.matrix(&sources, &targets);
                for (i, row) in rows.iter_mut().enumerate() {
                    row.copy_from_slice(&flat[i * k..(i + 1) * k]);
                }
            }
            Engine::Dijkstra => {
                let plain = &self.mode(mode).plain;
                for (i, row) in rows.iter_mut().enumerate() {
                    for (j, cell) in row.iter_mut().enumerate() {
                        if let Some(path) = plain.shortest(&ends[i].0, &ends[j].1) {
                            *cell = path.cost;
                        }
                    }
                }
            }
        }
        for (i, row) in rows.iter_mut().enumerate() {
            for (j, cell) in row.iter_mut().enumerate() {
                if let Some(direct) = self.direct(mode, &points[i], &points[j]) {
                    *cell = (*cell).min(direct);
                }
            }
        }
        rows
    }

    /// Plans a patrol from `start` (lon/lat) through `stops` in `mode`, back to the start when
    /// `return_to_start`.
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
    /// use civmap::routing::{Method, StopPoint};
    /// let stop = |label: &str, position| StopPoint {
    ///     label: label.into(),
    ///     asset_id: None,
    ///     name: None,
    ///     position,
    /// };
    /// let stops = [stop("north", [116.71, 39.525]), stop("east", [116.715, 39.52])];
    /// let plan = graph.plan_patrol(Mode::Walk, [116.705, 39.52], &stops, false).unwrap();
    /// assert_eq!(plan.method, Method::Exact);
    /// assert_eq!(plan.legs.len(), 2);
    /// let legs_m: f64 = plan.legs.iter().map(|l| l.length_m).sum();
    /// assert!((plan.length_m - legs_m).abs() < 1e-9);
    /// ```
    pub fn plan_patrol(
        &self,
        mode: Mode,
        start: [f64; 2],
        stops: &[StopPoint],
        return_to_start: bool,
    ) -> Result<PatrolPlan, RoutingError> {
        check_stop_count(stops.len())?;
        let start = self.snap_point("start", start[0], start[1], MAX_SNAP_M)?;
        let mut points = Vec::with_capacity(stops.len() + 1);
        points.push(start.clone());
        for stop in stops {
            points.push(self.snap_point(
                &stop.label,
                stop.position[0],
                stop.position[1],
                MAX_SNAP_M,
            )?);
        }
        let matrix = self.cost_matrix(mode, &points);
        for (i, point) in points.iter().enumerate().skip(1) {
            if matrix[0][i] == UNREACHABLE {
                return Err(unreachable(mode, &points[0], point));
            }
            if return_to_start && matrix[i][0] == UNREACHABLE {
                return Err(unreachable(mode, point, &points[0]));
            }
        }
        let (order, method) = if stops.len() <= EXACT_UP_TO {
            (exact_order(&matrix, return_to_start), Method::Exact)
        } else {
            (heuristic_order(&matrix, return_to_start), Method::Heuristic)
        };
        let mut sequence = Vec::with_capacity(order.len() + 2);
        sequence.push(0);
        sequence.extend(&order);
        if return_to_start {
            sequence.push(0);
        }
        if let Some(w) = sequence
            .windows(2)
            .find(|w| matrix[w[0]][w[1]] == UNREACHABLE)
        {
            return Err(unreachable(mode, &points[w[0]], &points[w[1]]));
        }
        let legs = sequence
            .windows(2)
            .map(|w| self.leg(Engine::Hierarchy, mode, &points[w[0]], &points[w[1]]))
            .collect::<Result<Vec<_>, _>>()?;
        let visits = order
            .iter()
            .map(|&i| Visit {
                index: i - 1,
                stop: stops[i - 1].clone(),
                snapped: points[i].clone(),
            })
            .collect();
        Ok(PatrolPlan {
            mode,
            return_to_start,
            method,
            start,
            visits,
            cost: legs.iter().map(|l| u64::from(l.cost)).sum(),
            length_m: legs.iter().map(|l| l.length_m).sum(),
            duration_s: legs.iter().map(|l| l.duration_s).sum(),
            legs,
        })
    }
}

fn unreachable(mode: Mode, from: &Snapped, to: &Snapped) -> RoutingError {
    RoutingError::Unreachable {
        mode,
        from: from.label.clone(),
        to: to.label.clone(),
    }
}

fn step_cost(matrix: &[Vec<u32>], a: usize, b: usize) -> u64 {
    match matrix[a][b] {
        UNREACHABLE => BIG,
        c => u64::from(c),
    }
}

/// The cost of visiting `order` (matrix indices of stops) from index 0, back to 0 when
/// `return_to_start`; an unreachable step costs 2⁴⁰.
///
/// # Examples
/// ```
/// use civmap::routing::tour_cost;
/// let m = vec![vec![0, 5, 9], vec![5, 0, 3], vec![9, 3, 0]];
/// assert_eq!(tour_cost(&m, &[1, 2], false), 8);
/// assert_eq!(tour_cost(&m, &[1, 2], true), 17);
/// ```
pub fn tour_cost(matrix: &[Vec<u32>], order: &[usize], return_to_start: bool) -> u64 {
    let mut cost = 0;
    let mut at = 0;
    for &next in order {
        cost += step_cost(matrix, at, next);
        at = next;
    }
    if return_to_start {
        cost += step_cost(matrix, at, 0);
    }
    cost
}

/// The cheapest order of stops `1..n` from 0 (Held–Karp dynamic programming; meant for up to
/// [`EXACT_UP_TO`] stops: time and memory grow as 2ⁿ).
///
/// # Examples
/// ```
/// use civmap::routing::exact_order;
/// // From 0, going to 2 first and then 1 is cheaper than 1 then 2.
/// let m = vec![vec![0, 4, 1], vec![4, 0, 9], vec![1, 1, 0]];
/// assert_eq!(exact_order(&m, false), [2, 1]);
/// ```
pub fn exact_order(matrix: &[Vec<u32>], return_to_start: bool) -> Vec<usize> {
    let n = matrix.len().saturating_sub(1);
    if n == 0 {
        return Vec::new();
    }
    let sets = 1usize << n;
    let mut dp = vec![u64::MAX; sets * n];
    let mut parent = vec![usize::MAX; sets * n];
    for j in 0..n {
        dp[(1 << j) * n + j] = step_cost(matrix, 0, j + 1);
    }
    for mask in 1..sets {
        for j in 0..n {
            let here = dp[mask * n + j];
            if mask & (1 << j) == 0 || here == u64::MAX {
                continue;
            }
            for k in 0..n {
                if mask & (1 << k) != 0 {
                    continue;
                }
                let next = mask | (1 << k);
                let cost = here + step_cost(matrix, j + 1, k + 1);
                if cost < dp[next * n + k] {
                    dp[next * n + k] = cost;
                    parent[next * n + k] = j;
                }
            }
        }
    }
    let full = sets - 1;
    let closing = |j: usize| {
        if return_to_start {
            step_cost(matrix, j + 1, 0)
        } else {
            0
        }
    };
    let mut last = (0..n)
        .min_by_key(|&j| dp[full * n + j].saturating_add(closing(j)))
        .unwrap_or(0);
    let mut mask = full;
    let mut order = Vec::with_capacity(n);
    while last != usize::MAX {
        order.push(last + 1);
        let previous = parent[mask * n + last];
        mask &= !(1 << last);
        last = previous;
    }
    order.reverse();
    order
}

/// A good order of stops `1..n` from 0: nearest neighbour, then 2-opt and Or-opt moves (costs
/// may be asymmetric), then restarts — alternately a random tour and a double-bridge kick of the
/// best so far, each improved the same way — keeping the best. Deterministic; about 1000/n
/// restarts (2 to 100).
///
/// # Examples
/// ```
/// use civmap::routing::{exact_order, heuristic_order, tour_cost};
/// // Stops on a line at 1..=6 km, listed out of order; the start is at 0.
/// let at = [0u32, 4, 1, 6, 2, 5, 3];
/// let m: Vec<Vec<u32>> = at.iter().map(|a| at.iter().map(|b| a.abs_diff(*b)).collect()).collect();
/// let order = heuristic_order(&m, false);
/// assert_eq!(tour_cost(&m, &order, false), tour_cost(&m, &exact_order(&m, false), false));
/// ```
pub fn heuristic_order(matrix: &[Vec<u32>], return_to_start: bool) -> Vec<usize> {
    let n = matrix.len().saturating_sub(1).max(1);
    heuristic_with(matrix, return_to_start, (1000 / n).clamp(2, 100))
}

fn heuristic_with(matrix: &[Vec<u32>], return_to_start: bool, restarts: usize) -> Vec<usize> {
    let k = matrix.len();
    let n = k.saturating_sub(1);
    if n <= 1 {
        return (1..k).collect();
    }
    let tours = Tours {
        matrix,
        return_to_start,
        end: k,
    };
    let mut tour = tours.nearest_neighbour();
    tours.improve(&mut tour);
    let mut best_cost = tours.total(&tour);
    let mut best = tour;
    if n >= 4 {
        let mut rng = SplitMix64::new(0x5EED ^ n as u64);
        for restart in 0..restarts {
            // Alternately a fresh random tour and a kick of the best one.
            let mut candidate = best.clone();
            if restart % 2 == 0 {
                for i in (2..=n).rev() {
                    let j = 1 + rng.below(i);
                    candidate.swap(i, j);
                }
            } else {
                tours.double_bridge(&mut candidate, &mut rng);
            }
            tours.improve(&mut candidate);
            let cost = tours.total(&candidate);
            if cost < best_cost {
                best_cost = cost;
                best = candidate;
            }
        }
    }
    best[1..=n].to_vec()
}

/// Tours as `[0, stops..., END]`, END a virtual node reached from the last stop at the cost of
/// going back to the start (or nothing when the patrol ends at its last stop).
struct Tours<'a> {
    matrix: &'a [Vec<u32>],
    return_to_start: bool,
    end: usize,
}

impl Tours<'_> {
    fn cost(&self, a: usize, b: usize) -> i64 {
        if b == self.end {
            if self.return_to_start {
                step_cost(self.matrix, a, 0) as i64
            } else {
                0
            }
        } else {
            step_cost(self.matrix, a, b) as i64
        }
    }

    fn total(&self, tour: &[usize]) -> i64 {
        tour.windows(2).map(|w| self.cost(w[0], w[1])).sum()
    }

    fn nearest_neighbour(&self) -> Vec<usize> {
        let n = self.end - 1;
        let mut left: Vec<usize> = (1..=n).collect();
        let mut tour = Vec::with_capacity(n + 2);
        tour.push(0);
        let mut at = 0;
        while !left.is_empty() {
            let (pos, _) = left
                .iter()
                .enumerate()
                .min_by_key(|&(_, &s)| self.cost(at, s))
                .unwrap_or((0, &0));
            at = left.swap_remove(pos);
            tour.push(at);
        }
        tour.push(self.end);
        tour
    }

    /// `forward[p]`: cost of tour[0..=p] as travelled; `backward[p]`: of tour[0..=p] travelled
    /// in reverse (stops only).
    fn prefix(&self, tour: &[usize], forward: &mut Vec<i64>, backward: &mut Vec<i64>) {
        forward.clear();
        backward.clear();
        forward.push(0);
        backward.push(0);
        for w in tour.windows(2) {
            let f = forward[forward.len() - 1] + self.cost(w[0], w[1]);
            forward.push(f);
            let b = if w[1] == self.end {
                0
            } else {
                backward[backward.len() - 1] + self.cost(w[1], w[0])
            };
            backward.push(b);
        }
    }

    /// 2-opt and Or-opt (segments of 1–3 stops, moved either way round) until no move helps.
    fn improve(&self, tour: &mut Vec<usize>) {
        let n = tour.len() - 2;
        let (mut f, mut r) = (Vec::new(), Vec::new());
        let mut rounds = 0;
        'search: loop {
            rounds += 1;
            if rounds > 50 * n + 100 {
                return;
            }
            self.prefix(tour, &mut f, &mut r);
            // 2-opt: reverse tour[i..=j].
            for i in 1..n {
                for j in i + 1..=n {
                    let old = self.cost(tour[i - 1], tour[i])
                        + (f[j] - f[i])
                        + self.cost(tour[j], tour[j + 1]);
                    let new = self.cost(tour[i - 1], tour[j])
                        + (r[j] - r[i])
                        + self.cost(tour[i], tour[j + 1]);
                    if new < old {
                        tour[i..=j].reverse();
                        continue 'search;
                    }
                }
            }
            // Or-opt: move tour[i..i+len] between tour[p] and tour[p+1].
            for len in 1..=3.min(n - 1) {
                for i in 1..=n + 1 - len {
                    let last = i + len - 1;
                    let (a, s0, s1, b) = (tour[i - 1], tour[i], tour[last], tour[last + 1]);
                    let gain = self.cost(a, s0) + self.cost(s1, b) - self.cost(a, b);
                    let inner_forward = f[last] - f[i];
                    let inner_backward = r[last] - r[i];
                    for p in 0..=n {
                        if p + 1 >= i && p <= last {
                            continue;
                        }
                        let (x, y) = (tour[p], tour[p + 1]);
                        let base = self.cost(x, y);
                        let forward = self.cost(x, s0) + self.cost(s1, y) - base;
                        let backward = self.cost(x, s1) + self.cost(s0, y) - base + inner_backward
                            - inner_forward;
                        let reversed = backward < forward;
                        if forward.min(backward) < gain {
                            let mut segment: Vec<usize> = tour.drain(i..=last).collect();
                            if reversed {
                                segment.reverse();
                            }
                            let at = if p < i { p + 1 } else { p + 1 - len };
                            tour.splice(at..at, segment);
                            continue 'search;
                        }
                    }
                }
            }
            return;
        }
    }

    /// Cuts the tour after the start into runs B C D (the start, A, stays) and reorders the
    /// stops C B D.
    fn double_bridge(&self, tour: &mut [usize], rng: &mut SplitMix64) {
        let n = tour.len() - 2;
        let mut cuts = [0usize; 3];
        for cut in &mut cuts {
            *cut = 1 + rng.below(n);
        }
        cuts.sort_unstable();
        let [p1, p2, p3] = cuts;
        if p1 == p2 || p2 == p3 {
            return;
        }
        // tour[p1..p2] = B, tour[p2..p3] = C → C B.
        tour[p1..p3].rotate_left(p2 - p1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// All orders, the cheapest cost.
    fn brute_force(matrix: &[Vec<u32>], return_to_start: bool) -> u64 {
        fn permute(
            rest: &mut Vec<usize>,
            order: &mut Vec<usize>,
            matrix: &[Vec<u32>],
            ret: bool,
            best: &mut u64,
        ) {
            if rest.is_empty() {
                *best = (*best).min(tour_cost(matrix, order, ret));
                return;
            }
            for i in 0..rest.len() {
                let s = rest.remove(i);
                order.push(s);
                permute(rest, order, matrix, ret, best);
                order.pop();
                rest.insert(i, s);
            }
        }
        let mut best = u64::MAX;
        let mut rest: Vec<usize> = (1..matrix.len()).collect();
        permute(
            &mut rest,
            &mut Vec::new(),
            matrix,
            return_to_start,
            &mut best,
        );
        best
    }

    /// Random points in a 2 km square; costs are Manhattan distances (mm) with a one-way
    /// detour penalty on some pairs, so the matrix is asymmetric.
    fn random_matrix(k: usize, seed: u64) -> Vec<Vec<u32>> {
        let mut rng = SplitMix64::new(seed);
        let pts: Vec<(u32, u32)> = (0..k)
            .map(|_| (rng.below(2_000_000) as u32, rng.below(2_000_000) as u32))
            .collect();
        let mut m = vec![vec![0; k]; k];
        for i in 0..k {
            for j in 0..k {
                if i != j {
                    let d = pts[i].0.abs_diff(pts[j].0) + pts[i].1.abs_diff(pts[j].1);
                    let detour = if (i * 7 + j * 3) % 5 == 0 { 300_000 } else { 0 };
                    m[i][j] = d + detour;
                }
            }
        }
        m
    }

    #[test]
    fn the_exact_order_matches_brute_force_on_small_cases() {
        for seed in 0..30 {
            for ret in [false, true] {
                let m = random_matrix(2 + (seed as usize % 7), seed);
                let order = exact_order(&m, ret);
                assert_eq!(
                    tour_cost(&m, &order, ret),
                    brute_force(&m, ret),
                    "seed {seed}"
                );
                let mut sorted = order.clone();
                sorted.sort_unstable();
                assert_eq!(sorted, (1..m.len()).collect::<Vec<_>>());
            }
        }
    }

    #[test]
    fn the_heuristic_is_within_two_percent_of_brute_force_on_small_cases() {
        for seed in 0..40 {
            for ret in [false, true] {
                let m = random_matrix(3 + (seed as usize % 7), 1000 + seed);
                let got = tour_cost(&m, &heuristic_order(&m, ret), ret);
                let best = brute_force(&m, ret);
                assert!(
                    got as f64 <= best as f64 * 1.02,
                    "seed {seed}: {got} vs {best}"
                );
            }
        }
    }

    #[test]
    fn the_heuristic_is_within_two_percent_of_brute_force_on_euclidean_cases() {
        for seed in 0..60 {
            let mut rng = SplitMix64::new(seed);
            let pts: Vec<(f64, f64)> = (0..9)
                .map(|_| (rng.below(10_000) as f64, rng.below(10_000) as f64))
                .collect();
            let m: Vec<Vec<u32>> = pts
                .iter()
                .map(|a| {
                    pts.iter()
                        .map(|b| (a.0 - b.0).hypot(a.1 - b.1) as u32)
                        .collect()
                })
                .collect();
            for ret in [false, true] {
                let got = tour_cost(&m, &heuristic_order(&m, ret), ret);
                let best = brute_force(&m, ret);
                assert!(
                    got as f64 <= best as f64 * 1.02,
                    "seed {seed}: {got} vs {best}"
                );
            }
        }
    }

    #[test]
    fn the_heuristic_visits_every_stop_once_on_large_cases() {
        let m = random_matrix(120, 9);
        let mut order = heuristic_order(&m, true);
        order.sort_unstable();
        assert_eq!(order, (1..120).collect::<Vec<_>>());
    }

    #[test]
    fn an_unreachable_step_is_avoided_when_another_order_exists() {
        let mut m = random_matrix(6, 4);
        m[0][1] = UNREACHABLE;
        let order = exact_order(&m, false);
        assert_ne!(order[0], 1);
        assert!(tour_cost(&m, &order, false) < BIG);
    }
}
