//! The PostGIS store itself, on a fresh database per test: migrations, asset upserts with the
//! GeoPackage store's all-or-nothing semantics, the asset version, report writes checked
//! against the stored status, the change feed, and the analysts' views.
//!
//! Needs `CIVMAP_TEST_DATABASE_URL` (see tests/common); skipped without it, except in CI.

mod common;

use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use civmap::crs::InputCrs;
use civmap::model::{Asset, Catalogue};
use civmap::reports::{InputPosition, MatchedAsset, NewReport, Report, Status, Transition};
use civmap::store::postgis::PostgisStore;
use civmap::store::{Store, StoreError};
use common::TestDatabase;
use geo::{Geometry, LineString, Point, Polygon};

/// A fresh database with the built-in catalogue (no assets); `None` when skipped.
async fn fresh_store() -> Option<(TestDatabase, PostgisStore)> {
    let url = common::require_database()?;
    let database = TestDatabase::create(&url).await;
    let store = database.store().await;
    for spec in &Catalogue::builtin().kinds {
        store.put_kind(spec).await.unwrap();
    }
    Some((database, store))
}

fn intersection(id: &str, lon: f64) -> Asset {
    Asset {
        id: id.into(),
        kind: "intersection".into(),
        name: "永兴路与光明道交口".into(),
        district: Some("广阳区".into()),
        unit: Some("交警一大队".into()),
        properties: serde_json::json!({"main": true, "roads": ["永兴路", "光明道"]})
            .as_object()
            .unwrap()
            .clone(),
        geometry: Geometry::Point(Point::new(lon, 39.51)),
    }
}

fn market(id: &str) -> Asset {
    let ring = LineString::from(vec![
        (116.70, 39.52),
        (116.701, 39.52),
        (116.701, 39.521),
        (116.70, 39.521),
        (116.70, 39.52),
    ]);
    Asset {
        id: id.into(),
        kind: "market".into(),
        name: "椿树市场".into(),
        district: Some("广阳区".into()),
        unit: Some("银河北路市场监管所".into()),
        properties: Default::default(),
        geometry: Geometry::Polygon(Polygon::new(ring, vec![])),
    }
}

/// Now, to the microsecond PostgreSQL keeps.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

fn new_report(n: usize) -> NewReport {
    let at = now();
    NewReport {
        category: "litter".into(),
        description: format!("垃圾 {n}"),
        reporter: "暗访组 王".into(),
        observed_at: at,
        reported_at: at,
        lon: 116.7005 + n as f64 * 1e-6,
        lat: 39.5205,
        input: InputPosition {
            crs: InputCrs::Gcj02,
            lon: 116.7065,
            lat: 39.5218,
        },
        asset: Some(MatchedAsset {
            id: "m1".into(),
            kind: "market".into(),
            name: "椿树市场".into(),
            distance_m: 0.0,
        }),
        unit: Some("银河北路市场监管所".into()),
        district: Some("广阳区".into()),
        permitted_zone: None,
        photos: vec!["ab".repeat(32)],
    }
}

fn assign(report: &Report, deadline_hours: i64) -> (Report, Transition) {
    let at = now();
    let mut next = report.clone();
    next.status = Status::Assigned;
    next.deadline_at = Some(at + chrono::Duration::hours(deadline_hours));
    next.updated_at = at;
    let entry = Transition {
        report_id: report.id,
        at,
        actor: "创城办 李".into(),
        from: report.status,
        to: Status::Assigned,
        unit: next.unit.clone(),
        deadline_at: next.deadline_at,
        note: None,
        reason: None,
        photos: vec![],
    };
    (next, entry)
}

#[tokio::test]
async fn migrations_are_applied_once_and_stores_connecting_together_take_turns() {
    let Some(url) = common::require_database() else {
        return;
    };
    let database = TestDatabase::create(&url).await;
    let (a, b, c) = tokio::join!(database.store(), database.store(), database.store());
    drop((a, b, c));
    let client = database.client().await;
    let applied: Vec<(i32, String)> = client
        .query(
            "SELECT version, name FROM civmap_migrations ORDER BY version",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        applied,
        [
            (1, "0001_init".to_string()),
            (2, "0002_duty_posts".to_string()),
            (3, "0003_notify_per_statement".to_string()),
        ]
    );
    let postgis: String = client
        .query_one("SELECT PostGIS_Lib_Version()", &[])
        .await
        .unwrap()
        .get(0);
    assert!(postgis.starts_with('3'), "{postgis}");
}

#[tokio::test]
async fn an_edited_or_newer_schema_is_refused_with_a_reason() {
    let Some(url) = common::require_database() else {
        return;
    };
    let database = TestDatabase::create(&url).await;
    drop(database.store().await);
    let client = database.client().await;
    client
        .batch_execute("UPDATE civmap_migrations SET sha256 = 'x' WHERE version = 1")
        .await
        .unwrap();
    let error = PostgisStore::connect_with(database.config.clone())
        .await
        .err()
        .expect("an edited migration is refused");
    assert!(error.to_string().contains("never be edited"), "{error}");
    client
        .batch_execute(
            "DELETE FROM civmap_migrations WHERE version = 1;
             INSERT INTO civmap_migrations (version, name, sha256) VALUES (99, '0099_future', '')",
        )
        .await
        .unwrap();
    let error = PostgisStore::connect_with(database.config.clone())
        .await
        .err()
        .expect("a newer schema is refused");
    assert!(error.to_string().contains("upgrade civmap"), "{error}");
}

#[tokio::test]
async fn the_catalogue_reads_back_in_order_with_every_field() {
    let Some((_db, store)) = fresh_store().await else {
        return;
    };
    assert_eq!(store.catalogue().await.unwrap(), Catalogue::builtin());
    let mut changed = Catalogue::builtin().require("bus_stop").unwrap().clone();
    changed.snap_radius_m = 12.5;
    changed.colour = "#123456".into();
    store.put_kind(&changed).await.unwrap();
    let catalogue = store.catalogue().await.unwrap();
    assert_eq!(catalogue.require("bus_stop").unwrap(), &changed);
    assert_eq!(catalogue.kinds.len(), Catalogue::builtin().kinds.len());
}

#[tokio::test]
async fn assets_written_are_read_back_and_upsert_replaces_by_id_in_place() {
    let Some((_db, store)) = fresh_store().await else {
        return;
    };
    store
        .upsert_assets(
            "intersection",
            &[intersection("i1", 116.67), intersection("i2", 116.68)],
        )
        .await
        .unwrap();
    store
        .upsert_assets("market", &[market("m1")])
        .await
        .unwrap();
    let mut moved = intersection("i1", 116.70);
    moved.name = "新华路与光明道交口".into();
    assert_eq!(
        store
            .upsert_assets("intersection", &[moved.clone()])
            .await
            .unwrap(),
        1
    );
    let assets = store.load_assets().await.unwrap();
    let ids: Vec<&str> = assets.iter().map(|a| a.id.as_str()).collect();
    // catalogue order (intersection before market), then first-written order
    assert_eq!(ids, ["i1", "i2", "m1"]);
    assert_eq!(assets[0], moved);
    assert_eq!(assets[2], market("m1"));
}

#[tokio::test]
async fn a_bad_asset_or_an_unknown_kind_writes_nothing() {
    let Some((_db, store)) = fresh_store().await else {
        return;
    };
    let version = store.asset_version().await.unwrap();
    let mut bad = intersection("i2", 116.68);
    bad.geometry = Geometry::Point(Point::new(200.0, 39.0));
    assert!(matches!(
        store
            .upsert_assets("intersection", &[intersection("i1", 116.67), bad])
            .await,
        Err(StoreError::Model(_))
    ));
    let unknown = store
        .upsert_assets("castle", &[intersection("i1", 116.67)])
        .await;
    assert!(
        matches!(unknown, Err(StoreError::Model(ref e)) if e.to_string().contains("unknown asset kind")),
        "{unknown:?}"
    );
    assert!(store.load_assets().await.unwrap().is_empty());
    assert_eq!(store.asset_version().await.unwrap(), version);
}

#[tokio::test]
async fn an_id_held_by_another_kind_is_refused_and_the_batch_writes_nothing() {
    let Some((_db, store)) = fresh_store().await else {
        return;
    };
    store
        .upsert_assets("market", &[market("x1")])
        .await
        .unwrap();
    let outcome = store
        .upsert_assets(
            "intersection",
            &[intersection("i1", 116.67), intersection("x1", 116.68)],
        )
        .await;
    match outcome {
        Err(StoreError::IdTakenByOtherKind {
            id,
            kind,
            existing_kind,
        }) => assert_eq!(
            (id.as_str(), kind.as_str(), existing_kind.as_str()),
            ("x1", "intersection", "market")
        ),
        other => panic!("{other:?}"),
    }
    let assets = store.load_assets().await.unwrap();
    assert_eq!(assets, [market("x1")]);
}

#[tokio::test]
async fn any_change_to_assets_grows_the_asset_version_even_one_made_in_sql() {
    let Some((database, store)) = fresh_store().await else {
        return;
    };
    let before = store.asset_version().await.unwrap();
    store
        .upsert_assets("intersection", &[intersection("i1", 116.67)])
        .await
        .unwrap();
    let mine = store.asset_version().await.unwrap();
    assert!(mine > before);
    let other = database.store().await;
    other
        .upsert_assets("intersection", &[intersection("i2", 116.68)])
        .await
        .unwrap();
    let theirs = store.asset_version().await.unwrap();
    assert!(theirs > mine);
    // an analyst editing in QGIS
    database
        .client()
        .await
        .batch_execute("UPDATE assets SET name = '改名' WHERE id = 'i2'")
        .await
        .unwrap();
    assert!(store.asset_version().await.unwrap() > theirs);
}

#[tokio::test]
async fn reports_filed_together_get_growing_ids_and_read_back_as_written() {
    let Some((_db, store)) = fresh_store().await else {
        return;
    };
    let filed: Vec<NewReport> = (0..5).map(new_report).collect();
    let stored = store.insert_reports(filed.clone()).await.unwrap();
    assert_eq!(stored.len(), 5);
    assert!(stored.windows(2).all(|w| w[0].id < w[1].id));
    for (report, new) in stored.iter().zip(&filed) {
        assert_eq!(&report.filed, new);
        assert_eq!(report.status, Status::Reported);
    }
    let (loaded, history) = store.load_reports().await.unwrap();
    assert_eq!(loaded, stored);
    assert!(history.is_empty());
    let (one, trail) = store.load_report(stored[2].id).await.unwrap().unwrap();
    assert_eq!(one, stored[2]);
    assert!(trail.is_empty());
    assert!(store.load_report(999_999).await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_reports_filed_at_once_are_each_acknowledged_with_their_own_id() {
    let Some((_db, store)) = fresh_store().await else {
        return;
    };
    let filings = (0..300).map(|n| {
        let store = store.clone();
        tokio::spawn(async move { store.insert_reports(vec![new_report(n)]).await })
    });
    let mut ids = Vec::new();
    for filing in filings {
        let stored = filing.await.unwrap().unwrap();
        assert_eq!(stored.len(), 1);
        ids.push(stored[0].id);
    }
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 300);
    let (loaded, _) = store.load_reports().await.unwrap();
    assert_eq!(loaded.iter().map(|r| r.id).collect::<Vec<_>>(), ids);
}

#[tokio::test]
async fn a_change_checked_against_a_stale_status_is_a_conflict_and_writes_nothing() {
    let Some((_db, store)) = fresh_store().await else {
        return;
    };
    let report = store
        .insert_reports(vec![new_report(0)])
        .await
        .unwrap()
        .remove(0);
    let (assigned, entry) = assign(&report, 24);
    store
        .save_report(Status::Reported, assigned.clone(), Some(entry.clone()))
        .await
        .unwrap();
    // a second civmap that still believes the report is `reported`
    let (again, again_entry) = assign(&report, 48);
    let outcome = store
        .save_report(Status::Reported, again, Some(again_entry))
        .await;
    assert!(
        matches!(outcome, Err(StoreError::Conflict(_))),
        "{outcome:?}"
    );
    let (stored, trail) = store.load_report(report.id).await.unwrap().unwrap();
    assert_eq!(stored, assigned);
    assert_eq!(trail, [entry]);
}

#[tokio::test]
async fn every_report_write_notifies_civmap_reports_with_its_id() {
    let Some((database, store)) = fresh_store().await else {
        return;
    };
    let (client, mut connection) = database
        .config
        .connect(tokio_postgres::NoTls)
        .await
        .unwrap();
    let (tx, mut notes) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(Ok(message)) = std::future::poll_fn(|cx| connection.poll_message(cx)).await {
            if let tokio_postgres::AsyncMessage::Notification(n) = message {
                let _ = tx.send((n.channel().to_string(), n.payload().to_string()));
            }
        }
    });
    client.batch_execute("LISTEN civmap_reports").await.unwrap();
    let report = store
        .insert_reports(vec![new_report(0)])
        .await
        .unwrap()
        .remove(0);
    let (assigned, entry) = assign(&report, 24);
    store
        .save_report(Status::Reported, assigned, Some(entry))
        .await
        .unwrap();
    let expected = ("civmap_reports".to_string(), report.id.to_string());
    for _ in 0..2 {
        let note = tokio::time::timeout(Duration::from_secs(5), notes.recv())
            .await
            .expect("a notification within 5 s");
        assert_eq!(note, Some(expected.clone()));
    }
}

#[tokio::test]
async fn the_change_feed_names_reports_changed_elsewhere_but_not_by_this_store() {
    let Some((database, store)) = fresh_store().await else {
        return;
    };
    let mut feed = store.report_change_feed().await.unwrap().expect("a feed");
    let mine = store
        .insert_reports(vec![new_report(0)])
        .await
        .unwrap()
        .remove(0);
    let other = database.store().await;
    let theirs = other
        .insert_reports(vec![new_report(1)])
        .await
        .unwrap()
        .remove(0);
    let next = tokio::time::timeout(Duration::from_secs(5), feed.recv()).await;
    assert_eq!(next.unwrap(), Some(theirs.id));
    // an analyst's SQL counts as elsewhere too
    database
        .client()
        .await
        .execute(
            "UPDATE reports SET description = '补充说明' WHERE id = $1",
            &[&mine.id],
        )
        .await
        .unwrap();
    let next = tokio::time::timeout(Duration::from_secs(5), feed.recv()).await;
    assert_eq!(next.unwrap(), Some(mine.id));
    assert!(
        feed.try_recv().is_err(),
        "nothing else was changed elsewhere"
    );
}

#[tokio::test]
async fn the_analysts_views_list_open_and_overdue_problems_and_count_them_by_district() {
    let Some((database, store)) = fresh_store().await else {
        return;
    };
    store
        .upsert_assets("market", &[market("m1")])
        .await
        .unwrap();
    let reports = store
        .insert_reports((0..3).map(new_report).collect())
        .await
        .unwrap();
    // one overdue (deadline passed), one assigned in time, one still reported
    let (overdue, entry) = assign(&reports[0], -2);
    store
        .save_report(Status::Reported, overdue, Some(entry))
        .await
        .unwrap();
    let (in_time, entry) = assign(&reports[1], 24);
    store
        .save_report(Status::Reported, in_time, Some(entry))
        .await
        .unwrap();
    let client = database.client().await;
    let open: Vec<(i64, String, Option<String>, bool)> = client
        .query(
            "SELECT id, status, asset_name, overdue FROM open_problems ORDER BY id",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    let chunshu = Some("椿树市场".to_string());
    assert_eq!(
        open,
        [
            (reports[0].id, "assigned".into(), chunshu.clone(), true),
            (reports[1].id, "assigned".into(), chunshu.clone(), false),
            (reports[2].id, "reported".into(), chunshu, false),
        ]
    );
    let overdue: Vec<i64> = client
        .query("SELECT id FROM overdue_problems", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(overdue, [reports[0].id]);
    let counts: Vec<(String, String, i64)> = client
        .query(
            "SELECT district, status, problems FROM problems_per_district",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(
        counts,
        [
            ("广阳区".into(), "assigned".into(), 2),
            ("广阳区".into(), "reported".into(), 1),
        ]
    );
}
