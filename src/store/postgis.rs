//! The shared store: a PostgreSQL database with PostGIS ≥ 3.0, for deployments where several
//! civmap processes (and analysts' SQL, QGIS, GDAL) share one truth. Geometries are EPSG:4326
//! lon/lat; the schema lives in `migrations/` and is applied when the store connects.
//!
//! Tables: `kinds` (the catalogue), one `assets` table (every kind; GiST on `geom` and on
//! `geom::geography`), `reports` and `report_transitions` (the audit trail), `duty_posts` and
//! `duty_post_changes` (包路口 and their audit trail), `civmap_meta` (the asset version, bumped
//! by triggers on any change, whoever makes it), and the analysts' views `open_problems`,
//! `overdue_problems`, `problems_per_district`. Every report insert or update sends
//! `NOTIFY civmap_reports, '<id>'` (statement-level triggers), which the change feed follows.
//!
//! Every statement is static and parameterised; kind names are values, never identifiers.
//! Writes return after COMMIT with `synchronous_commit = on`. Reports are filed by a group
//! committer: whatever has queued while the previous batch was being written goes into the
//! database as one multi-row `INSERT` (one round trip and one WAL flush for the lot).

mod duty;
mod migrate;
mod pool;
mod reports;

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::mpsc;
use tokio_postgres::Config;
use tokio_postgres::types::ToSql;

use self::pool::Pool;
use super::{Store, StoreError, gpkg_geom};
use crate::coverage::{DutyPost, DutyPostChange};
use crate::model::{Asset, Catalogue, GeometryType, KindSpec};
use crate::reports::{NewReport, Report, Status, Transition};

/// Connections kept to the database (reads, lifecycle writes and report batches share them).
const POOL_SIZE: usize = 8;
/// The channel the reports trigger notifies (migrations/0001_init.sql).
const REPORTS_CHANNEL: &str = "civmap_reports";

const READ_CATALOGUE: &str = "SELECT kind, name_zh, name_en, geometry_type, colour, priority, \
     snap_radius_m FROM kinds ORDER BY position, kind";
const PUT_KIND: &str = include_str!("postgis/put_kind.sql");
const LOAD_ASSETS: &str = "SELECT a.id, a.kind, a.name, a.district, a.unit, a.properties, \
     ST_AsBinary(a.geom, 'NDR') FROM assets a JOIN kinds k ON k.kind = a.kind \
     ORDER BY k.position, k.kind, a.fid";
const UPSERT_ASSETS: &str = include_str!("postgis/upsert_assets.sql");
const ID_TAKEN: &str = "SELECT id, kind FROM assets WHERE id = ANY($1) AND kind <> $2 LIMIT 1";
const ASSET_VERSION: &str = "SELECT value FROM civmap_meta WHERE key = 'asset_version'";

/// A PostGIS database holding civmap's data. Cheap to clone (one pool behind an `Arc`).
#[derive(Clone)]
pub struct PostgisStore {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Arc<Pool>,
    /// The group committer of reports.
    filer: mpsc::UnboundedSender<reports::FileJob>,
}

/// tokio_postgres's `Display` says only "db error"; this adds the server's message, detail and
/// hint.
pub(crate) fn describe(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => {
            let mut text = format!("{}: {} ({})", db.severity(), db.message(), db.code().code());
            if let Some(detail) = db.detail() {
                text.push_str(&format!("; {detail}"));
            }
            if let Some(hint) = db.hint() {
                text.push_str(&format!("; hint: {hint}"));
            }
            text
        }
        None => match std::error::Error::source(error) {
            Some(cause) => format!("{error}: {cause}"),
            None => error.to_string(),
        },
    }
}

fn pg_err(doing: impl Into<String>) -> impl FnOnce(tokio_postgres::Error) -> StoreError {
    let doing = doing.into();
    move |source| StoreError::Postgres { doing, source }
}

/// `user@host:port/dbname`, for messages (never the password).
fn describe_target(config: &Config) -> String {
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(name)) => name.clone(),
        Some(tokio_postgres::config::Host::Unix(path)) => path.display().to_string(),
        None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!(
        "PostgreSQL {}@{host}:{port}/{}",
        config.get_user().unwrap_or("(default user)"),
        config.get_dbname().unwrap_or("(default database)")
    )
}

/// Plain little-endian WKB of `geometry` (the GeoPackage encoder's body, without its header).
fn to_wkb(geometry: &geo::Geometry<f64>) -> Vec<u8> {
    let mut blob = gpkg_geom::encode(geometry, 4326);
    let envelope_len = match (blob[3] >> 1) & 0b111 {
        0 => 0,
        1 => 32,
        2 | 3 => 48,
        _ => 64,
    };
    blob.split_off(8 + envelope_len)
}

/// Reads plain WKB (as `ST_AsBinary` writes it) by giving it a minimal GeoPackage header.
fn from_wkb(wkb: &[u8]) -> Result<geo::Geometry<f64>, gpkg_geom::GeomError> {
    let mut blob = Vec::with_capacity(8 + wkb.len());
    blob.extend_from_slice(b"GP\x00\x01");
    blob.extend_from_slice(&4326_i32.to_le_bytes());
    blob.extend_from_slice(wkb);
    gpkg_geom::decode(&blob)
}

impl PostgisStore {
    /// Connects to the database at `url` (`postgres://user@host:port/dbname` or `key=value`
    /// pairs), creates PostGIS if needed and applies civmap's pending migrations.
    ///
    /// Fails with a message saying what is missing when the server has no PostGIS ≥ 3.0 or the
    /// role may not create the extension.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let config: Config = url
            .parse()
            .map_err(pg_err("reading the PostgreSQL connection URL"))?;
        Self::connect_with(config).await
    }

    /// As [`PostgisStore::connect`], from a parsed configuration.
    pub async fn connect_with(mut config: Config) -> Result<Self, StoreError> {
        if config.get_application_name().is_none() {
            config.application_name("civmap");
        }
        migrate::run(&config).await?;
        let pool = Arc::new(Pool::new(config, POOL_SIZE));
        // Connect once now so that a bad URL or role fails here, not on the first request.
        drop(pool.get().await?);
        let filer = reports::spawn_filer(Arc::clone(&pool));
        Ok(Self {
            inner: Arc::new(Inner { pool, filer }),
        })
    }

    /// Where this store connects (for logs; no password).
    pub fn target(&self) -> String {
        describe_target(self.inner.pool.config())
    }

    fn pool(&self) -> &Pool {
        &self.inner.pool
    }
}

fn read_kind(row: &tokio_postgres::Row) -> Result<KindSpec, StoreError> {
    let get_err = pg_err("reading the kind catalogue");
    let fields = (|| {
        Ok::<_, tokio_postgres::Error>((
            row.try_get::<_, String>(0)?,
            row.try_get::<_, String>(1)?,
            row.try_get::<_, String>(2)?,
            row.try_get::<_, String>(3)?,
            row.try_get::<_, String>(4)?,
            row.try_get::<_, i32>(5)?,
            row.try_get::<_, f64>(6)?,
        ))
    })();
    let (kind, name_zh, name_en, geometry_type, colour, priority, snap_radius_m) =
        fields.map_err(get_err)?;
    Ok(KindSpec {
        geometry_type: GeometryType::parse(&geometry_type)?,
        kind,
        name_zh,
        name_en,
        colour,
        priority,
        snap_radius_m,
    })
}

fn read_asset(row: &tokio_postgres::Row) -> Result<Asset, tokio_postgres::Error> {
    let properties = match row.try_get::<_, serde_json::Value>(5)? {
        serde_json::Value::Object(map) => map,
        _ => serde_json::Map::new(),
    };
    Ok(Asset {
        id: row.try_get(0)?,
        kind: row.try_get(1)?,
        name: row.try_get(2)?,
        district: row.try_get(3)?,
        unit: row.try_get(4)?,
        properties,
        // filled in by the caller, which can say which asset a bad geometry belongs to
        geometry: geo::Geometry::Point(geo::Point::new(0.0, 0.0)),
    })
}

/// The assets of one batch as column arrays, one entry per distinct id: an id given twice is
/// written once, at its first position, with its last values (as the GeoPackage store does).
struct AssetColumns<'a> {
    ids: Vec<&'a str>,
    names: Vec<&'a str>,
    districts: Vec<Option<&'a str>>,
    units: Vec<Option<&'a str>>,
    properties: Vec<serde_json::Value>,
    wkb: Vec<Vec<u8>>,
}

impl<'a> AssetColumns<'a> {
    fn new(assets: &'a [Asset]) -> Self {
        let mut slot: std::collections::HashMap<&str, usize> = Default::default();
        let mut columns = Self {
            ids: Vec::with_capacity(assets.len()),
            names: Vec::with_capacity(assets.len()),
            districts: Vec::with_capacity(assets.len()),
            units: Vec::with_capacity(assets.len()),
            properties: Vec::with_capacity(assets.len()),
            wkb: Vec::with_capacity(assets.len()),
        };
        for asset in assets {
            let properties = serde_json::Value::Object(asset.properties.clone());
            let wkb = to_wkb(&asset.geometry);
            match slot.get(asset.id.as_str()) {
                Some(&n) => {
                    columns.names[n] = &asset.name;
                    columns.districts[n] = asset.district.as_deref();
                    columns.units[n] = asset.unit.as_deref();
                    columns.properties[n] = properties;
                    columns.wkb[n] = wkb;
                }
                None => {
                    slot.insert(&asset.id, columns.ids.len());
                    columns.ids.push(&asset.id);
                    columns.names.push(&asset.name);
                    columns.districts.push(asset.district.as_deref());
                    columns.units.push(asset.unit.as_deref());
                    columns.properties.push(properties);
                    columns.wkb.push(wkb);
                }
            }
        }
        columns
    }
}

#[async_trait]
impl Store for PostgisStore {
    async fn catalogue(&self) -> Result<Catalogue, StoreError> {
        let mut conn = self.pool().get().await?;
        let statement = conn
            .prepared(READ_CATALOGUE)
            .await
            .map_err(pg_err("reading the kind catalogue"))?;
        let rows = conn
            .client
            .query(&statement, &[])
            .await
            .map_err(pg_err("reading the kind catalogue"))?;
        let kinds = rows.iter().map(read_kind).collect::<Result<_, _>>()?;
        Ok(Catalogue { kinds })
    }

    async fn put_kind(&self, spec: &KindSpec) -> Result<(), StoreError> {
        spec.validate()?;
        let doing = || format!("adding kind {}", spec.kind);
        let mut conn = self.pool().get().await?;
        let statement = conn.prepared(PUT_KIND).await.map_err(pg_err(doing()))?;
        let geometry_type = spec.geometry_type.geojson_name().to_ascii_lowercase();
        conn.client
            .execute(
                &statement,
                &[
                    &spec.kind,
                    &spec.name_zh,
                    &spec.name_en,
                    &geometry_type,
                    &spec.colour,
                    &spec.priority,
                    &spec.snap_radius_m,
                ],
            )
            .await
            .map_err(pg_err(doing()))?;
        Ok(())
    }

    async fn load_assets(&self) -> Result<Vec<Asset>, StoreError> {
        let doing = "reading the assets";
        let mut conn = self.pool().get().await?;
        let statement = conn.prepared(LOAD_ASSETS).await.map_err(pg_err(doing))?;
        let rows = conn
            .client
            .query(&statement, &[])
            .await
            .map_err(pg_err(doing))?;
        rows.iter()
            .map(|row| {
                let mut asset = read_asset(row).map_err(pg_err(doing))?;
                let wkb: &[u8] = row.try_get(6).map_err(pg_err(doing))?;
                asset.geometry = from_wkb(wkb).map_err(|e| StoreError::Unreadable {
                    doing: format!("reading the geometry of asset {}", asset.id),
                    what: e.to_string(),
                })?;
                Ok(asset)
            })
            .collect()
    }

    async fn upsert_assets(&self, kind: &str, assets: &[Asset]) -> Result<usize, StoreError> {
        let catalogue = self.catalogue().await?;
        let spec = catalogue.require(kind)?;
        for asset in assets {
            asset.validate(spec)?;
        }
        let columns = AssetColumns::new(assets);
        let doing = || format!("importing {} {kind} assets", assets.len());
        let mut conn = self.pool().get().await?;
        let upsert = conn
            .prepared(UPSERT_ASSETS)
            .await
            .map_err(pg_err(doing()))?;
        let id_taken = conn.prepared(ID_TAKEN).await.map_err(pg_err(doing()))?;
        let tx = conn.client.transaction().await.map_err(pg_err(doing()))?;
        let params: [&(dyn ToSql + Sync); 7] = [
            &kind,
            &columns.ids,
            &columns.names,
            &columns.districts,
            &columns.units,
            &columns.properties,
            &columns.wkb,
        ];
        let written = tx
            .execute(&upsert, &params)
            .await
            .map_err(pg_err(doing()))?;
        if written as usize != columns.ids.len() {
            // `ON CONFLICT ... WHERE assets.kind = EXCLUDED.kind` left out an id of another kind
            let taken = tx
                .query_opt(&id_taken, &[&columns.ids, &kind])
                .await
                .map_err(pg_err(doing()))?;
            let (id, existing_kind) = match taken {
                Some(row) => (
                    row.try_get(0).map_err(pg_err(doing()))?,
                    row.try_get(1).map_err(pg_err(doing()))?,
                ),
                None => (String::from("?"), String::from("?")),
            };
            return Err(StoreError::IdTakenByOtherKind {
                id,
                kind: kind.to_string(),
                existing_kind,
            });
        }
        tx.commit().await.map_err(pg_err(doing()))?;
        Ok(assets.len())
    }

    async fn asset_version(&self) -> Result<i64, StoreError> {
        let doing = "reading the asset version";
        let mut conn = self.pool().get().await?;
        let statement = conn.prepared(ASSET_VERSION).await.map_err(pg_err(doing))?;
        conn.client
            .query_one(&statement, &[])
            .await
            .and_then(|row| row.try_get(0))
            .map_err(pg_err(doing))
    }

    async fn insert_reports(&self, reports: Vec<NewReport>) -> Result<Vec<Report>, StoreError> {
        if reports.is_empty() {
            return Ok(Vec::new());
        }
        let (reply, done) = tokio::sync::oneshot::channel();
        self.inner
            .filer
            .send(reports::FileJob { reports, reply })
            .map_err(|_| StoreError::Task("the report filer has stopped".into()))?;
        done.await
            .map_err(|_| StoreError::Task("the report filer dropped a write".into()))?
    }

    async fn save_report(
        &self,
        expected: Status,
        report: Report,
        entry: Option<Transition>,
    ) -> Result<(), StoreError> {
        let mut conn = self.pool().get().await?;
        reports::save(&mut conn, expected, &report, entry.as_ref()).await
    }

    async fn load_reports(&self) -> Result<(Vec<Report>, Vec<Transition>), StoreError> {
        let mut conn = self.pool().get().await?;
        reports::load_all(&mut conn).await
    }

    async fn load_report(&self, id: i64) -> Result<Option<(Report, Vec<Transition>)>, StoreError> {
        let mut conn = self.pool().get().await?;
        reports::load_one(&mut conn, id).await
    }

    async fn insert_duty_post(
        &self,
        post: &DutyPost,
        actor: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<DutyPost, StoreError> {
        let mut conn = self.pool().get().await?;
        duty::insert(&mut conn, post, actor, at).await
    }

    async fn update_duty_post(
        &self,
        post: &DutyPost,
        action: &str,
        actor: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), StoreError> {
        let mut conn = self.pool().get().await?;
        duty::update(&mut conn, post, action, actor, at).await
    }

    async fn load_duty_posts(&self) -> Result<Vec<DutyPost>, StoreError> {
        let mut conn = self.pool().get().await?;
        duty::load(&mut conn).await
    }

    async fn duty_post_changes(&self, id: i64) -> Result<Vec<DutyPostChange>, StoreError> {
        let mut conn = self.pool().get().await?;
        duty::changes(&mut conn, id).await
    }

    /// Ids of reports filed or changed by other processes (other civmaps, SQL, QGIS), from a
    /// dedicated `LISTEN civmap_reports` connection that reconnects when lost. This store's own
    /// writes are left out: the caller already shows them, and reloading them could race with
    /// its next change of the same report.
    async fn report_change_feed(&self) -> Result<Option<mpsc::UnboundedReceiver<i64>>, StoreError> {
        let pool = self.pool();
        reports::follow_changes(pool.config().clone(), pool.own_pids())
            .await
            .map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Geometry, LineString, MultiPolygon, Point, Polygon};

    #[test]
    fn geometries_round_trip_through_plain_wkb() {
        let ring = LineString::from(vec![(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 0.0)]);
        let polygon = Polygon::new(ring.clone(), vec![]);
        for g in [
            Geometry::Point(Point::new(116.7, 39.5)),
            Geometry::LineString(ring),
            Geometry::MultiPolygon(MultiPolygon(vec![polygon.clone(), polygon])),
        ] {
            let wkb = to_wkb(&g);
            assert_eq!(wkb[0], 1, "little-endian WKB starts with 1");
            assert_eq!(from_wkb(&wkb).unwrap(), g);
        }
    }

    #[test]
    fn an_id_given_twice_in_a_batch_is_written_once_with_its_last_values() {
        let asset = |id: &str, name: &str| Asset {
            id: id.into(),
            kind: "bus_stop".into(),
            name: name.into(),
            district: None,
            unit: None,
            properties: Default::default(),
            geometry: Geometry::Point(Point::new(116.7, 39.5)),
        };
        let batch = [asset("a", "one"), asset("b", "two"), asset("a", "three")];
        let columns = AssetColumns::new(&batch);
        assert_eq!(columns.ids, ["a", "b"]);
        assert_eq!(columns.names, ["three", "two"]);
    }

    #[test]
    fn the_target_named_in_messages_has_no_password() {
        let config: Config = "postgres://civmap:secret@db.example:5433/city"
            .parse()
            .unwrap();
        let target = describe_target(&config);
        assert_eq!(target, "PostgreSQL civmap@db.example:5433/city");
    }
}
