//! Reports and their audit trail in PostGIS: the group committer that files them, lifecycle
//! writes checked against the stored status, reads, and the `LISTEN civmap_reports` feed.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio_postgres::types::ToSql;
use tokio_postgres::{AsyncMessage, Client, Config, IsolationLevel, Notification, Row};

use super::pool::{Conn, OwnPids, Pool};
use super::{REPORTS_CHANNEL, pg_err};
use crate::crs::InputCrs;
use crate::reports::{
    CloseReason, InputPosition, MatchedAsset, NewReport, Report, Status, Transition,
};
use crate::store::StoreError;

const INSERT_REPORTS: &str = include_str!("insert_reports.sql");
const SAVE_REPORT: &str = include_str!("save_report.sql");

macro_rules! select_reports {
    () => {
        "SELECT id, category, description, reporter, observed_at, reported_at, status, asset_id, \
         asset_kind, asset_name, distance_m, matched_unit, unit, district, deadline_at, \
         permitted_zone, duplicate_of, close_reason, photos, input_crs, input_lon, input_lat, \
         updated_at, closed_at, ST_X(geom), ST_Y(geom) FROM reports"
    };
}
macro_rules! select_transitions {
    () => {
        "SELECT report_id, at, actor, from_status, to_status, unit, deadline_at, note, reason, \
         photos FROM report_transitions"
    };
}
const LOAD_REPORTS: &str = concat!(select_reports!(), " ORDER BY id");
const LOAD_TRANSITIONS: &str = concat!(select_transitions!(), " ORDER BY id");
const LOAD_REPORT: &str = concat!(select_reports!(), " WHERE id = $1");
const LOAD_REPORT_TRANSITIONS: &str =
    concat!(select_transitions!(), " WHERE report_id = $1 ORDER BY id");

/// Most reports written by one statement.
const MAX_BATCH_REPORTS: usize = 2000;
/// Batches being written at once (one waits for its WAL flush while the next is sent).
const BATCHES_IN_FLIGHT: usize = 2;

/// Reports to file, and where to answer.
pub(super) struct FileJob {
    pub reports: Vec<NewReport>,
    pub reply: oneshot::Sender<Result<Vec<Report>, StoreError>>,
}

/// Starts the group committer: it takes whatever jobs have queued, files them with one
/// statement, and answers each job once that statement has committed.
pub(super) fn spawn_filer(pool: Arc<Pool>) -> mpsc::UnboundedSender<FileJob> {
    let (tx, mut rx) = mpsc::unbounded_channel::<FileJob>();
    tokio::spawn(async move {
        let slots = Arc::new(Semaphore::new(BATCHES_IN_FLIGHT));
        while let Some(first) = rx.recv().await {
            // While every slot is busy, more jobs queue up and join this batch.
            let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
                break;
            };
            let mut rows = first.reports.len();
            let mut group = vec![first];
            while rows < MAX_BATCH_REPORTS {
                match rx.try_recv() {
                    Ok(job) => {
                        rows += job.reports.len();
                        group.push(job);
                    }
                    Err(_) => break,
                }
            }
            let pool = Arc::clone(&pool);
            tokio::spawn(async move {
                file_group(&pool, group).await;
                drop(slot);
            });
        }
    });
    tx
}

/// Files a group of jobs in one statement; if that fails, files each job on its own so that one
/// bad job fails alone.
async fn file_group(pool: &Pool, group: Vec<FileJob>) {
    let all: Vec<&NewReport> = group.iter().flat_map(|j| &j.reports).collect();
    let outcome = match pool.get().await {
        Ok(mut conn) => insert(&mut conn, &all).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok(ids) => {
            let mut ids = ids.into_iter();
            for job in group {
                let stored = job
                    .reports
                    .into_iter()
                    .zip(ids.by_ref())
                    .map(|(filed, id)| Report::new(id, filed))
                    .collect();
                let _ = job.reply.send(Ok(stored));
            }
        }
        Err(error) if group.len() == 1 => {
            let _ = group
                .into_iter()
                .next()
                .map(|job| job.reply.send(Err(error)));
        }
        Err(error) => {
            tracing::warn!(%error, jobs = group.len(), "a report batch failed: filing its jobs one by one");
            for job in group {
                let reports: Vec<&NewReport> = job.reports.iter().collect();
                let outcome = match pool.get().await {
                    Ok(mut conn) => insert(&mut conn, &reports).await,
                    Err(e) => Err(e),
                };
                let answer = outcome.map(|ids| {
                    job.reports
                        .iter()
                        .cloned()
                        .zip(ids)
                        .map(|(filed, id)| Report::new(id, filed))
                        .collect()
                });
                let _ = job.reply.send(answer);
            }
        }
    }
}

fn crs_text(crs: InputCrs) -> &'static str {
    match crs {
        InputCrs::Wgs84 => "wgs84",
        InputCrs::Gcj02 => "gcj02",
        InputCrs::Bd09 => "bd09",
    }
}

fn photos_json(photos: &[String]) -> serde_json::Value {
    serde_json::Value::Array(
        photos
            .iter()
            .cloned()
            .map(serde_json::Value::from)
            .collect(),
    )
}

/// One field of every report, as the array bound to one parameter.
fn column<'a, T>(reports: &[&'a NewReport], field: impl Fn(&'a NewReport) -> T) -> Vec<T> {
    reports.iter().map(|&r| field(r)).collect()
}

/// Inserts `reports` with one statement; their new ids, in order.
async fn insert(conn: &mut Conn, reports: &[&NewReport]) -> Result<Vec<i64>, StoreError> {
    let doing = || format!("filing {} reports", reports.len());
    let lon = column(reports, |r| r.lon);
    let lat = column(reports, |r| r.lat);
    let category = column(reports, |r| r.category.as_str());
    let description = column(reports, |r| r.description.as_str());
    let reporter = column(reports, |r| r.reporter.as_str());
    let observed_at = column(reports, |r| r.observed_at);
    let reported_at = column(reports, |r| r.reported_at);
    let asset_id = column(reports, |r| r.asset.as_ref().map(|a| a.id.as_str()));
    let asset_kind = column(reports, |r| r.asset.as_ref().map(|a| a.kind.as_str()));
    let asset_name = column(reports, |r| r.asset.as_ref().map(|a| a.name.as_str()));
    let distance_m = column(reports, |r| r.asset.as_ref().map(|a| a.distance_m));
    let matched_unit = column(reports, |r| r.unit.as_deref());
    let district = column(reports, |r| r.district.as_deref());
    let permitted_zone = column(reports, |r| r.permitted_zone.as_deref());
    let photos = column(reports, |r| photos_json(&r.photos));
    let input_crs = column(reports, |r| crs_text(r.input.crs));
    let input_lon = column(reports, |r| r.input.lon);
    let input_lat = column(reports, |r| r.input.lat);
    let params: [&(dyn ToSql + Sync); 18] = [
        &lon,
        &lat,
        &category,
        &description,
        &reporter,
        &observed_at,
        &reported_at,
        &asset_id,
        &asset_kind,
        &asset_name,
        &distance_m,
        &matched_unit,
        &district,
        &permitted_zone,
        &photos,
        &input_crs,
        &input_lon,
        &input_lat,
    ];
    let statement = conn
        .prepared(INSERT_REPORTS)
        .await
        .map_err(pg_err(doing()))?;
    let rows = conn
        .client
        .query(&statement, &params)
        .await
        .map_err(pg_err(doing()))?;
    if rows.len() != reports.len() {
        return Err(StoreError::Task(format!(
            "filing {} reports stored {}",
            reports.len(),
            rows.len()
        )));
    }
    rows.iter()
        .map(|row| row.try_get::<_, i64>(1))
        .collect::<Result<_, _>>()
        .map_err(pg_err(doing()))
}

/// Writes `report`'s new state and its audit entry if the stored status is still `expected`.
pub(super) async fn save(
    conn: &mut Conn,
    expected: Status,
    report: &Report,
    entry: Option<&Transition>,
) -> Result<(), StoreError> {
    let doing = || format!("updating report {}", report.id);
    let filed = &report.filed;
    let asset = filed.asset.as_ref();
    let no_photos = Vec::new();
    let params: [&(dyn ToSql + Sync); 26] = [
        &report.id,
        &expected.as_str(),
        &report.status.as_str(),
        &asset.map(|a| a.id.as_str()),
        &asset.map(|a| a.kind.as_str()),
        &asset.map(|a| a.name.as_str()),
        &asset.map(|a| a.distance_m),
        &filed.unit,
        &report.unit,
        &filed.district,
        &report.deadline_at,
        &filed.permitted_zone,
        &report.duplicate_of,
        &report.close_reason.map(|r| r.as_str()),
        &report.updated_at,
        &report.closed_at,
        &entry.is_some(),
        &entry.map(|t| t.at),
        &entry.map(|t| t.actor.as_str()),
        &entry.map(|t| t.from.as_str()),
        &entry.map(|t| t.to.as_str()),
        &entry.and_then(|t| t.unit.as_deref()),
        &entry.and_then(|t| t.deadline_at),
        &entry.and_then(|t| t.note.as_deref()),
        &entry.and_then(|t| t.reason.map(|r| r.as_str())),
        &photos_json(entry.map_or(&no_photos, |t| &t.photos)),
    ];
    let statement = conn.prepared(SAVE_REPORT).await.map_err(pg_err(doing()))?;
    let written: i64 = conn
        .client
        .query_one(&statement, &params)
        .await
        .and_then(|row| row.try_get(0))
        .map_err(pg_err(doing()))?;
    if written == 0 {
        return Err(StoreError::Conflict(format!(
            "report {} is no longer {}: it was changed meanwhile",
            report.id,
            expected.as_str()
        )));
    }
    Ok(())
}

fn unreadable(id: i64, what: &str) -> StoreError {
    StoreError::Unreadable {
        doing: format!("reading report {id}"),
        what: what.to_string(),
    }
}

fn photos_from(value: serde_json::Value) -> Vec<String> {
    serde_json::from_value(value).unwrap_or_default()
}

fn report_from_row(row: &Row) -> Result<Report, StoreError> {
    let id: i64 = row.try_get(0).map_err(pg_err("reading a report"))?;
    let get_err = move |e| StoreError::Postgres {
        doing: format!("reading report {id}"),
        source: e,
    };
    let status: String = row.try_get(6).map_err(get_err)?;
    let crs: String = row.try_get(19).map_err(get_err)?;
    let asset = match row.try_get::<_, Option<String>>(7).map_err(get_err)? {
        Some(asset_id) => Some(MatchedAsset {
            id: asset_id,
            kind: row
                .try_get::<_, Option<String>>(8)
                .map_err(get_err)?
                .unwrap_or_default(),
            name: row
                .try_get::<_, Option<String>>(9)
                .map_err(get_err)?
                .unwrap_or_default(),
            distance_m: row
                .try_get::<_, Option<f64>>(10)
                .map_err(get_err)?
                .unwrap_or(0.0),
        }),
        None => None,
    };
    let close_reason = row
        .try_get::<_, Option<String>>(17)
        .map_err(get_err)?
        .map(|r| CloseReason::parse(&r).ok_or_else(|| unreadable(id, "close reason")))
        .transpose()?;
    let filed = NewReport {
        category: row.try_get(1).map_err(get_err)?,
        description: row.try_get(2).map_err(get_err)?,
        reporter: row.try_get(3).map_err(get_err)?,
        observed_at: row.try_get(4).map_err(get_err)?,
        reported_at: row.try_get(5).map_err(get_err)?,
        lon: row.try_get(24).map_err(get_err)?,
        lat: row.try_get(25).map_err(get_err)?,
        input: InputPosition {
            crs: InputCrs::parse(&crs).ok_or_else(|| unreadable(id, "input crs"))?,
            lon: row.try_get(20).map_err(get_err)?,
            lat: row.try_get(21).map_err(get_err)?,
        },
        asset,
        unit: row.try_get(11).map_err(get_err)?,
        district: row.try_get(13).map_err(get_err)?,
        permitted_zone: row.try_get(15).map_err(get_err)?,
        photos: photos_from(row.try_get(18).map_err(get_err)?),
    };
    Ok(Report {
        id,
        status: Status::parse(&status).ok_or_else(|| unreadable(id, "status"))?,
        unit: row.try_get(12).map_err(get_err)?,
        deadline_at: row.try_get(14).map_err(get_err)?,
        duplicate_of: row.try_get(16).map_err(get_err)?,
        close_reason,
        updated_at: row.try_get(22).map_err(get_err)?,
        closed_at: row.try_get(23).map_err(get_err)?,
        filed,
    })
}

fn transition_from_row(row: &Row) -> Result<Transition, StoreError> {
    let report_id: i64 = row.try_get(0).map_err(pg_err("reading the audit trail"))?;
    let get_err = move |e| StoreError::Postgres {
        doing: format!("reading the audit trail of report {report_id}"),
        source: e,
    };
    let status = |n: usize| -> Result<Status, StoreError> {
        let text: String = row.try_get(n).map_err(get_err)?;
        Status::parse(&text).ok_or_else(|| unreadable(report_id, "audit trail status"))
    };
    Ok(Transition {
        report_id,
        at: row.try_get(1).map_err(get_err)?,
        actor: row.try_get(2).map_err(get_err)?,
        from: status(3)?,
        to: status(4)?,
        unit: row.try_get(5).map_err(get_err)?,
        deadline_at: row.try_get(6).map_err(get_err)?,
        note: row.try_get(7).map_err(get_err)?,
        reason: row
            .try_get::<_, Option<String>>(8)
            .map_err(get_err)?
            .map(|r| CloseReason::parse(&r).ok_or_else(|| unreadable(report_id, "audit reason")))
            .transpose()?,
        photos: photos_from(row.try_get(9).map_err(get_err)?),
    })
}

/// Every report and audit entry, oldest first, from one snapshot.
pub(super) async fn load_all(
    conn: &mut Conn,
) -> Result<(Vec<Report>, Vec<Transition>), StoreError> {
    let doing = "reading reports";
    let reports_sql = conn.prepared(LOAD_REPORTS).await.map_err(pg_err(doing))?;
    let transitions_sql = conn
        .prepared(LOAD_TRANSITIONS)
        .await
        .map_err(pg_err(doing))?;
    let tx = conn
        .client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .map_err(pg_err(doing))?;
    let report_rows = tx.query(&reports_sql, &[]).await.map_err(pg_err(doing))?;
    let transition_rows = tx
        .query(&transitions_sql, &[])
        .await
        .map_err(pg_err(doing))?;
    tx.commit().await.map_err(pg_err(doing))?;
    let reports = report_rows
        .iter()
        .map(report_from_row)
        .collect::<Result<_, _>>()?;
    let transitions = transition_rows
        .iter()
        .map(transition_from_row)
        .collect::<Result<_, _>>()?;
    Ok((reports, transitions))
}

/// One report and its audit trail, from one snapshot.
pub(super) async fn load_one(
    conn: &mut Conn,
    id: i64,
) -> Result<Option<(Report, Vec<Transition>)>, StoreError> {
    let doing = || format!("reading report {id}");
    let report_sql = conn.prepared(LOAD_REPORT).await.map_err(pg_err(doing()))?;
    let transitions_sql = conn
        .prepared(LOAD_REPORT_TRANSITIONS)
        .await
        .map_err(pg_err(doing()))?;
    let tx = conn
        .client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .map_err(pg_err(doing()))?;
    let Some(row) = tx
        .query_opt(&report_sql, &[&id])
        .await
        .map_err(pg_err(doing()))?
    else {
        return Ok(None);
    };
    let transition_rows = tx
        .query(&transitions_sql, &[&id])
        .await
        .map_err(pg_err(doing()))?;
    tx.commit().await.map_err(pg_err(doing()))?;
    let history = transition_rows
        .iter()
        .map(transition_from_row)
        .collect::<Result<_, _>>()?;
    Ok(Some((report_from_row(&row)?, history)))
}

/// A `LISTEN civmap_reports` connection: its client (kept alive while listening) and the
/// notifications it receives (the channel closes when the connection is lost).
async fn listen(
    config: &Config,
) -> Result<(Client, mpsc::UnboundedReceiver<Notification>), StoreError> {
    let (client, mut connection) =
        config
            .connect(tokio_postgres::NoTls)
            .await
            .map_err(pg_err(format!(
                "connecting to {} for the report change feed",
                super::describe_target(config)
            )))?;
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                Some(Ok(AsyncMessage::Notification(note))) => {
                    if tx.send(note).is_err() {
                        break;
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(error)) => {
                    tracing::warn!(error = %super::describe(&error), "the report change feed connection failed");
                    break;
                }
                None => break,
            }
        }
    });
    client
        .batch_execute("LISTEN civmap_reports")
        .await
        .map_err(pg_err("listening for report changes"))?;
    Ok((client, rx))
}

/// Follows report changes made by other processes: ids, as their transactions commit. Writes by
/// the connections in `own_pids` (this store's pool) are left out.
pub(super) async fn follow_changes(
    config: Config,
    own_pids: OwnPids,
) -> Result<mpsc::UnboundedReceiver<i64>, StoreError> {
    let (mut client, mut notes) = listen(&config).await?;
    let (out, ids) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            loop {
                let note = tokio::select! {
                    note = notes.recv() => note,
                    () = out.closed() => return,
                };
                let Some(note) = note else { break };
                if note.channel() != REPORTS_CHANNEL {
                    continue;
                }
                let own = own_pids
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .contains(&note.process_id());
                if own {
                    continue;
                }
                match note.payload().parse::<i64>() {
                    Ok(id) => {
                        if out.send(id).is_err() {
                            return;
                        }
                    }
                    Err(_) => tracing::warn!(
                        payload = note.payload(),
                        "a civmap_reports notification that is not a report id"
                    ),
                }
            }
            drop(client);
            tracing::warn!(
                "lost the report change feed; reconnecting (a report changed elsewhere meanwhile is shown after its next change)"
            );
            let mut wait = Duration::from_millis(500);
            loop {
                tokio::select! {
                    () = tokio::time::sleep(wait) => {},
                    () = out.closed() => return,
                }
                match listen(&config).await {
                    Ok((c, n)) => {
                        (client, notes) = (c, n);
                        tracing::info!("the report change feed is back");
                        break;
                    }
                    Err(error) => tracing::warn!(%error, "reconnecting the report change feed"),
                }
                wait = (wait * 2).min(Duration::from_secs(30));
            }
        }
    });
    Ok(ids)
}
