//! Routing on synth-20km (shared/BENCHMARKS.md): building the road graph with both modes'
//! contraction hierarchies, 50 random walking routes by the hierarchy beside plain Dijkstra on
//! the same graph (costs must be identical), a 50-stop patrol plan, and — given a database —
//! pgRouting's `pgr_dijkstra` on the same edge table in the same run. Times are medians of
//! repeated runs on one thread; lengths in metres; costs in millimetres (walking weights).

use std::hint::black_box;
use std::time::{Duration, Instant};

use crate::bench::synth;
use crate::routing::{Engine, Mode, RoadGraph, StopPoint, exact_order, heuristic_order, tour_cost};

/// The seed of the synthetic city (as the other benchmarks).
const CITY_SEED: u64 = 20;
/// The seed of the route pairs and patrol stops.
const PAIR_SEED: u64 = 2024;
/// Route pairs, as in BENCHMARKS.md.
const PAIRS: usize = 50;
/// Stops of the timed patrol plan.
const PATROL_STOPS: usize = 50;

/// pgRouting beside civmap on the same pairs.
#[derive(Debug, Clone, PartialEq)]
pub struct PgRoutingFigures {
    pub pairs: usize,
    /// `pgr_dijkstra` per route, median, µs (it rebuilds its graph on every call).
    pub median_us: f64,
    /// Pairs whose `agg_cost` differs from civmap's cost.
    pub mismatches: usize,
}

/// What [`run`] measured.
#[derive(Debug, Clone, PartialEq)]
pub struct RoutingFigures {
    pub nodes: usize,
    pub edges: usize,
    /// Shortcuts of the walking hierarchy.
    pub shortcuts: usize,
    /// Graph, snapping tree and both hierarchies, seconds.
    pub build_s: f64,
    pub pairs: usize,
    /// A whole route (snapping, hierarchy query, unpacking, course, names), median, µs.
    pub route_median_us: f64,
    /// The hierarchy's node-to-node cost alone, median, µs.
    pub ch_query_median_us: f64,
    /// Plain Dijkstra node-to-node on the same graph, median, µs.
    pub dijkstra_median_us: f64,
    /// Pairs whose hierarchy cost differs from Dijkstra's (must be 0).
    pub mismatches: usize,
    /// Largest |length_m| difference of a route between the two engines, metres.
    pub max_length_difference_m: f64,
    /// A 50-stop walking patrol back to the start, median, ms.
    pub patrol_50_ms: f64,
    /// Worst heuristic tour over the exact one on 10-stop plans, percent.
    pub heuristic_worst_gap_pct: f64,
    pub pgrouting: Option<PgRoutingFigures>,
    /// Why pgRouting was not measured, when a database was given but failed.
    pub pgrouting_error: Option<String>,
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// Median over pairs of each pair's median time over `reps` runs.
fn time_pairs<T>(pairs: &[(u32, u32)], reps: usize, mut f: impl FnMut(u32, u32) -> T) -> f64 {
    let per_pair: Vec<Duration> = pairs
        .iter()
        .map(|&(a, b)| {
            median(
                (0..reps)
                    .map(|_| {
                        let start = Instant::now();
                        black_box(f(a, b));
                        start.elapsed()
                    })
                    .collect(),
            )
        })
        .collect();
    micros(median(per_pair))
}

/// The graph and the pairs measured on it.
struct Setup {
    graph: RoadGraph,
    pairs: Vec<(u32, u32)>,
}

fn setup() -> (Setup, Duration) {
    let assets = synth::city(CITY_SEED);
    let started = Instant::now();
    let graph = RoadGraph::build(&assets);
    let build = started.elapsed();
    let mut rng = synth::Rng::new(PAIR_SEED);
    let n = graph.node_count() as u64;
    let mut pairs = Vec::with_capacity(PAIRS);
    while pairs.len() < PAIRS && n > 1 {
        let (a, b) = ((rng.next_u64() % n) as u32, (rng.next_u64() % n) as u32);
        if a != b {
            pairs.push((a, b));
        }
    }
    (Setup { graph, pairs }, build)
}

fn measure(quick: bool) -> (Setup, RoutingFigures) {
    let (setup, build) = setup();
    let graph = &setup.graph;
    let reps = if quick { 5 } else { 21 };
    let mode = Mode::Walk;
    let position = |v: u32| graph.nodes()[v as usize];

    let mut mismatches = 0;
    let mut max_length_difference_m: f64 = 0.0;
    for &(a, b) in &setup.pairs {
        let points = [position(a), position(b)];
        let fast = graph.route(mode, &points);
        let slow = graph.route_with(Engine::Dijkstra, mode, &points);
        match (fast, slow) {
            (Ok(f), Ok(s)) => {
                if f.cost != s.cost {
                    mismatches += 1;
                }
                max_length_difference_m =
                    max_length_difference_m.max((f.length_m - s.length_m).abs());
            }
            (Err(_), Err(_)) => {}
            _ => mismatches += 1,
        }
    }
    let route_median_us = time_pairs(&setup.pairs, reps, |a, b| {
        graph
            .route(mode, &[position(a), position(b)])
            .map(|r| r.cost)
    });
    let ch_query_median_us = time_pairs(&setup.pairs, reps, |a, b| {
        graph.node_to_node_cost(Engine::Hierarchy, mode, a, b)
    });
    let dijkstra_median_us = time_pairs(&setup.pairs, if quick { 1 } else { 3 }, |a, b| {
        graph.node_to_node_cost(Engine::Dijkstra, mode, a, b)
    });

    let points = synth::points(PAIR_SEED + 1, PATROL_STOPS + 1);
    let stops: Vec<StopPoint> = points[1..]
        .iter()
        .enumerate()
        .map(|(i, &(lon, lat))| StopPoint {
            label: format!("stop {}", i + 1),
            asset_id: None,
            name: None,
            position: [lon, lat],
        })
        .collect();
    let start = [points[0].0, points[0].1];
    let patrol_runs = if quick { 3 } else { 9 };
    let patrol_50_ms = median(
        (0..patrol_runs)
            .map(|_| {
                let started = Instant::now();
                black_box(graph.plan_patrol(mode, start, &stops, true).map(|p| p.cost)).ok();
                started.elapsed()
            })
            .collect(),
    )
    .as_secs_f64()
        * 1e3;

    let heuristic_worst_gap_pct = heuristic_gap_pct(graph, if quick { 5 } else { 20 });
    let figures = RoutingFigures {
        nodes: graph.node_count(),
        edges: graph.edge_count(),
        shortcuts: graph.shortcut_count(mode),
        build_s: build.as_secs_f64(),
        pairs: setup.pairs.len(),
        route_median_us,
        ch_query_median_us,
        dijkstra_median_us,
        mismatches,
        max_length_difference_m,
        patrol_50_ms,
        heuristic_worst_gap_pct,
        pgrouting: None,
        pgrouting_error: None,
    };
    (setup, figures)
}

/// The worst gap, in percent, between the heuristic and the exact order on `cases` random
/// 10-stop walking patrols.
fn heuristic_gap_pct(graph: &RoadGraph, cases: usize) -> f64 {
    let mut worst: f64 = 0.0;
    for case in 0..cases {
        let points = synth::points(PAIR_SEED + 100 + case as u64, 11);
        let snapped: Vec<_> = points
            .iter()
            .filter_map(|&(lon, lat)| graph.snap_point("stop", lon, lat, f64::INFINITY).ok())
            .collect();
        let matrix = graph.cost_matrix(Mode::Walk, &snapped);
        for ret in [false, true] {
            let exact = tour_cost(&matrix, &exact_order(&matrix, ret), ret) as f64;
            let heuristic = tour_cost(&matrix, &heuristic_order(&matrix, ret), ret) as f64;
            if exact > 0.0 {
                worst = worst.max((heuristic / exact - 1.0) * 100.0);
            }
        }
    }
    worst
}

fn print(figures: &RoutingFigures) {
    let f = figures;
    println!(
        "{:<50} | {:>20} | {:>20} | {:>9} | target",
        "routing on synth-20km (walk)", "pgRouting", "civmap", "ratio"
    );
    println!("{}", "-".repeat(50 + 3 + 20 + 3 + 20 + 3 + 9 + 3 + 24));
    let line =
        |task: &str, peer: Option<String>, civmap: String, ratio: Option<f64>, target: &str| {
            println!(
                "{:<50} | {:>20} | {:>20} | {:>9} | {}",
                task,
                peer.unwrap_or_else(|| "-".into()),
                civmap,
                ratio.map_or("-".into(), |r| format!("{r:.0}×")),
                target
            );
        };
    line(
        &format!(
            "graph + 2 hierarchies ({} nodes, {} edges)",
            f.nodes, f.edges
        ),
        None,
        format!("{:.2} s", f.build_s),
        None,
        &format!("{} walk shortcuts", f.shortcuts),
    );
    let pg = f.pgrouting.as_ref();
    line(
        &format!("shortest route, {} pairs, median", f.pairs),
        pg.map(|p| format!("{:.0} µs", p.median_us)),
        format!("{:.1} µs", f.route_median_us),
        pg.map(|p| p.median_us / f.route_median_us),
        "≤ 100 µs, ≥ 500× pgr_dijkstra",
    );
    line(
        "  hierarchy query alone (node to node)",
        None,
        format!("{:.1} µs", f.ch_query_median_us),
        None,
        "",
    );
    line(
        "  plain Dijkstra, same graph (reference)",
        None,
        format!("{:.0} µs", f.dijkstra_median_us),
        Some(f.dijkstra_median_us / f.route_median_us),
        "ratio = Dijkstra / civmap route",
    );
    line(
        "  costs identical to Dijkstra",
        None,
        format!("{}/{}", f.pairs - f.mismatches, f.pairs),
        None,
        &format!("max length diff {:.4} m", f.max_length_difference_m),
    );
    if let Some(p) = pg {
        line(
            "  costs identical to pgr_dijkstra",
            None,
            format!("{}/{}", p.pairs - p.mismatches, p.pairs),
            None,
            "all",
        );
    }
    if let Some(e) = &f.pgrouting_error {
        println!("pgRouting not measured: {e}");
    }
    line(
        "patrol plan, 50 stops, back to start",
        None,
        format!("{:.1} ms", f.patrol_50_ms),
        None,
        "≤ 50 ms",
    );
    line(
        "  heuristic vs exact, 10 stops (worst)",
        None,
        format!("+{:.2} %", f.heuristic_worst_gap_pct),
        None,
        "≤ 2 % (exact is used ≤ 10)",
    );
}

/// Builds synth-20km's graph and hierarchies, times 50 random routes with the hierarchy and
/// with plain Dijkstra (checking identical costs), and a 50-stop patrol plan; prints a table
/// and returns the figures. `quick` repeats less.
///
/// # Examples
/// ```no_run
/// let figures = civmap::bench::routing::run(true);
/// assert_eq!(figures.mismatches, 0);
/// ```
pub fn run(quick: bool) -> RoutingFigures {
    let (_, figures) = measure(quick);
    print(&figures);
    figures
}

/// [`run`], plus `pgr_dijkstra` on the same edge table and pairs in the database at `url`
/// (a PostgreSQL with pgRouting installed; the extension is created if missing and a table
/// `civmap_bench_route_edges` is made and dropped). Without a URL it is [`run`]; a failing
/// database is reported in the table and the figures, not as an error.
///
/// # Examples
/// ```no_run
/// # async fn bench() {
/// let url = "postgres://postgres@127.0.0.1:5432/postgres";
/// let figures = civmap::bench::routing::run_with_pgrouting(false, Some(url)).await;
/// println!("{:?}", figures.pgrouting);
/// # }
/// ```
pub async fn run_with_pgrouting(quick: bool, url: Option<&str>) -> RoutingFigures {
    let (setup, mut figures) = measure(quick);
    if let Some(url) = url {
        let pairs = if quick { 10 } else { setup.pairs.len() };
        match pgrouting(&setup, &setup.pairs[..pairs.min(setup.pairs.len())], url).await {
            Ok(p) => figures.pgrouting = Some(p),
            Err(e) => figures.pgrouting_error = Some(e.to_string()),
        }
    }
    print(&figures);
    figures
}

const EDGE_TABLE_SQL: &str = "DROP TABLE IF EXISTS civmap_bench_route_edges; \
     CREATE TABLE civmap_bench_route_edges \
     (id bigint PRIMARY KEY, source bigint NOT NULL, target bigint NOT NULL, \
      cost float8 NOT NULL, reverse_cost float8 NOT NULL)";
const LOAD_EDGES_SQL: &str = "INSERT INTO civmap_bench_route_edges \
     SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::float8[], $5::float8[])";
const DIJKSTRA_SQL: &str = "SELECT max(agg_cost) FROM pgr_dijkstra(\
     'SELECT id, source, target, cost, reverse_cost FROM civmap_bench_route_edges', \
     $1::bigint, $2::bigint, directed => true)";

async fn pgrouting(
    setup: &Setup,
    pairs: &[(u32, u32)],
    url: &str,
) -> Result<PgRoutingFigures, tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    let connection = tokio::spawn(async move {
        if let Err(e) = connection.await {
            eprintln!("civmap bench: pgRouting connection: {e}");
        }
    });
    client
        .batch_execute("CREATE EXTENSION IF NOT EXISTS pgrouting CASCADE")
        .await?;
    client.batch_execute(EDGE_TABLE_SQL).await?;
    let graph = &setup.graph;
    let mode = Mode::Walk;
    let (mut ids, mut sources, mut targets, mut costs, mut reverse) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (e, edge) in graph.edges().iter().enumerate() {
        let Some((forward, backward)) = graph.edge_weight(mode, e) else {
            continue;
        };
        ids.push(e as i64 + 1);
        sources.push(i64::from(edge.from));
        targets.push(i64::from(edge.to));
        costs.push(f64::from(forward));
        reverse.push(backward.map_or(-1.0, f64::from));
    }
    client
        .execute(
            LOAD_EDGES_SQL,
            &[&ids, &sources, &targets, &costs, &reverse],
        )
        .await?;
    client
        .batch_execute("ANALYZE civmap_bench_route_edges")
        .await?;
    let statement = client.prepare(DIJKSTRA_SQL).await?;
    let mut times = Vec::with_capacity(pairs.len());
    let mut mismatches = 0;
    for &(a, b) in pairs {
        let started = Instant::now();
        let row = client
            .query_one(&statement, &[&i64::from(a), &i64::from(b)])
            .await?;
        times.push(started.elapsed());
        let peer: Option<f64> = row.get(0);
        let ours = graph
            .node_to_node_cost(Engine::Hierarchy, mode, a, b)
            .map(f64::from);
        if peer != ours {
            mismatches += 1;
        }
    }
    client
        .batch_execute("DROP TABLE IF EXISTS civmap_bench_route_edges")
        .await?;
    drop(client);
    let _ = connection.await;
    Ok(PgRoutingFigures {
        pairs: pairs.len(),
        median_us: micros(median(times)),
        mismatches,
    })
}
