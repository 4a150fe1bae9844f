//! Duty posts at intersections (包路口) in PostGIS: one JSON record per post in `duty_posts`
//! and every creation, change and ending in `duty_post_changes`, each write with its audit entry
//! in one statement.

use chrono::{DateTime, Utc};

use super::pg_err;
use super::pool::Conn;
use crate::coverage::{DutyPost, DutyPostChange};
use crate::store::StoreError;

/// $1 record, $2 at, $3 actor; answers the new id.
const INSERT_POST: &str = "
WITH post AS (
  INSERT INTO duty_posts (record, updated_at) VALUES ($1::jsonb, $2::timestamptz) RETURNING id
)
INSERT INTO duty_post_changes (post_id, at, actor, action, record)
SELECT post.id, $2::timestamptz, $3::text, 'created', $1::jsonb FROM post
RETURNING post_id";
/// $1 id, $2 record, $3 at, $4 actor, $5 action; answers nothing when there is no such post.
const UPDATE_POST: &str = "
WITH post AS (
  UPDATE duty_posts SET record = $2::jsonb, updated_at = $3::timestamptz WHERE id = $1
  RETURNING id
)
INSERT INTO duty_post_changes (post_id, at, actor, action, record)
SELECT post.id, $3::timestamptz, $4::text, $5::text, $2::jsonb FROM post
RETURNING post_id";
const LOAD_POSTS: &str = "SELECT id, record FROM duty_posts ORDER BY id";
const LOAD_CHANGES: &str =
    "SELECT at, actor, action, record FROM duty_post_changes WHERE post_id = $1 ORDER BY id";

fn post_from_record(id: i64, record: &serde_json::Value) -> Result<DutyPost, StoreError> {
    DutyPost::from_record(id, record).ok_or_else(|| StoreError::Unreadable {
        doing: format!("reading duty post {id}"),
        what: "record".into(),
    })
}

pub(super) async fn insert(
    conn: &mut Conn,
    post: &DutyPost,
    actor: &str,
    at: DateTime<Utc>,
) -> Result<DutyPost, StoreError> {
    let doing = "adding a duty post";
    let statement = conn.prepared(INSERT_POST).await.map_err(pg_err(doing))?;
    let id: i64 = conn
        .client
        .query_one(&statement, &[&post.to_record(), &at, &actor])
        .await
        .and_then(|row| row.try_get(0))
        .map_err(pg_err(doing))?;
    Ok(DutyPost { id, ..post.clone() })
}

pub(super) async fn update(
    conn: &mut Conn,
    post: &DutyPost,
    action: &str,
    actor: &str,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let doing = || format!("changing duty post {}", post.id);
    let statement = conn.prepared(UPDATE_POST).await.map_err(pg_err(doing()))?;
    let written = conn
        .client
        .query_opt(
            &statement,
            &[&post.id, &post.to_record(), &at, &actor, &action],
        )
        .await
        .map_err(pg_err(doing()))?;
    match written {
        Some(_) => Ok(()),
        None => Err(StoreError::Conflict(format!("no duty post {}", post.id))),
    }
}

pub(super) async fn load(conn: &mut Conn) -> Result<Vec<DutyPost>, StoreError> {
    let doing = "reading duty posts";
    let statement = conn.prepared(LOAD_POSTS).await.map_err(pg_err(doing))?;
    let rows = conn
        .client
        .query(&statement, &[])
        .await
        .map_err(pg_err(doing))?;
    rows.iter()
        .map(|row| {
            let id: i64 = row.try_get(0).map_err(pg_err(doing))?;
            let record: serde_json::Value = row.try_get(1).map_err(pg_err(doing))?;
            post_from_record(id, &record)
        })
        .collect()
}

pub(super) async fn changes(conn: &mut Conn, id: i64) -> Result<Vec<DutyPostChange>, StoreError> {
    let doing = || format!("reading the history of duty post {id}");
    let statement = conn.prepared(LOAD_CHANGES).await.map_err(pg_err(doing()))?;
    let rows = conn
        .client
        .query(&statement, &[&id])
        .await
        .map_err(pg_err(doing()))?;
    rows.iter()
        .map(|row| {
            let record: serde_json::Value = row.try_get(3).map_err(pg_err(doing()))?;
            Ok(DutyPostChange {
                post_id: id,
                at: row.try_get(0).map_err(pg_err(doing()))?,
                actor: row.try_get(1).map_err(pg_err(doing()))?,
                action: row.try_get(2).map_err(pg_err(doing()))?,
                post: post_from_record(id, &record)?,
            })
        })
        .collect()
}
