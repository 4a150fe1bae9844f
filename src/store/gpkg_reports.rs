//! Reports and their audit trail in the GeoPackage: `civmap_reports` (a point feature table QGIS
//! can open) and `civmap_report_transitions` (attributes). All report writes go through one writer
//! thread that commits whatever has queued up in one transaction (group commit), so every
//! acknowledged write is on disk (WAL, synchronous=FULL) without one fsync per request.

use std::path::Path;
use std::sync::mpsc;

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, Row, params};
use tokio::sync::oneshot;

use super::StoreError;
use super::gpkg_geom;
use crate::crs::InputCrs;
use crate::reports::{
    CloseReason, InputPosition, MatchedAsset, NewReport, Report, Status, Transition,
};

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS civmap_reports (
  fid INTEGER PRIMARY KEY AUTOINCREMENT,
  geom POINT NOT NULL,
  category TEXT NOT NULL,
  description TEXT NOT NULL,
  reporter TEXT NOT NULL,
  observed_at TEXT NOT NULL,
  reported_at TEXT NOT NULL,
  status TEXT NOT NULL,
  asset_id TEXT,
  asset_kind TEXT,
  asset_name TEXT,
  distance_m REAL,
  matched_unit TEXT,
  unit TEXT,
  district TEXT,
  deadline_at TEXT,
  permitted_zone TEXT,
  duplicate_of INTEGER,
  close_reason TEXT,
  photos TEXT NOT NULL DEFAULT '[]',
  input_crs TEXT NOT NULL,
  input_lon REAL NOT NULL,
  input_lat REAL NOT NULL,
  updated_at TEXT NOT NULL,
  closed_at TEXT
);
CREATE TABLE IF NOT EXISTS civmap_report_transitions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  report_id INTEGER NOT NULL REFERENCES civmap_reports(fid),
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  from_status TEXT NOT NULL,
  to_status TEXT NOT NULL,
  unit TEXT,
  deadline_at TEXT,
  note TEXT,
  reason TEXT,
  photos TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS civmap_report_transitions_report ON civmap_report_transitions(report_id);
INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description)
  VALUES ('civmap_report_transitions', 'attributes', 'civmap_report_transitions', 'audit trail of report changes');
"#;

/// Creates the report tables (idempotent).
pub(super) fn create_schema(conn: &Connection) -> Result<(), StoreError> {
    let err = |source| StoreError::Sqlite {
        doing: "creating the report tables".into(),
        source,
    };
    conn.execute_batch(SCHEMA).map_err(err)?;
    super::gpkg::register_feature_table(conn, "civmap_reports", "问题 inspection reports", "POINT")
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn parse_ts(text: &str) -> rusqlite::Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
        })
}

fn bad_value(what: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Text,
        format!("unreadable {what}").into(),
    )
}

fn crs_text(crs: InputCrs) -> &'static str {
    match crs {
        InputCrs::Wgs84 => "wgs84",
        InputCrs::Gcj02 => "gcj02",
        InputCrs::Bd09 => "bd09",
    }
}

const REPORT_COLUMNS: &str = "fid, category, description, reporter, observed_at, reported_at, status, \
    asset_id, asset_kind, asset_name, distance_m, matched_unit, unit, district, deadline_at, \
    permitted_zone, duplicate_of, close_reason, photos, input_crs, input_lon, input_lat, \
    updated_at, closed_at, geom";

fn report_from_row(row: &Row<'_>) -> rusqlite::Result<Report> {
    let blob: Vec<u8> = row.get("geom")?;
    let point = match gpkg_geom::decode(&blob) {
        Ok(geo::Geometry::Point(p)) => p,
        _ => return Err(bad_value("report geometry")),
    };
    let asset = match row.get::<_, Option<String>>("asset_id")? {
        Some(id) => Some(MatchedAsset {
            id,
            kind: row.get("asset_kind")?,
            name: row.get("asset_name")?,
            distance_m: row.get("distance_m")?,
        }),
        None => None,
    };
    let status: String = row.get("status")?;
    let crs: String = row.get("input_crs")?;
    let photos: String = row.get("photos")?;
    let filed = NewReport {
        category: row.get("category")?,
        description: row.get("description")?,
        reporter: row.get("reporter")?,
        observed_at: parse_ts(&row.get::<_, String>("observed_at")?)?,
        reported_at: parse_ts(&row.get::<_, String>("reported_at")?)?,
        lon: point.x(),
        lat: point.y(),
        input: InputPosition {
            crs: InputCrs::parse(&crs).ok_or_else(|| bad_value("input crs"))?,
            lon: row.get("input_lon")?,
            lat: row.get("input_lat")?,
        },
        asset,
        unit: row.get("matched_unit")?,
        district: row.get("district")?,
        permitted_zone: row.get("permitted_zone")?,
        photos: serde_json::from_str(&photos).map_err(|_| bad_value("photos"))?,
    };
    Ok(Report {
        id: row.get("fid")?,
        status: Status::parse(&status).ok_or_else(|| bad_value("status"))?,
        unit: row.get("unit")?,
        deadline_at: row
            .get::<_, Option<String>>("deadline_at")?
            .map(|t| parse_ts(&t))
            .transpose()?,
        duplicate_of: row.get("duplicate_of")?,
        close_reason: row
            .get::<_, Option<String>>("close_reason")?
            .map(|r| CloseReason::parse(&r).ok_or_else(|| bad_value("close reason")))
            .transpose()?,
        updated_at: parse_ts(&row.get::<_, String>("updated_at")?)?,
        closed_at: row
            .get::<_, Option<String>>("closed_at")?
            .map(|t| parse_ts(&t))
            .transpose()?,
        filed,
    })
}

fn transition_from_row(row: &Row<'_>) -> rusqlite::Result<Transition> {
    let from: String = row.get("from_status")?;
    let to: String = row.get("to_status")?;
    let photos: String = row.get("photos")?;
    Ok(Transition {
        report_id: row.get("report_id")?,
        at: parse_ts(&row.get::<_, String>("at")?)?,
        actor: row.get("actor")?,
        from: Status::parse(&from).ok_or_else(|| bad_value("status"))?,
        to: Status::parse(&to).ok_or_else(|| bad_value("status"))?,
        unit: row.get("unit")?,
        deadline_at: row
            .get::<_, Option<String>>("deadline_at")?
            .map(|t| parse_ts(&t))
            .transpose()?,
        note: row.get("note")?,
        reason: row
            .get::<_, Option<String>>("reason")?
            .map(|r| CloseReason::parse(&r).ok_or_else(|| bad_value("reason")))
            .transpose()?,
        photos: serde_json::from_str(&photos).map_err(|_| bad_value("photos"))?,
    })
}

/// Every report and every transition, oldest first.
pub(super) fn load(conn: &Connection) -> Result<(Vec<Report>, Vec<Transition>), StoreError> {
    let err = |source| StoreError::Sqlite {
        doing: "reading reports".into(),
        source,
    };
    let mut stmt = conn
        .prepare(&format!(
            "SELECT {REPORT_COLUMNS} FROM civmap_reports ORDER BY fid"
        ))
        .map_err(err)?;
    let reports = stmt
        .query_map([], report_from_row)
        .map_err(err)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(err)?;
    let mut stmt = conn
        .prepare("SELECT * FROM civmap_report_transitions ORDER BY id")
        .map_err(err)?;
    let transitions = stmt
        .query_map([], transition_from_row)
        .map_err(err)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(err)?;
    Ok((reports, transitions))
}

/// One report and its transitions.
pub(super) fn load_one(
    conn: &Connection,
    id: i64,
) -> Result<Option<(Report, Vec<Transition>)>, StoreError> {
    let err = |source| StoreError::Sqlite {
        doing: format!("reading report {id}"),
        source,
    };
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {REPORT_COLUMNS} FROM civmap_reports WHERE fid = ?1"
        ))
        .map_err(err)?;
    let mut rows = stmt.query_map([id], report_from_row).map_err(err)?;
    let Some(report) = rows.next().transpose().map_err(err)? else {
        return Ok(None);
    };
    let mut stmt = conn
        .prepare_cached("SELECT * FROM civmap_report_transitions WHERE report_id = ?1 ORDER BY id")
        .map_err(err)?;
    let transitions = stmt
        .query_map([id], transition_from_row)
        .map_err(err)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(err)?;
    Ok(Some((report, transitions)))
}

fn insert_report(conn: &Connection, filed: &NewReport) -> rusqlite::Result<Report> {
    let point = geo::Geometry::Point(geo::Point::new(filed.lon, filed.lat));
    let asset = filed.asset.as_ref();
    conn.prepare_cached(
        "INSERT INTO civmap_reports (geom, category, description, reporter, observed_at, reported_at,
           status, asset_id, asset_kind, asset_name, distance_m, matched_unit, unit, district,
           permitted_zone, photos, input_crs, input_lon, input_lat, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'reported', ?7, ?8, ?9, ?10, ?11, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?6)",
    )?
    .execute(params![
        gpkg_geom::encode(&point, 4326),
        filed.category,
        filed.description,
        filed.reporter,
        ts(filed.observed_at),
        ts(filed.reported_at),
        asset.map(|a| &a.id),
        asset.map(|a| &a.kind),
        asset.map(|a| &a.name),
        asset.map(|a| a.distance_m),
        filed.unit,
        filed.district,
        filed.permitted_zone,
        serde_json::to_string(&filed.photos).unwrap_or_else(|_| "[]".into()),
        crs_text(filed.input.crs),
        filed.input.lon,
        filed.input.lat,
    ])?;
    Ok(Report::new(conn.last_insert_rowid(), filed.clone()))
}

/// Writes `report`'s current state if the stored status is still `expected`, and its audit entry.
fn save_report(
    conn: &Connection,
    expected: Status,
    report: &Report,
    entry: Option<&Transition>,
) -> Result<(), StoreError> {
    let err = |source| StoreError::Sqlite {
        doing: format!("updating report {}", report.id),
        source,
    };
    let filed = &report.filed;
    let asset = filed.asset.as_ref();
    let changed = conn
        .prepare_cached(
            "UPDATE civmap_reports SET status = ?3, asset_id = ?4, asset_kind = ?5, asset_name = ?6,
               distance_m = ?7, matched_unit = ?8, unit = ?9, district = ?10, deadline_at = ?11,
               permitted_zone = ?12, duplicate_of = ?13, close_reason = ?14, updated_at = ?15,
               closed_at = ?16
             WHERE fid = ?1 AND status = ?2",
        )
        .map_err(err)?
        .execute(params![
            report.id,
            expected.as_str(),
            report.status.as_str(),
            asset.map(|a| &a.id),
            asset.map(|a| &a.kind),
            asset.map(|a| &a.name),
            asset.map(|a| a.distance_m),
            filed.unit,
            report.unit,
            filed.district,
            report.deadline_at.map(ts),
            filed.permitted_zone,
            report.duplicate_of,
            report.close_reason.map(|r| r.as_str()),
            ts(report.updated_at),
            report.closed_at.map(ts),
        ])
        .map_err(err)?;
    if changed == 0 {
        return Err(StoreError::Conflict(format!(
            "report {} is no longer {}: it was changed meanwhile",
            report.id,
            expected.as_str()
        )));
    }
    if let Some(t) = entry {
        conn.prepare_cached(
            "INSERT INTO civmap_report_transitions
               (report_id, at, actor, from_status, to_status, unit, deadline_at, note, reason, photos)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )
        .map_err(err)?
        .execute(params![
            t.report_id,
            ts(t.at),
            t.actor,
            t.from.as_str(),
            t.to.as_str(),
            t.unit,
            t.deadline_at.map(ts),
            t.note,
            t.reason.map(|r| r.as_str()),
            serde_json::to_string(&t.photos).unwrap_or_else(|_| "[]".into()),
        ])
        .map_err(err)?;
    }
    Ok(())
}

/// A write for the writer thread.
pub(super) enum WriteOp {
    Insert(Vec<NewReport>),
    Save {
        expected: Status,
        report: Box<Report>,
        entry: Option<Transition>,
    },
}

/// What a write returned.
pub(super) enum WriteDone {
    Inserted(Vec<Report>),
    Saved,
}

pub(super) struct Job {
    pub op: WriteOp,
    pub reply: oneshot::Sender<Result<WriteDone, StoreError>>,
}

/// Largest number of queued writes committed together.
const MAX_GROUP: usize = 1024;

/// Starts the writer thread on its own connection to `path`.
pub(super) fn spawn_writer(path: &Path) -> Result<mpsc::Sender<Job>, StoreError> {
    let conn = super::gpkg::open_connection(path)?;
    let (tx, rx) = mpsc::channel::<Job>();
    std::thread::Builder::new()
        .name("civmap-report-writer".into())
        .spawn(move || writer_loop(conn, rx))
        .map_err(|e| StoreError::Task(format!("starting the report writer: {e}")))?;
    Ok(tx)
}

fn apply(conn: &Connection, op: &WriteOp) -> Result<WriteDone, StoreError> {
    match op {
        WriteOp::Insert(reports) => reports
            .iter()
            .map(|r| insert_report(conn, r))
            .collect::<Result<Vec<_>, _>>()
            .map(WriteDone::Inserted)
            .map_err(|source| StoreError::Sqlite {
                doing: "inserting reports".into(),
                source,
            }),
        WriteOp::Save {
            expected,
            report,
            entry,
        } => save_report(conn, *expected, report, entry.as_ref()).map(|()| WriteDone::Saved),
    }
}

fn writer_loop(conn: Connection, rx: mpsc::Receiver<Job>) {
    while let Ok(first) = rx.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let outcomes = commit_group(&conn, &group);
        for (job, outcome) in group.into_iter().zip(outcomes) {
            let _ = job.reply.send(outcome);
        }
    }
}

/// One transaction for the whole group; each job in its own savepoint so that one failing job
/// does not undo the others. If the commit fails, every job fails.
fn commit_group(conn: &Connection, group: &[Job]) -> Vec<Result<WriteDone, StoreError>> {
    let sql_failure = |doing: &str, source| StoreError::Sqlite {
        doing: doing.into(),
        source,
    };
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        let message = e.to_string();
        return group
            .iter()
            .map(|_| Err(StoreError::Task(format!("starting a write: {message}"))))
            .collect();
    }
    let mut outcomes = Vec::with_capacity(group.len());
    for job in group {
        let outcome = conn
            .execute_batch("SAVEPOINT job")
            .map_err(|e| sql_failure("starting a write", e))
            .and_then(|()| apply(conn, &job.op));
        let close = if outcome.is_ok() {
            "RELEASE job"
        } else {
            "ROLLBACK TO job; RELEASE job"
        };
        let _ = conn.execute_batch(close);
        outcomes.push(outcome);
    }
    match conn.execute_batch("COMMIT") {
        Ok(()) => outcomes,
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            let message = e.to_string();
            group
                .iter()
                .map(|_| Err(StoreError::Task(format!("committing: {message}"))))
                .collect()
        }
    }
}
