//! The embedded store: one GeoPackage 1.3 file (SQLite, WAL, synchronous=FULL) with one feature
//! table per kind in EPSG:4326, the GeoPackage R-tree extension, and the catalogue as an
//! attributes table `civmap_kinds`. QGIS and GDAL open the same file.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};

use async_trait::async_trait;
use rusqlite::functions::FunctionFlags;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OptionalExtension, params};

use super::gpkg_geom;
use super::gpkg_reports::{self, Job, WriteDone, WriteOp};
use super::{Store, StoreError};
use crate::coverage::{DutyPost, DutyPostChange};
use crate::model::{Asset, Catalogue, GeometryType, KindSpec, validate_kind_name};
use crate::reports::{NewReport, Report, Status, Transition};

const GPKG_APPLICATION_ID: i32 = 0x4750_4B47; // "GPKG"
const GPKG_USER_VERSION: i32 = 10300; // 1.3.0
const SRS_WGS84: i32 = 4326;

const CORE_SCHEMA: &str = include_str!("gpkg_core.sql");

/// A GeoPackage file holding civmap's data.
#[derive(Clone)]
pub struct GeoPackageStore {
    path: PathBuf,
    conn: Arc<Mutex<Connection>>,
    /// The group-commit writer of reports.
    writer: mpsc::Sender<Job>,
}

fn sql_err(doing: impl Into<String>) -> impl FnOnce(rusqlite::Error) -> StoreError {
    let doing = doing.into();
    move |source| StoreError::Sqlite { doing, source }
}

impl GeoPackageStore {
    /// Opens (creating if needed) the GeoPackage at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = open_connection(path)?;
        Ok(Self {
            path: path.to_path_buf(),
            conn: Arc::new(Mutex::new(conn)),
            writer: gpkg_reports::spawn_writer(path)?,
        })
    }

    /// Sends a report write to the writer thread and waits until it is committed.
    async fn write(&self, op: WriteOp) -> Result<WriteDone, StoreError> {
        let (reply, done) = tokio::sync::oneshot::channel();
        self.writer
            .send(Job { op, reply })
            .map_err(|_| StoreError::Task("the report writer has stopped".into()))?;
        done.await
            .map_err(|_| StoreError::Task("the report writer dropped a write".into()))?
    }

    /// The file this store writes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `work` on the connection off the async runtime.
    async fn with_conn<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            let mut guard = conn
                .lock()
                .map_err(|_| StoreError::Task("store connection lock poisoned".into()))?;
            work(&mut guard)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }
}

/// A connection with civmap's settings (WAL, synchronous=FULL), the SQL functions the R-tree
/// triggers need, and every table created.
pub(super) fn open_connection(path: &Path) -> Result<Connection, StoreError> {
    let open_err = |source| StoreError::Open {
        path: path.display().to_string(),
        source,
    };
    let conn = Connection::open(path).map_err(open_err)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 10000;",
    )
    .map_err(open_err)?;
    register_geometry_functions(&conn).map_err(open_err)?;
    let app_id: i32 = conn
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .map_err(open_err)?;
    if app_id != GPKG_APPLICATION_ID {
        conn.execute_batch(&format!(
            "PRAGMA application_id = {GPKG_APPLICATION_ID}; PRAGMA user_version = {GPKG_USER_VERSION};"
        ))
        .map_err(open_err)?;
    }
    conn.execute_batch(CORE_SCHEMA).map_err(open_err)?;
    gpkg_reports::create_schema(&conn)?;
    Ok(conn)
}

/// Registers the SQL functions the GeoPackage R-tree triggers call (as GDAL does).
fn register_geometry_functions(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("ST_IsEmpty", 1, flags, |ctx| {
        Ok(match ctx.get_raw(0) {
            ValueRef::Blob(b) => Some(gpkg_geom::is_empty(b)),
            _ => None,
        })
    })?;
    let envelope_fn = |index: usize| {
        move |ctx: &rusqlite::functions::Context<'_>| -> rusqlite::Result<Option<f64>> {
            Ok(match ctx.get_raw(0) {
                ValueRef::Blob(b) => gpkg_geom::envelope(b).map(|e| e[index]),
                _ => None,
            })
        }
    };
    conn.create_scalar_function("ST_MinX", 1, flags, envelope_fn(0))?;
    conn.create_scalar_function("ST_MaxX", 1, flags, envelope_fn(1))?;
    conn.create_scalar_function("ST_MinY", 1, flags, envelope_fn(2))?;
    conn.create_scalar_function("ST_MaxY", 1, flags, envelope_fn(3))?;
    Ok(())
}

fn layer_exists(conn: &Connection, kind: &str) -> Result<bool, StoreError> {
    conn.query_row(
        "SELECT 1 FROM gpkg_contents WHERE table_name = ?1 AND data_type = 'features'",
        [kind],
        |_| Ok(()),
    )
    .optional()
    .map(|found| found.is_some())
    .map_err(sql_err(format!("looking up layer {kind}")))
}

/// Creates the feature table of a kind, its GeoPackage registrations and its R-tree.
fn create_layer(conn: &Connection, spec: &KindSpec) -> Result<(), StoreError> {
    let kind = spec.kind.as_str();
    validate_kind_name(kind)?;
    // `kind` passed the allow-list above: it is safe as an identifier.
    let ddl = format!(
        r#"
CREATE TABLE IF NOT EXISTS "{kind}" (
  fid INTEGER PRIMARY KEY AUTOINCREMENT,
  geom GEOMETRY NOT NULL,
  asset_id TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  district TEXT,
  unit TEXT,
  properties TEXT NOT NULL DEFAULT '{{}}'
);
"#
    );
    conn.execute_batch(&ddl)
        .map_err(sql_err(format!("creating layer {kind}")))?;
    register_feature_table(
        conn,
        kind,
        &format!("{} {}", spec.name_zh, spec.name_en),
        "GEOMETRY",
    )
}

/// Registers a feature table (geometry column `geom`, primary key `fid`, EPSG:4326) in
/// gpkg_contents and gpkg_geometry_columns, and gives it the GeoPackage R-tree index with the
/// standard triggers. `table` must be an allow-listed identifier.
pub(super) fn register_feature_table(
    conn: &Connection,
    table: &str,
    description: &str,
    geometry_type: &str,
) -> Result<(), StoreError> {
    let rtree = format!(
        r#"
CREATE VIRTUAL TABLE IF NOT EXISTS "rtree_{table}_geom" USING rtree(id, minx, maxx, miny, maxy);
CREATE TRIGGER IF NOT EXISTS "rtree_{table}_geom_insert" AFTER INSERT ON "{table}"
  WHEN (new.geom NOT NULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN
  INSERT OR REPLACE INTO "rtree_{table}_geom" VALUES (
    NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;
CREATE TRIGGER IF NOT EXISTS "rtree_{table}_geom_update1" AFTER UPDATE OF geom ON "{table}"
  WHEN OLD.fid = NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN
  INSERT OR REPLACE INTO "rtree_{table}_geom" VALUES (
    NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;
CREATE TRIGGER IF NOT EXISTS "rtree_{table}_geom_update2" AFTER UPDATE OF geom ON "{table}"
  WHEN OLD.fid = NEW.fid AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
BEGIN
  DELETE FROM "rtree_{table}_geom" WHERE id = OLD.fid;
END;
CREATE TRIGGER IF NOT EXISTS "rtree_{table}_geom_update3" AFTER UPDATE ON "{table}"
  WHEN OLD.fid != NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN
  DELETE FROM "rtree_{table}_geom" WHERE id = OLD.fid;
  INSERT OR REPLACE INTO "rtree_{table}_geom" VALUES (
    NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;
CREATE TRIGGER IF NOT EXISTS "rtree_{table}_geom_update4" AFTER UPDATE ON "{table}"
  WHEN OLD.fid != NEW.fid AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
BEGIN
  DELETE FROM "rtree_{table}_geom" WHERE id IN (OLD.fid, NEW.fid);
END;
CREATE TRIGGER IF NOT EXISTS "rtree_{table}_geom_delete" AFTER DELETE ON "{table}"
  WHEN old.geom NOT NULL
BEGIN
  DELETE FROM "rtree_{table}_geom" WHERE id = OLD.fid;
END;
"#
    );
    conn.execute_batch(&rtree)
        .map_err(sql_err(format!("creating the R-tree of {table}")))?;
    conn.execute(
        "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description, srs_id)
         VALUES (?1, 'features', ?1, ?2, ?3)",
        params![table, description, SRS_WGS84],
    )
    .map_err(sql_err(format!("registering layer {table}")))?;
    conn.execute(
        "INSERT OR IGNORE INTO gpkg_geometry_columns (table_name, column_name, geometry_type_name, srs_id, z, m)
         VALUES (?1, 'geom', ?2, ?3, 0, 0)",
        params![table, geometry_type, SRS_WGS84],
    )
    .map_err(sql_err(format!("registering geometry column of {table}")))?;
    conn.execute(
        "INSERT OR IGNORE INTO gpkg_extensions (table_name, column_name, extension_name, definition, scope)
         VALUES (?1, 'geom', 'gpkg_rtree_index', 'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')",
        [table],
    )
    .map_err(sql_err(format!("registering the R-tree of {table}")))?;
    Ok(())
}

fn read_catalogue(conn: &Connection) -> Result<Catalogue, StoreError> {
    let mut stmt = conn
        .prepare(
            "SELECT kind, name_zh, name_en, geometry_type, colour, priority, snap_radius_m
             FROM civmap_kinds ORDER BY position, kind",
        )
        .map_err(sql_err("reading the kind catalogue"))?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, i32>(5)?,
                r.get::<_, f64>(6)?,
            ))
        })
        .map_err(sql_err("reading the kind catalogue"))?;
    let mut kinds = Vec::new();
    for row in rows {
        let (kind, name_zh, name_en, geometry_type, colour, priority, snap_radius_m) =
            row.map_err(sql_err("reading the kind catalogue"))?;
        kinds.push(KindSpec {
            geometry_type: GeometryType::parse(&geometry_type)?,
            kind,
            name_zh,
            name_en,
            colour,
            priority,
            snap_radius_m,
        });
    }
    Ok(Catalogue { kinds })
}

fn read_assets(conn: &Connection, kind: &str) -> Result<Vec<Asset>, StoreError> {
    validate_kind_name(kind)?;
    let doing = format!("reading layer {kind}");
    let mut stmt = conn
        .prepare(&format!(
            r#"SELECT fid, asset_id, name, district, unit, properties, geom FROM "{kind}" ORDER BY fid"#
        ))
        .map_err(sql_err(doing.clone()))?;
    let mut rows = stmt.query([]).map_err(sql_err(doing.clone()))?;
    let mut assets = Vec::new();
    while let Some(row) = rows.next().map_err(sql_err(doing.clone()))? {
        let fid: i64 = row.get(0).map_err(sql_err(doing.clone()))?;
        let blob: Vec<u8> = row.get(6).map_err(sql_err(doing.clone()))?;
        let geometry = gpkg_geom::decode(&blob).map_err(|source| StoreError::Geometry {
            kind: kind.to_string(),
            fid,
            source,
        })?;
        let properties_text: String = row.get(5).map_err(sql_err(doing.clone()))?;
        let properties = match serde_json::from_str(&properties_text) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => serde_json::Map::new(),
        };
        assets.push(Asset {
            id: row.get(1).map_err(sql_err(doing.clone()))?,
            kind: kind.to_string(),
            name: row.get(2).map_err(sql_err(doing.clone()))?,
            district: row.get(3).map_err(sql_err(doing.clone()))?,
            unit: row.get(4).map_err(sql_err(doing.clone()))?,
            properties,
            geometry,
        });
    }
    Ok(assets)
}

/// Fails when one of `assets` has an id already used by another kind.
fn check_ids_free_elsewhere(
    tx: &rusqlite::Transaction<'_>,
    catalogue: &Catalogue,
    kind: &str,
    assets: &[Asset],
) -> Result<(), StoreError> {
    for other in catalogue.kinds.iter().filter(|k| k.kind != kind) {
        if !layer_exists(tx, &other.kind)? {
            continue;
        }
        let mut stmt = tx
            .prepare_cached(&format!(
                r#"SELECT 1 FROM "{}" WHERE asset_id = ?1"#,
                other.kind
            ))
            .map_err(sql_err("checking asset ids"))?;
        for asset in assets {
            if stmt
                .exists([&asset.id])
                .map_err(sql_err("checking asset ids"))?
            {
                return Err(StoreError::IdTakenByOtherKind {
                    id: asset.id.clone(),
                    kind: kind.to_string(),
                    existing_kind: other.kind.clone(),
                });
            }
        }
    }
    Ok(())
}

fn upsert(conn: &mut Connection, kind: &str, assets: &[Asset]) -> Result<usize, StoreError> {
    let catalogue = read_catalogue(conn)?;
    let spec = catalogue.require(kind)?.clone();
    for asset in assets {
        asset.validate(&spec)?;
    }
    let tx = conn
        .transaction()
        .map_err(sql_err(format!("starting import into {kind}")))?;
    if !layer_exists(&tx, kind)? {
        create_layer(&tx, &spec)?;
    }
    check_ids_free_elsewhere(&tx, &catalogue, kind, assets)?;
    {
        // Update-then-insert rather than an UPSERT: the GeoPackage R-tree triggers use
        // INSERT OR REPLACE, which an outer UPSERT would turn into a constraint failure.
        let mut update = tx
            .prepare(&format!(
                r#"UPDATE "{kind}" SET geom = ?1, name = ?3, district = ?4, unit = ?5, properties = ?6
                   WHERE asset_id = ?2"#
            ))
            .map_err(sql_err(format!("preparing import into {kind}")))?;
        let mut insert = tx
            .prepare(&format!(
                r#"INSERT INTO "{kind}" (geom, asset_id, name, district, unit, properties)
                   VALUES (?1, ?2, ?3, ?4, ?5, ?6)"#
            ))
            .map_err(sql_err(format!("preparing import into {kind}")))?;
        for asset in assets {
            let properties = serde_json::Value::Object(asset.properties.clone()).to_string();
            let row = params![
                gpkg_geom::encode(&asset.geometry, SRS_WGS84),
                asset.id,
                asset.name,
                asset.district,
                asset.unit,
                properties
            ];
            let doing = || format!("writing {kind} asset {}", asset.id);
            if update.execute(row).map_err(sql_err(doing()))? == 0 {
                insert.execute(row).map_err(sql_err(doing()))?;
            }
        }
    }
    let (kind_rtree, kind_table) = (format!("rtree_{kind}_geom"), kind.to_string());
    tx.execute(
        &format!(
            r#"UPDATE gpkg_contents SET
                 min_x = (SELECT min(minx) FROM "{kind_rtree}"), max_x = (SELECT max(maxx) FROM "{kind_rtree}"),
                 min_y = (SELECT min(miny) FROM "{kind_rtree}"), max_y = (SELECT max(maxy) FROM "{kind_rtree}"),
                 last_change = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
               WHERE table_name = ?1"#
        ),
        [&kind_table],
    )
    .map_err(sql_err(format!("updating the extent of {kind}")))?;
    bump_asset_version(&tx)?;
    tx.commit()
        .map_err(sql_err(format!("committing import into {kind}")))?;
    Ok(assets.len())
}

fn record_duty_change(
    conn: &Connection,
    post: &DutyPost,
    action: &str,
    actor: &str,
    when: &str,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO civmap_duty_post_changes (post_id, at, actor, action, record)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![post.id, when, actor, action, post.to_record().to_string()],
    )
    .map(|_| ())
    .map_err(sql_err(format!("auditing duty post {}", post.id)))
}

fn duty_post_from_text(id: i64, record: &str) -> Result<DutyPost, StoreError> {
    serde_json::from_str(record)
        .ok()
        .and_then(|value| DutyPost::from_record(id, &value))
        .ok_or_else(|| StoreError::Task(format!("duty post {id} is stored unreadably")))
}

fn bump_asset_version(conn: &Connection) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE civmap_meta SET value = value + 1 WHERE key = 'asset_version'",
        [],
    )
    .map(|_| ())
    .map_err(sql_err("bumping the asset version"))
}

fn put_kind(conn: &mut Connection, spec: &KindSpec) -> Result<(), StoreError> {
    spec.validate()?;
    let tx = conn
        .transaction()
        .map_err(sql_err(format!("adding kind {}", spec.kind)))?;
    tx.execute(
        "INSERT INTO civmap_kinds (kind, name_zh, name_en, geometry_type, colour, priority, snap_radius_m, position)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, (SELECT count(*) FROM civmap_kinds))
         ON CONFLICT(kind) DO UPDATE SET name_zh = excluded.name_zh, name_en = excluded.name_en,
           geometry_type = excluded.geometry_type, colour = excluded.colour, priority = excluded.priority,
           snap_radius_m = excluded.snap_radius_m",
        params![
            spec.kind,
            spec.name_zh,
            spec.name_en,
            spec.geometry_type.geojson_name().to_ascii_lowercase(),
            spec.colour,
            spec.priority,
            spec.snap_radius_m
        ],
    )
    .map_err(sql_err(format!("adding kind {}", spec.kind)))?;
    create_layer(&tx, spec)?;
    bump_asset_version(&tx)?;
    tx.commit()
        .map_err(sql_err(format!("adding kind {}", spec.kind)))
}

#[async_trait]
impl Store for GeoPackageStore {
    async fn catalogue(&self) -> Result<Catalogue, StoreError> {
        self.with_conn(|conn| read_catalogue(conn)).await
    }

    async fn put_kind(&self, spec: &KindSpec) -> Result<(), StoreError> {
        let spec = spec.clone();
        self.with_conn(move |conn| put_kind(conn, &spec)).await
    }

    async fn load_assets(&self) -> Result<Vec<Asset>, StoreError> {
        self.with_conn(|conn| {
            let catalogue = read_catalogue(conn)?;
            let mut all = Vec::new();
            for spec in &catalogue.kinds {
                if layer_exists(conn, &spec.kind)? {
                    all.extend(read_assets(conn, &spec.kind)?);
                }
            }
            Ok(all)
        })
        .await
    }

    async fn upsert_assets(&self, kind: &str, assets: &[Asset]) -> Result<usize, StoreError> {
        let (kind, assets) = (kind.to_string(), assets.to_vec());
        self.with_conn(move |conn| upsert(conn, &kind, &assets))
            .await
    }

    async fn insert_reports(&self, reports: Vec<NewReport>) -> Result<Vec<Report>, StoreError> {
        match self.write(WriteOp::Insert(reports)).await? {
            WriteDone::Inserted(stored) => Ok(stored),
            WriteDone::Saved => Err(StoreError::Task("writer answered the wrong write".into())),
        }
    }

    async fn save_report(
        &self,
        expected: Status,
        report: Report,
        entry: Option<Transition>,
    ) -> Result<(), StoreError> {
        self.write(WriteOp::Save {
            expected,
            report: Box::new(report),
            entry,
        })
        .await
        .map(|_| ())
    }

    async fn load_reports(&self) -> Result<(Vec<Report>, Vec<Transition>), StoreError> {
        self.with_conn(|conn| gpkg_reports::load(conn)).await
    }

    async fn load_report(&self, id: i64) -> Result<Option<(Report, Vec<Transition>)>, StoreError> {
        self.with_conn(move |conn| gpkg_reports::load_one(conn, id))
            .await
    }

    async fn insert_duty_post(
        &self,
        post: &DutyPost,
        actor: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<DutyPost, StoreError> {
        let (mut post, actor) = (post.clone(), actor.to_string());
        self.with_conn(move |conn| {
            let tx = conn.transaction().map_err(sql_err("adding a duty post"))?;
            let when = at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            tx.execute(
                "INSERT INTO civmap_duty_posts (record, updated_at) VALUES (?1, ?2)",
                params![post.to_record().to_string(), when],
            )
            .map_err(sql_err("adding a duty post"))?;
            post.id = tx.last_insert_rowid();
            record_duty_change(&tx, &post, "created", &actor, &when)?;
            tx.commit().map_err(sql_err("adding a duty post"))?;
            Ok(post)
        })
        .await
    }

    async fn update_duty_post(
        &self,
        post: &DutyPost,
        action: &str,
        actor: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), StoreError> {
        let (post, action, actor) = (post.clone(), action.to_string(), actor.to_string());
        self.with_conn(move |conn| {
            let doing = format!("changing duty post {}", post.id);
            let tx = conn.transaction().map_err(sql_err(doing.clone()))?;
            let when = at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            let changed = tx
                .execute(
                    "UPDATE civmap_duty_posts SET record = ?2, updated_at = ?3 WHERE id = ?1",
                    params![post.id, post.to_record().to_string(), when],
                )
                .map_err(sql_err(doing.clone()))?;
            if changed == 0 {
                return Err(StoreError::Conflict(format!("no duty post {}", post.id)));
            }
            record_duty_change(&tx, &post, &action, &actor, &when)?;
            tx.commit().map_err(sql_err(doing))
        })
        .await
    }

    async fn load_duty_posts(&self) -> Result<Vec<DutyPost>, StoreError> {
        self.with_conn(|conn| {
            let mut stmt = conn
                .prepare("SELECT id, record FROM civmap_duty_posts ORDER BY id")
                .map_err(sql_err("reading duty posts"))?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
                .map_err(sql_err("reading duty posts"))?;
            let mut posts = Vec::new();
            for row in rows {
                let (id, record) = row.map_err(sql_err("reading duty posts"))?;
                posts.push(duty_post_from_text(id, &record)?);
            }
            Ok(posts)
        })
        .await
    }

    async fn duty_post_changes(&self, id: i64) -> Result<Vec<DutyPostChange>, StoreError> {
        self.with_conn(move |conn| {
            let doing = format!("reading the history of duty post {id}");
            let mut stmt = conn
                .prepare(
                    "SELECT at, actor, action, record FROM civmap_duty_post_changes
                     WHERE post_id = ?1 ORDER BY id",
                )
                .map_err(sql_err(doing.clone()))?;
            let rows = stmt
                .query_map([id], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                    ))
                })
                .map_err(sql_err(doing.clone()))?;
            let mut changes = Vec::new();
            for row in rows {
                let (at, actor, action, record) = row.map_err(sql_err(doing.clone()))?;
                let at = chrono::DateTime::parse_from_rfc3339(&at)
                    .map_err(|e| StoreError::Task(format!("{doing}: bad time {at:?}: {e}")))?
                    .with_timezone(&chrono::Utc);
                changes.push(DutyPostChange {
                    post_id: id,
                    at,
                    actor,
                    action,
                    post: duty_post_from_text(id, &record)?,
                });
            }
            Ok(changes)
        })
        .await
    }

    async fn asset_version(&self) -> Result<i64, StoreError> {
        self.with_conn(|conn| {
            conn.query_row(
                "SELECT value FROM civmap_meta WHERE key = 'asset_version'",
                [],
                |r| r.get(0),
            )
            .map_err(sql_err("reading the asset version"))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Geometry, Point};

    fn stall(id: &str, lon: f64) -> Asset {
        Asset {
            id: id.into(),
            kind: "intersection".into(),
            name: "永兴路与光明道交口".into(),
            district: Some("广阳区".into()),
            unit: Some("交警一大队".into()),
            properties: Default::default(),
            geometry: Geometry::Point(Point::new(lon, 39.51)),
        }
    }

    async fn store_with_intersections() -> (tempfile::TempDir, GeoPackageStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = GeoPackageStore::open(&dir.path().join("t.gpkg")).unwrap();
        let spec = Catalogue::builtin()
            .require("intersection")
            .unwrap()
            .clone();
        store.put_kind(&spec).await.unwrap();
        (dir, store)
    }

    #[tokio::test]
    async fn assets_written_are_read_back_and_upsert_replaces_by_id() {
        let (_dir, store) = store_with_intersections().await;
        store
            .upsert_assets("intersection", &[stall("i1", 116.67), stall("i2", 116.68)])
            .await
            .unwrap();
        store
            .upsert_assets("intersection", &[stall("i1", 116.70)])
            .await
            .unwrap();
        let assets = store.load_assets().await.unwrap();
        assert_eq!(assets.len(), 2);
        assert_eq!(
            assets[0].geometry,
            Geometry::Point(Point::new(116.70, 39.51))
        );
    }

    #[tokio::test]
    async fn a_bad_asset_in_a_batch_writes_nothing() {
        let (_dir, store) = store_with_intersections().await;
        let mut bad = stall("i2", 116.68);
        bad.geometry = Geometry::Point(Point::new(200.0, 39.0));
        assert!(
            store
                .upsert_assets("intersection", &[stall("i1", 116.67), bad])
                .await
                .is_err()
        );
        assert!(store.load_assets().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn an_asset_write_by_any_connection_grows_the_asset_version() {
        let (dir, store) = store_with_intersections().await;
        let before = store.asset_version().await.unwrap();
        store
            .upsert_assets("intersection", &[stall("i1", 116.67)])
            .await
            .unwrap();
        let mine = store.asset_version().await.unwrap();
        assert!(mine > before);
        let other = GeoPackageStore::open(&dir.path().join("t.gpkg")).unwrap();
        other
            .upsert_assets("intersection", &[stall("i2", 116.68)])
            .await
            .unwrap();
        assert!(store.asset_version().await.unwrap() > mine);
    }

    #[tokio::test]
    async fn the_rtree_follows_inserts_and_updates() {
        let (_dir, store) = store_with_intersections().await;
        store
            .upsert_assets("intersection", &[stall("i1", 116.67)])
            .await
            .unwrap();
        store
            .upsert_assets("intersection", &[stall("i1", 116.69)])
            .await
            .unwrap();
        let conn = store.conn.lock().unwrap();
        let minx: f64 = conn
            .query_row("SELECT minx FROM rtree_intersection_geom", [], |r| r.get(0))
            .unwrap();
        assert!((minx - 116.69).abs() < 1e-4);
    }
}
