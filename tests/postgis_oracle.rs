//! PostGIS as the oracle of civmap's spatial index: for 10,000 random points over the demo city,
//! the nearest asset of every kind that civmap's in-memory index finds is the one PostGIS
//! geography finds (up to ties within 1 cm), at the same distance (within 0.1 % or 0.5 m).
//!
//! Needs `CIVMAP_TEST_DATABASE_URL` (see tests/common); skipped without it, except in CI.

mod common;

use std::collections::HashMap;

use civmap::service::CityOptions;

/// The test database's extra index: GiST over (kind, geography), so that a nearest-of-one-kind
/// query walks only that kind's assets (btree_gist ships with PostgreSQL).
const KIND_GEOGRAPHY_INDEX: &str = "
CREATE EXTENSION IF NOT EXISTS btree_gist;
CREATE INDEX assets_kind_geog ON assets USING gist (kind, (geom::geography));
ANALYZE assets";

/// PostGIS's answer for each (point, kind): the assets nearest on the sphere (geography KNN),
/// each with its `ST_Distance` on the WGS84 spheroid, by which the test re-ranks them. One round
/// trip per batch of points.
const CANDIDATES: &str = "
SELECT q.n, k.kind, c.id, c.distance_m
FROM unnest($1::float8[], $2::float8[]) WITH ORDINALITY AS q (lon, lat, n)
CROSS JOIN unnest($3::text[]) AS k (kind)
CROSS JOIN LATERAL (
  SELECT a.id,
         ST_Distance(a.geom::geography, ST_SetSRID(ST_MakePoint(q.lon, q.lat), 4326)::geography)
           AS distance_m
  FROM assets a
  WHERE a.kind = k.kind
  ORDER BY a.geom::geography <-> ST_SetSRID(ST_MakePoint(q.lon, q.lat), 4326)::geography
  LIMIT 8
) c";

const POINTS: usize = 10_000;
const BATCH: usize = 2_000;
/// Assets this much farther than the nearest are still ties.
const TIE_M: f64 = 0.01;

/// splitmix64: a small deterministic generator, so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next_f64(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A batch number and, for each (point in the batch, kind), PostGIS's candidates (id, metres).
type Candidates = (usize, HashMap<(usize, String), Vec<(String, f64)>>);

/// PostGIS's candidates for the batches `first, first + 2, ...`, on a connection of its own.
async fn postgis_candidates(
    database: &common::TestDatabase,
    batches: &[&[(f64, f64)]],
    first: usize,
    kinds: &[String],
) -> Vec<Candidates> {
    let client = database.client().await;
    let statement = client.prepare(CANDIDATES).await.unwrap();
    let mut answers = Vec::new();
    for batch_no in (first..batches.len()).step_by(2) {
        let lons: Vec<f64> = batches[batch_no].iter().map(|p| p.0).collect();
        let lats: Vec<f64> = batches[batch_no].iter().map(|p| p.1).collect();
        let mut candidates: HashMap<(usize, String), Vec<(String, f64)>> = HashMap::new();
        for row in client
            .query(&statement, &[&lons, &lats, &kinds])
            .await
            .unwrap()
        {
            let n: i64 = row.get(0);
            candidates
                .entry((n as usize - 1, row.get(1)))
                .or_default()
                .push((row.get(2), row.get(3)));
        }
        answers.push((batch_no, candidates));
    }
    answers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_nearest_asset_of_every_kind_is_the_one_postgis_geography_finds() {
    let Some(url) = common::require_database() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let database = common::TestDatabase::create(&url).await;
    let options = CityOptions {
        reports: Default::default(),
        photo_dir: dir.path().join("photos"),
        max_photo_bytes: 1 << 16,
    };
    let (city, _router) = common::open_postgis_city(database.store().await, options).await;
    let layers = city.layers();
    let kinds: Vec<String> = layers
        .summaries()
        .into_iter()
        .filter(|s| s.count > 0)
        .map(|s| s.kind)
        .collect();
    assert!(kinds.len() >= 7, "demo kinds: {kinds:?}");

    // the demo city's extent, and a margin around it
    let (mut min_lon, mut min_lat, mut max_lon, mut max_lat) = (180.0, 90.0, -180.0, -90.0);
    for asset in layers.assets() {
        let rect = asset.bbox().unwrap();
        min_lon = f64::min(min_lon, rect.min().x);
        min_lat = f64::min(min_lat, rect.min().y);
        max_lon = f64::max(max_lon, rect.max().x);
        max_lat = f64::max(max_lat, rect.max().y);
    }
    let margin = 0.01;
    let mut rng = Rng(20261122);
    let points: Vec<(f64, f64)> = (0..POINTS)
        .map(|_| {
            (
                min_lon - margin + rng.next_f64() * (max_lon - min_lon + 2.0 * margin),
                min_lat - margin + rng.next_f64() * (max_lat - min_lat + 2.0 * margin),
            )
        })
        .collect();

    database
        .client()
        .await
        .batch_execute(KIND_GEOGRAPHY_INDEX)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    // Two connections, each asking for every other batch, so both cores work.
    let batches: Vec<&[(f64, f64)]> = points.chunks(BATCH).collect();
    let (even, odd) = tokio::join!(
        postgis_candidates(&database, &batches, 0, &kinds),
        postgis_candidates(&database, &batches, 1, &kinds)
    );
    let mut answers: Vec<Candidates> = even.into_iter().chain(odd).collect();
    answers.sort_by_key(|(batch_no, _)| *batch_no);
    let postgis_s = started.elapsed().as_secs_f64();
    let (mut compared, mut worst_m, mut worst_rel) = (0usize, 0.0f64, 0.0f64);
    let (mut worst, mut worst_rel_case) = (String::new(), String::new());
    let mut failures = Vec::new();
    for (batch_no, candidates) in &answers {
        let batch = batches[*batch_no];
        for (i, &(lon, lat)) in batch.iter().enumerate() {
            for kind in &kinds {
                let hit = layers
                    .nearest(lon, lat, std::slice::from_ref(kind), 1)
                    .unwrap()[0];
                let ours = &layers.assets()[hit.asset].id;
                let theirs = &candidates[&(i, kind.clone())];
                let nearest_m = theirs.iter().map(|c| c.1).fold(f64::INFINITY, f64::min);
                let point = batch_no * BATCH + i;
                match theirs.iter().find(|c| &c.0 == ours) {
                    Some((_, their_m)) if *their_m <= nearest_m + TIE_M => {
                        let off_m = (hit.distance_m - their_m).abs();
                        if off_m > worst_m {
                            worst_m = off_m;
                            worst = format!("{kind} {ours} from ({lon:.6}, {lat:.6}): civmap {:.3} m, PostGIS {their_m:.3} m", hit.distance_m);
                        }
                        if *their_m > 1.0 && off_m / their_m > worst_rel {
                            worst_rel = off_m / their_m;
                            worst_rel_case = format!("{kind} {ours} from ({lon:.6}, {lat:.6}): civmap {:.3} m, PostGIS {their_m:.3} m", hit.distance_m);
                        }
                        if off_m > 0.5 && off_m > their_m * 1e-3 {
                            failures.push(format!(
                                "point {point} ({lon:.6}, {lat:.6}) {kind}: {ours} at {:.3} m, PostGIS {their_m:.3} m",
                                hit.distance_m
                            ));
                        }
                    }
                    _ => failures.push(format!(
                        "point {point} ({lon:.6}, {lat:.6}) {kind}: civmap says {ours} at {:.3} m, PostGIS {theirs:?}",
                        hit.distance_m
                    )),
                }
                compared += 1;
            }
        }
    }
    eprintln!(
        "compared {compared} nearest-per-kind answers (PostGIS took {postgis_s:.1} s); largest disagreement {worst_m:.4} m ({worst}); largest relative beyond 1 m {:.4} % ({worst_rel_case})",
        worst_rel * 100.0
    );
    assert!(
        failures.is_empty(),
        "{} of {compared} answers differ from PostGIS, e.g.:\n{}",
        failures.len(),
        failures[..failures.len().min(20)].join("\n")
    );
}
