//! `civmap bench`: the workload of shared/BENCHMARKS.md measured on this machine, civmap on one
//! thread beside its PostGIS peer measured in the same run ([`postgis`]). Prints one table:
//! task | PostGIS | civmap | ratio (PostGIS time / civmap time) | target.

pub mod ingest;
pub mod postgis;
pub mod routing;
pub mod synth;

use std::hint::black_box;
use std::time::{Duration, Instant};

use crate::layers::{BBox, LayerQuery, Layers};
use crate::model::Catalogue;
use postgis::{Cluster, Peer, PeerError, PeerHit};

/// The kinds of the "one kind" nearest case.
const ROAD: &[&str] = &["road"];
/// The kinds of the "eligible asset" nearest case.
const ELIGIBLE: &[&str] = &["road", "parking_zone", "market"];
/// How many reports' answers are compared between civmap and PostGIS.
const CHECKED_REPORTS: usize = 10_000;
/// Distances on the ellipsoid closer than this are a tie.
const TIE_M: f64 = 0.01;
/// Planar UTM distances may differ from ellipsoidal ones by the UTM scale (≈ 0.04 % here);
/// beyond this (plus [`TIE_M`]) the two engines disagree.
const UTM_SLACK: f64 = 0.005;
/// Relative differences are reported for distances from this on (below, micrometres dominate).
const RELATIVE_FROM_M: f64 = 1.0;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn resident_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// One line of the table.
struct Line {
    task: String,
    peer: Option<String>,
    civmap: String,
    /// PostGIS time / civmap time.
    ratio: Option<f64>,
    target: &'static str,
}

impl Line {
    fn civmap_only(task: impl Into<String>, civmap: String, target: &'static str) -> Line {
        Line {
            task: task.into(),
            peer: None,
            civmap,
            ratio: None,
            target,
        }
    }
}

fn print_table(lines: &[Line]) {
    println!(
        "{:<52} | {:>24} | {:>24} | {:>8} | target",
        "task", "PostGIS", "civmap", "ratio"
    );
    println!("{}", "-".repeat(52 + 3 + 24 + 3 + 24 + 3 + 8 + 3 + 16));
    for line in lines {
        let ratio = line.ratio.map_or("-".to_string(), |r| format!("{r:.1}×"));
        println!(
            "{:<52} | {:>24} | {:>24} | {:>8} | {}",
            line.task,
            line.peer.as_deref().unwrap_or("-"),
            line.civmap,
            ratio,
            line.target
        );
    }
}

fn micros(d: f64) -> String {
    format!("{d:.2} µs")
}

/// Nearest lookups over `points`, µs per lookup (median of 3 passes).
fn nearest_us(layers: &Layers, points: &[(f64, f64)], kinds: &[usize]) -> f64 {
    let passes: Vec<Duration> = (0..3)
        .map(|_| {
            let start = Instant::now();
            for &(lon, lat) in points {
                black_box(layers.index().nearest(lon, lat, kinds, 1));
            }
            start.elapsed()
        })
        .collect();
    median(passes).as_secs_f64() * 1e6 / points.len() as f64
}

/// All kinds' features in a bbox as one GeoJSON document; returns its size.
fn geojson_of(layers: &Layers, bbox: Option<BBox>) -> usize {
    let mut body = String::from(r#"{"type":"FeatureCollection","features":["#);
    let mut first = true;
    for spec in &layers.catalogue().kinds {
        let query = LayerQuery {
            bbox,
            limit: usize::MAX,
            ..Default::default()
        };
        let Ok(page) = layers.list(&spec.kind, &query) else {
            continue;
        };
        if page.items.is_empty() {
            continue;
        }
        if !first {
            body.push(',');
        }
        first = false;
        layers.write_features(&page.items, &mut body);
    }
    body.push_str("]}");
    black_box(&body);
    body.len()
}

/// A GeoJSON document's median build time and size.
#[derive(Debug, Clone, Copy)]
struct Document {
    time: Duration,
    bytes: usize,
}

impl Document {
    fn mb_per_s(&self) -> f64 {
        self.bytes as f64 / 1e6 / self.time.as_secs_f64()
    }

    fn describe(&self) -> String {
        format!(
            "{:.2} ms, {:.0} MB/s",
            self.time.as_secs_f64() * 1e3,
            self.mb_per_s()
        )
    }
}

fn civmap_geojson(layers: &Layers, bbox: Option<BBox>, repeats: usize) -> Document {
    let mut bytes = 0;
    let samples: Vec<Duration> = (0..repeats)
        .map(|_| {
            let start = Instant::now();
            bytes = geojson_of(layers, bbox);
            start.elapsed()
        })
        .collect();
    Document {
        time: median(samples),
        bytes,
    }
}

/// How civmap's nearest answers compare with PostGIS's for the same reports.
#[derive(Debug, Default, Clone, PartialEq)]
struct Agreement {
    compared: usize,
    same_asset: usize,
    /// Same asset: the largest |civmap − PostGIS spheroid| distance, metres.
    same_max_spheroid_diff_m: f64,
    /// Same asset: the largest |civmap − PostGIS UTM| / civmap distance, over distances of at
    /// least [`RELATIVE_FROM_M`].
    same_max_utm_rel: f64,
    other_asset: usize,
    /// Other asset, and the two distances on the ellipsoid differ by more than [`TIE_M`].
    other_not_tied: usize,
    /// Other asset, and the UTM distance differs from civmap's by more than [`UTM_SLACK`] of it
    /// plus [`TIE_M`].
    other_beyond_utm_slack: usize,
    /// Reports one side answered and the other did not.
    unanswered: usize,
}

fn agreement(
    layers: &Layers,
    points: &[(f64, f64)],
    kinds: &[usize],
    peer: &[PeerHit],
) -> Agreement {
    let mut a = Agreement::default();
    for hit in peer {
        a.compared += 1;
        let Some(&(lon, lat)) = points.get(hit.report) else {
            a.unanswered += 1;
            continue;
        };
        let Some(ours) = layers.index().nearest(lon, lat, kinds, 1).first().copied() else {
            a.unanswered += 1;
            continue;
        };
        let Some(asset) = layers.assets().get(ours.asset) else {
            a.unanswered += 1;
            continue;
        };
        let spheroid_diff_m = (ours.distance_m - hit.spheroid_m).abs();
        let utm_diff_m = (ours.distance_m - hit.utm_m).abs();
        if asset.id == hit.asset_id {
            a.same_asset += 1;
            a.same_max_spheroid_diff_m = a.same_max_spheroid_diff_m.max(spheroid_diff_m);
            if ours.distance_m >= RELATIVE_FROM_M {
                a.same_max_utm_rel = a.same_max_utm_rel.max(utm_diff_m / ours.distance_m);
            }
        } else {
            a.other_asset += 1;
            a.other_not_tied += usize::from(spheroid_diff_m > TIE_M);
            a.other_beyond_utm_slack +=
                usize::from(utm_diff_m > UTM_SLACK * ours.distance_m + TIE_M);
        }
    }
    a.unanswered += points.len().min(CHECKED_REPORTS).saturating_sub(a.compared);
    a
}

/// The peer's figures.
struct PeerFigures {
    load: Duration,
    reports: usize,
    nearest_road_us: f64,
    nearest_eligible_us: f64,
    road_check: Agreement,
    eligible_check: Agreement,
    bbox_count: i64,
    geojson_bbox: Document,
    geojson_city: Document,
    /// Intersections within reach of the posts, and the ST_DWithin join's median time.
    coverage: (i64, Duration),
    throwaway: bool,
}

async fn peer_geojson(
    peer: &Peer,
    bbox: Option<BBox>,
    repeats: usize,
) -> Result<Document, PeerError> {
    let mut bytes = peer.geojson(bbox).await?.len(); // warm-up
    let mut samples = Vec::with_capacity(repeats);
    for _ in 0..repeats {
        let start = Instant::now();
        bytes = black_box(peer.geojson(bbox).await?).len();
        samples.push(start.elapsed());
    }
    Ok(Document {
        time: median(samples),
        bytes,
    })
}

/// Batch KNN over every loaded report, µs per report.
async fn peer_nearest_us(
    peer: &mut Peer,
    kinds: &[&str],
    reports: usize,
) -> Result<f64, PeerError> {
    let (rows, elapsed) = peer.nearest_batch(kinds).await?;
    if rows != reports {
        eprintln!("civmap bench: PostGIS answered {rows} of {reports} reports for {kinds:?}");
    }
    Ok(elapsed.as_secs_f64() * 1e6 / reports as f64)
}

async fn measure_peer(
    peer: &mut Peer,
    layers: &Layers,
    points: &[(f64, f64)],
    bbox: BBox,
    quick: bool,
) -> Result<PeerFigures, PeerError> {
    let start = Instant::now();
    peer.load(layers.assets(), points).await?;
    let load = start.elapsed();
    let kind_positions = |kinds: &[&str]| -> Vec<usize> {
        kinds
            .iter()
            .filter_map(|k| layers.index().kind_position(k))
            .collect()
    };
    // The checks come first: they also warm the cache for the timed runs.
    let road_check = agreement(
        layers,
        points,
        &kind_positions(ROAD),
        &peer.nearest_sample(ROAD, CHECKED_REPORTS).await?,
    );
    let eligible_check = agreement(
        layers,
        points,
        &kind_positions(ELIGIBLE),
        &peer.nearest_sample(ELIGIBLE, CHECKED_REPORTS).await?,
    );
    let nearest_road_us = peer_nearest_us(peer, ROAD, points.len()).await?;
    let nearest_eligible_us = peer_nearest_us(peer, ELIGIBLE, points.len()).await?;
    let bbox_count = peer.count_in_bbox(bbox).await?;
    let geojson_bbox = peer_geojson(peer, Some(bbox), if quick { 20 } else { 100 }).await?;
    let geojson_city = peer_geojson(peer, None, if quick { 3 } else { 7 }).await?;
    let coverage = peer
        .covered_by_posts(&duty_posts(), COVERAGE_RADIUS_M, if quick { 5 } else { 21 })
        .await?;
    Ok(PeerFigures {
        coverage,
        load,
        reports: points.len(),
        nearest_road_us,
        nearest_eligible_us,
        road_check,
        eligible_check,
        bbox_count,
        geojson_bbox,
        geojson_city,
        throwaway: false,
    })
}

/// Starts (or finds) the database, measures the peer, and tears it all down.
async fn run_peer(
    layers: &Layers,
    points: &[(f64, f64)],
    bbox: BBox,
    quick: bool,
) -> Result<PeerFigures, PeerError> {
    let cluster = Cluster::from_env()?;
    let mut peer = Peer::connect(cluster.url()).await?;
    let measured = measure_peer(&mut peer, layers, points, bbox, quick).await;
    let closed = peer.close().await;
    let throwaway = cluster.is_throwaway();
    drop(cluster);
    let mut figures = measured?;
    closed?;
    figures.throwaway = throwaway;
    Ok(figures)
}

fn describe_check(kinds: &str, a: &Agreement) -> String {
    format!(
        "  check, first {} reports, {kinds}: {} same asset (distances: ≤ {:.1} mm from PostGIS \
         geography, ≤ {:.3} % from PostGIS UTM at ≥ {} m); {} other asset ({} not a tie within \
         {} cm on the ellipsoid, {} beyond {} % + {} cm of the UTM distance); {} unanswered",
        a.compared,
        a.same_asset,
        a.same_max_spheroid_diff_m * 1e3,
        a.same_max_utm_rel * 100.0,
        RELATIVE_FROM_M,
        a.other_asset,
        a.other_not_tied,
        TIE_M * 100.0,
        a.other_beyond_utm_slack,
        UTM_SLACK * 100.0,
        TIE_M * 100.0,
        a.unanswered,
    )
}

/// Reach of a duty post in the coverage benchmark, metres.
const COVERAGE_RADIUS_M: f64 = 300.0;

/// 500 duty posts at random points of synth-20km.
fn duty_posts() -> Vec<(f64, f64)> {
    synth::points(500_500, 500)
}

/// civmap's coverage: intersections within reach of any post; (count, median time).
fn civmap_coverage(layers: &Layers, repeats: usize) -> (usize, Duration) {
    let posts = duty_posts();
    let Some(kind) = layers.index().kind_position("intersection") else {
        return (0, Duration::ZERO);
    };
    let mut covered = vec![false; layers.assets().len()];
    let mut count = 0;
    let samples: Vec<Duration> = (0..repeats)
        .map(|_| {
            let start = Instant::now();
            covered.iter_mut().for_each(|c| *c = false);
            for &(lon, lat) in &posts {
                for hit in layers
                    .index()
                    .within_radius(lon, lat, COVERAGE_RADIUS_M, &[kind])
                {
                    covered[hit.asset] = true;
                }
            }
            count = black_box(covered.iter().filter(|c| **c).count());
            start.elapsed()
        })
        .collect();
    (count, median(samples))
}

/// Runs every benchmark and prints a table.
pub async fn run(quick: bool) -> anyhow::Result<()> {
    let n_points = if quick { 100_000 } else { 1_000_000 };
    println!("civmap bench ({n_points} nearest lookups per case)\n");

    let rss_before = resident_mib();
    let start = Instant::now();
    let assets = synth::city(20_261_122);
    let generated = start.elapsed();
    let n_assets = assets.len();
    let start = Instant::now();
    let layers = Layers::build(Catalogue::builtin(), assets);
    let built = start.elapsed();
    let rss_after = resident_mib();

    let points = synth::points(7, n_points);
    let kind_positions = |kinds: &[&str]| -> Vec<usize> {
        kinds
            .iter()
            .filter_map(|k| layers.index().kind_position(k))
            .collect()
    };
    let all = layers.index().all_kinds();
    let roads = kind_positions(ROAD);
    let eligible = kind_positions(ELIGIBLE);
    let plain_rstar_us = roads
        .first()
        .and_then(|&k| layers.index().tree(k))
        .map(|tree| {
            let projected: Vec<[f64; 2]> = points
                .iter()
                .map(|&(lon, lat)| layers.index().projection().forward(lon, lat))
                .collect();
            let start = Instant::now();
            for q in &projected {
                black_box(tree.nearest_neighbor(q));
            }
            start.elapsed().as_secs_f64() * 1e6 / projected.len() as f64
        });
    let nearest_road_us = nearest_us(&layers, &points, &roads);
    let nearest_eligible_us = nearest_us(&layers, &points, &eligible);
    let nearest_any_us = nearest_us(&layers, &points, &all);

    let centre = synth::plane().inverse([0.0, 0.0]);
    let half = synth::plane().inverse([1_000.0, 1_000.0]);
    let (dlon, dlat) = (half.0 - centre.0, half.1 - centre.1);
    let bbox = BBox {
        min_lon: centre.0 - dlon,
        min_lat: centre.1 - dlat,
        max_lon: centre.0 + dlon,
        max_lat: centre.1 + dlat,
    };
    let in_bbox = LayerQuery {
        bbox: Some(bbox),
        limit: usize::MAX,
        ..Default::default()
    };
    let bbox_count: usize = layers
        .catalogue()
        .kinds
        .iter()
        .filter_map(|k| layers.list(&k.kind, &in_bbox).ok())
        .map(|p| p.number_matched)
        .sum();
    let geojson_bbox = civmap_geojson(&layers, Some(bbox), if quick { 20 } else { 200 });
    let geojson_city = civmap_geojson(&layers, None, if quick { 3 } else { 10 });

    let demo = demo_layers();
    let demo_points: Vec<(f64, f64)> = {
        let mut rng = synth::Rng::new(11);
        (0..n_points)
            .map(|_| (116.62 + rng.unit() * 0.16, 39.47 + rng.unit() * 0.12))
            .collect()
    };
    let demo_nearest_us = nearest_us(&demo, &demo_points, &demo.index().all_kinds());
    let demo_geojson = civmap_geojson(&demo, None, if quick { 5 } else { 50 });

    let coverage = civmap_coverage(&layers, if quick { 5 } else { 21 });

    let peer = run_peer(&layers, &points, bbox, quick).await;
    let peer_ref = peer.as_ref().ok();

    let mut lines = vec![
        Line::civmap_only(
            format!("synth-20km: generate {n_assets} assets"),
            format!("{:.0} ms", generated.as_secs_f64() * 1e3),
            "-",
        ),
        Line {
            task: "synth-20km: load + index (PostGIS: + reports)".into(),
            peer: peer_ref.map(|p| format!("{:.1} s", p.load.as_secs_f64())),
            civmap: format!("{:.0} ms", built.as_secs_f64() * 1e3),
            ratio: None,
            target: "-",
        },
    ];
    if let (Some(a), Some(b)) = (rss_before, rss_after) {
        lines.push(Line::civmap_only(
            "synth-20km: resident memory",
            format!("{b:.0} MiB (+{:.0})", b - a),
            "-",
        ));
    }
    if let Some(us) = plain_rstar_us {
        lines.push(Line::civmap_only(
            "  plain rstar nearest_neighbor, road (plane only)",
            micros(us),
            "-",
        ));
    }
    let nearest_line = |task: &str, civmap_us: f64, peer_us: Option<f64>, target| Line {
        task: task.to_string(),
        peer: peer_us.map(micros),
        civmap: micros(civmap_us),
        ratio: peer_us.map(|p| p / civmap_us),
        target,
    };
    lines.push(nearest_line(
        "nearest asset, one kind (road)",
        nearest_road_us,
        peer_ref.map(|p| p.nearest_road_us),
        "≤ 1 µs",
    ));
    lines.push(nearest_line(
        "nearest eligible asset (road|parking|market)",
        nearest_eligible_us,
        peer_ref.map(|p| p.nearest_eligible_us),
        "≤ 1 µs, ≥ 60×",
    ));
    lines.push(nearest_line(
        "nearest asset, any kind",
        nearest_any_us,
        None,
        "-",
    ));
    let geojson_line = |task: String, ours: Document, theirs: Option<Document>| Line {
        task,
        peer: theirs.map(|d| d.describe()),
        civmap: ours.describe(),
        ratio: theirs.map(|d| d.time.as_secs_f64() / ours.time.as_secs_f64()),
        target: "≥ 500 MB/s, ≥ 8×",
    };
    lines.push(geojson_line(
        format!("GeoJSON, 2 km bbox ({bbox_count} features)"),
        geojson_bbox,
        peer_ref.map(|p| p.geojson_bbox),
    ));
    lines.push(geojson_line(
        format!("GeoJSON, whole city ({n_assets} features)"),
        geojson_city,
        peer_ref.map(|p| p.geojson_city),
    ));
    lines.push(Line {
        task: format!(
            "coverage: intersections ≤ {COVERAGE_RADIUS_M:.0} m of 500 posts ({} covered)",
            coverage.0
        ),
        peer: peer_ref.map(|p| {
            format!(
                "{:.2} ms ({} covered)",
                p.coverage.1.as_secs_f64() * 1e3,
                p.coverage.0
            )
        }),
        civmap: format!("{:.3} ms", coverage.1.as_secs_f64() * 1e3),
        ratio: peer_ref.map(|p| p.coverage.1.as_secs_f64() / coverage.1.as_secs_f64()),
        target: "≥ 40×",
    });
    lines.push(Line::civmap_only(
        format!(
            "demo city ({} assets): nearest, any kind",
            demo.assets().len()
        ),
        micros(demo_nearest_us),
        "-",
    ));
    lines.push(Line::civmap_only(
        "demo city: GeoJSON of every layer",
        demo_geojson.describe(),
        "≥ 500 MB/s",
    ));
    print_table(&lines);
    println!();

    match &peer {
        Ok(p) => {
            println!(
                "PostGIS: PostgreSQL 15 + PostGIS, {}, one backend (no parallel workers), \
                 EPSG:32650, batch KNN over {} reports streamed to the client",
                if p.throwaway {
                    "throwaway cluster on 127.0.0.1"
                } else {
                    "database from CIVMAP_BENCH_DATABASE_URL"
                },
                p.reports
            );
            println!("{}", describe_check("road", &p.road_check));
            println!(
                "{}",
                describe_check("road|parking_zone|market", &p.eligible_check)
            );
            if usize::try_from(p.bbox_count).ok() != Some(bbox_count) {
                println!(
                    "  note: the 2 km bbox holds {} features in PostGIS, {bbox_count} in civmap",
                    p.bbox_count
                );
            }
        }
        Err(e) if e.is_not_installed() => println!(
            "PostGIS peer skipped: {e}. Install it with `bash .ci/postgis install` (or set \
             {} to an existing PostGIS database)",
            postgis::DATABASE_URL_VAR
        ),
        Err(e) => println!("PostGIS peer skipped, it failed: {e}"),
    }
    Ok(())
}

fn demo_layers() -> Layers {
    let catalogue = Catalogue::builtin();
    let mut assets = Vec::new();
    for (kind, collection) in crate::demo::generate().layers {
        if let Some(spec) = catalogue.get(&kind)
            && let Ok(found) = crate::import::assets_from_geojson(&collection.to_string(), spec)
        {
            assets.extend(found);
        }
    }
    Layers::build(catalogue, assets)
}
