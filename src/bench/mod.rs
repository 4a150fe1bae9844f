//! `civmap bench`: the workload of shared/BENCHMARKS.md measured on this machine, single thread.
//! Prints each figure beside its target. (The PostGIS side-by-side arrives with the PostGIS
//! backend; the figures here are civmap's own.)

pub mod postgis;
pub mod synth;

use std::hint::black_box;
use std::time::{Duration, Instant};

use crate::layers::{BBox, LayerQuery, Layers};
use crate::model::Catalogue;

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

fn row(task: &str, figure: String, target: &str) {
    println!("{task:<52} {figure:>22}   target {target}");
}

/// Nearest lookups over `points`, ns per lookup (median of 3 passes).
fn nearest_ns(layers: &Layers, points: &[(f64, f64)], kinds: &[usize]) -> f64 {
    let passes: Vec<Duration> = (0..3)
        .map(|_| {
            let start = Instant::now();
            for &(lon, lat) in points {
                black_box(layers.index().nearest(lon, lat, kinds, 1));
            }
            start.elapsed()
        })
        .collect();
    median(passes).as_nanos() as f64 / points.len() as f64
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

fn geojson_row(task: &str, layers: &Layers, bbox: Option<BBox>, repeats: usize, target: &str) {
    let mut bytes = 0;
    let samples: Vec<Duration> = (0..repeats)
        .map(|_| {
            let start = Instant::now();
            bytes = geojson_of(layers, bbox);
            start.elapsed()
        })
        .collect();
    let t = median(samples);
    let mb_s = bytes as f64 / 1e6 / t.as_secs_f64();
    row(
        task,
        format!("{:.2} ms, {:.0} MB/s", t.as_secs_f64() * 1e3, mb_s),
        target,
    );
}

/// Runs every benchmark and prints a table.
pub async fn run(quick: bool) -> anyhow::Result<()> {
    let n_points = if quick { 100_000 } else { 1_000_000 };
    println!("civmap bench ({} nearest lookups per case)\n", n_points);

    let rss_before = resident_mib();
    let start = Instant::now();
    let assets = synth::city(20_261_122);
    let generated = start.elapsed();
    let n_assets = assets.len();
    let start = Instant::now();
    let layers = Layers::build(Catalogue::builtin(), assets);
    let built = start.elapsed();
    row(
        &format!("synth-20km: generate {n_assets} assets"),
        format!("{:.0} ms", generated.as_secs_f64() * 1e3),
        "-",
    );
    row(
        "synth-20km: index + pre-serialise",
        format!("{:.0} ms", built.as_secs_f64() * 1e3),
        "-",
    );
    if let (Some(a), Some(b)) = (rss_before, resident_mib()) {
        row(
            "synth-20km: resident memory",
            format!("{:.0} MiB (+{:.0})", b, b - a),
            "-",
        );
    }

    let points = synth::points(7, n_points);
    let all = layers.index().all_kinds();
    let eligible: Vec<usize> = ["road", "parking_zone", "market"]
        .iter()
        .filter_map(|k| layers.index().kind_position(k))
        .collect();
    let roads: Vec<usize> = layers.index().kind_position("road").into_iter().collect();
    if let Some(tree) = roads.first().and_then(|&k| layers.index().tree(k)) {
        let projected: Vec<[f64; 2]> = points
            .iter()
            .map(|&(lon, lat)| layers.index().projection().forward(lon, lat))
            .collect();
        let start = Instant::now();
        for q in &projected {
            black_box(tree.nearest_neighbor(q));
        }
        row(
            "  plain rstar nearest_neighbor, road (plane only)",
            format!("{:.2} µs", start.elapsed().as_secs_f64() * 1e6 / projected.len() as f64),
            "-",
        );
    }
    row(
        "nearest asset, one kind (road)",
        format!("{:.2} µs", nearest_ns(&layers, &points, &roads) / 1e3),
        "≤ 1 µs",
    );
    row(
        "nearest eligible asset (road|parking|market)",
        format!("{:.2} µs", nearest_ns(&layers, &points, &eligible) / 1e3),
        "≤ 1 µs",
    );
    row(
        "nearest asset, any kind",
        format!("{:.2} µs", nearest_ns(&layers, &points, &all) / 1e3),
        "-",
    );

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
    let count: usize = layers
        .catalogue()
        .kinds
        .iter()
        .filter_map(|k| layers.list(&k.kind, &in_bbox).ok())
        .map(|p| p.number_matched)
        .sum();
    geojson_row(
        &format!("GeoJSON, 2 km bbox ({count} features)"),
        &layers,
        Some(bbox),
        if quick { 20 } else { 200 },
        "≥ 500 MB/s",
    );
    geojson_row(
        &format!("GeoJSON, whole city ({n_assets} features)"),
        &layers,
        None,
        if quick { 3 } else { 10 },
        "≥ 500 MB/s",
    );

    let demo = demo_layers();
    let demo_points: Vec<(f64, f64)> = {
        let mut rng = synth::Rng::new(11);
        (0..n_points)
            .map(|_| (116.62 + rng.unit() * 0.16, 39.47 + rng.unit() * 0.12))
            .collect()
    };
    let demo_all = demo.index().all_kinds();
    row(
        &format!(
            "demo city ({} assets): nearest, any kind",
            demo.assets().len()
        ),
        format!("{:.2} µs", nearest_ns(&demo, &demo_points, &demo_all) / 1e3),
        "-",
    );
    geojson_row(
        "demo city: GeoJSON of every layer",
        &demo,
        None,
        if quick { 5 } else { 50 },
        "≥ 500 MB/s",
    );
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
