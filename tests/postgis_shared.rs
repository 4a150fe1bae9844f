//! Two civmaps sharing one PostGIS database, each with its own connection pool, router, report
//! change feed and asset watch (as two `civmap serve` processes would be): what is filed,
//! changed or imported through one is shown by the other within seconds.
//!
//! Needs `CIVMAP_TEST_DATABASE_URL` (see tests/common); skipped without it, except in CI.

mod common;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use civmap::model::Asset;
use civmap::service::{City, CityOptions, spawn_asset_watch};
use common::{Reply, TestDatabase, get, post_json};
use serde_json::{Value, json};

/// How long the other civmap may take to show a change.
const WITHIN: Duration = Duration::from_secs(5);

struct Civmap {
    city: Arc<City>,
    router: Router,
}

struct Pair {
    _database: TestDatabase,
    _dir: tempfile::TempDir,
    one: Civmap,
    other: Civmap,
}

async fn civmap(database: &TestDatabase, dir: &tempfile::TempDir, name: &str) -> Civmap {
    let options = CityOptions {
        reports: Default::default(),
        photo_dir: dir.path().join(name).join("photos"),
        max_photo_bytes: 64 << 10,
    };
    let (city, router) = common::open_postgis_city(database.store().await, options).await;
    spawn_asset_watch(Arc::clone(&city), Duration::from_millis(200));
    Civmap { city, router }
}

/// Two civmaps on one fresh database with the demo city; `None` when the tests are skipped.
async fn two_civmaps() -> Option<Pair> {
    let url = common::require_database()?;
    let database = TestDatabase::create(&url).await;
    let dir = tempfile::tempdir().unwrap();
    let one = civmap(&database, &dir, "one").await;
    let other = civmap(&database, &dir, "other").await;
    Some(Pair {
        _database: database,
        _dir: dir,
        one,
        other,
    })
}

/// GETs `uri` until `done` holds for the reply, for at most [`WITHIN`].
async fn eventually(router: &Router, uri: &str, done: impl Fn(&Reply) -> bool) -> Reply {
    let deadline = tokio::time::Instant::now() + WITHIN;
    loop {
        let reply = get(router, uri).await;
        if done(&reply) || tokio::time::Instant::now() > deadline {
            return reply;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The centre of 椿树市场, a point every civmap matches to the market.
async fn chunshu(router: &Router) -> (f64, f64) {
    let market = get(router, "/api/layers/market?q=椿树市场").await.body["features"][0].clone();
    let ring = market["geometry"]["coordinates"][0].as_array().unwrap();
    let n = (ring.len() - 1) as f64;
    let (x, y) = ring[..ring.len() - 1].iter().fold((0.0, 0.0), |acc, c| {
        (
            acc.0 + c[0].as_f64().unwrap(),
            acc.1 + c[1].as_f64().unwrap(),
        )
    });
    (x / n, y / n)
}

async fn file_litter(civmap: &Civmap) -> Value {
    let (lon, lat) = chunshu(&civmap.router).await;
    let reply = post_json(
        &civmap.router,
        "/api/reports",
        &json!({"lon": lon, "lat": lat, "category": "litter", "reporter": "暗访组 王", "description": "市场门口垃圾"}),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.body
}

async fn change(civmap: &Civmap, id: i64, body: Value) -> Reply {
    post_json(
        &civmap.router,
        &format!("/api/reports/{id}/transitions"),
        &body,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_filed_through_one_civmap_is_shown_by_the_other() {
    let Some(pair) = two_civmaps().await else {
        return;
    };
    let filed = file_litter(&pair.one).await;
    let id = filed["id"].as_i64().unwrap();
    let seen = eventually(&pair.other.router, &format!("/api/reports/{id}"), |r| {
        r.status == 200
    })
    .await;
    assert_eq!(seen.status, 200, "{}", seen.body);
    assert_eq!(seen.body["properties"]["status"], "reported");
    assert_eq!(seen.body["properties"]["category"], "litter");
    assert_eq!(seen.body["properties"]["asset"]["id"], filed["asset"]["id"]);
    assert_eq!(seen.body["properties"]["unit"], filed["unit"]);
    let position = &seen.body["geometry"]["coordinates"];
    assert_eq!(position[0], filed["position"]["lon"]);
    assert_eq!(position[1], filed["position"]["lat"]);
    // and it counts in the other's listing
    let listed = get(&pair.other.router, "/api/reports?limit=1").await;
    assert_eq!(listed.body["numberMatched"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_made_through_either_civmap_is_shown_by_the_other_with_its_audit_trail() {
    let Some(pair) = two_civmaps().await else {
        return;
    };
    let id = file_litter(&pair.one).await["id"].as_i64().unwrap();
    let uri = format!("/api/reports/{id}");
    eventually(&pair.other.router, &uri, |r| r.status == 200).await;

    // assigned through the other...
    let reply = change(
        &pair.other,
        id,
        json!({"to": "assigned", "actor": "创城办 李"}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let seen = eventually(&pair.one.router, &uri, |r| {
        r.body["properties"]["status"] == "assigned"
    })
    .await;
    assert_eq!(
        seen.body["properties"]["status"], "assigned",
        "{}",
        seen.body
    );
    let history = seen.body["properties"]["history"].as_array().unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0]["actor"], "创城办 李");

    // ...rectified through the one that filed it...
    let reply = change(
        &pair.one,
        id,
        json!({"to": "rectified", "actor": "市场监管所 张", "note": "已清理"}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let seen = eventually(&pair.other.router, &uri, |r| {
        r.body["properties"]["status"] == "rectified"
    })
    .await;
    assert_eq!(
        seen.body["properties"]["status"], "rectified",
        "{}",
        seen.body
    );
    assert_eq!(
        seen.body["properties"]["history"].as_array().unwrap().len(),
        2
    );
    assert_eq!(seen.body["properties"]["history"][1]["note"], "已清理");

    // ...and both agree on the whole story (times to the microsecond PostgreSQL keeps).
    let mine = get(&pair.one.router, &uri).await.body;
    let story = |body: &Value| -> Vec<Value> {
        let entries = body["properties"]["history"].as_array().unwrap();
        entries
            .iter()
            .map(|e| {
                let at = e["at"].as_str().unwrap();
                json!([e["from"], e["to"], e["actor"], e["note"], &at[..26]])
            })
            .collect()
    };
    assert_eq!(story(&mine), story(&seen.body));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_from_a_stale_civmap_is_a_conflict_that_changes_nothing() {
    let Some(pair) = two_civmaps().await else {
        return;
    };
    let id = file_litter(&pair.one).await["id"].as_i64().unwrap();
    let uri = format!("/api/reports/{id}");
    eventually(&pair.other.router, &uri, |r| r.status == 200).await;
    // Both hold the report as `reported`; the one closes it as invalid, and the other's assign,
    // checked against the stored status, is refused whether or not it has heard yet.
    let reply = change(
        &pair.one,
        id,
        json!({"to": "closed", "actor": "创城办 李", "reason": "invalid", "note": "不是问题"}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let reply = change(&pair.other, id, json!({"to": "assigned", "actor": "x"})).await;
    assert_eq!(reply.status, 409, "{}", reply.body);
    let seen = eventually(&pair.other.router, &uri, |r| {
        r.body["properties"]["status"] == "closed"
    })
    .await;
    assert_eq!(seen.body["properties"]["status"], "closed");
    assert_eq!(
        seen.body["properties"]["history"].as_array().unwrap().len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_asset_import_through_one_civmap_appears_in_the_others_layers() {
    let Some(pair) = two_civmaps().await else {
        return;
    };
    let count = |reply: &Reply| {
        reply.body["layers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["kind"] == "bus_stop")
            .and_then(|l| l["count"].as_u64())
            .unwrap()
    };
    let before = count(&get(&pair.other.router, "/api/layers").await);
    let (lon, lat) = chunshu(&pair.one.router).await;
    let stop = Asset {
        id: "bus_stop-shared-1".into(),
        kind: "bus_stop".into(),
        name: "椿树市场站".into(),
        district: Some("广阳区".into()),
        unit: Some("公交公司".into()),
        properties: Default::default(),
        geometry: geo::Geometry::Point(geo::Point::new(lon + 0.0005, lat)),
    };
    pair.one.city.upsert("bus_stop", &[stop]).await.unwrap();
    let seen = eventually(&pair.other.router, "/api/layers", |r| {
        count(r) == before + 1
    })
    .await;
    assert_eq!(count(&seen), before + 1);
    let asset = get(&pair.other.router, "/api/assets/bus_stop-shared-1").await;
    assert_eq!(asset.status, 200, "{}", asset.body);
    assert_eq!(asset.body["properties"]["name"], "椿树市场站");
    assert!(
        pair.other
            .city
            .layers()
            .asset("bus_stop-shared-1")
            .is_some()
    );
}
