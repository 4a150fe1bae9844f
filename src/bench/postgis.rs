//! The PostGIS peer for `civmap bench`: a throwaway PostgreSQL 15/PostGIS cluster on 127.0.0.1,
//! the synth-20km city loaded into it (EPSG:32650, UTM 50N, metres, as shared/BENCHMARKS.md's
//! peer figures; plus the WGS84 geometry for GeoJSON), and the peer queries of BENCHMARKS.md.
//!
//! This is the one place outside `store` that writes SQL: it is the peer being measured, so its
//! statements are the ones a PostGIS user would write. They are static and parameterised.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, NoTls};

use crate::layers::BBox;
use crate::model::Asset;

/// Where Debian's postgresql-15 package puts the server binaries.
pub const BIN_DIR: &str = "/usr/lib/postgresql/15/bin";
/// Where Debian's postgresql-15-postgis-3 package puts the extension's control file.
pub const POSTGIS_CONTROL: &str = "/usr/share/postgresql/15/extension/postgis.control";
/// The environment variable naming an existing database to use instead of a throwaway cluster.
pub const DATABASE_URL_VAR: &str = "CIVMAP_BENCH_DATABASE_URL";
/// Rows fetched per round trip when streaming a large result.
const FETCH_ROWS: i32 = 50_000;

/// What went wrong while starting or measuring the peer.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    /// PostgreSQL or PostGIS is not installed; the peer is skipped.
    #[error("{what} not found at {}", path.display())]
    NotInstalled { what: &'static str, path: PathBuf },
    #[error("{doing}: {source}")]
    Io {
        doing: String,
        source: std::io::Error,
    },
    #[error("{doing} failed ({status}): {output}")]
    Command {
        doing: String,
        status: std::process::ExitStatus,
        output: String,
    },
    #[error("{doing}: {}", describe(.source))]
    Sql {
        doing: &'static str,
        source: tokio_postgres::Error,
    },
}

impl PeerError {
    /// True when the peer could not run because PostgreSQL or PostGIS is not installed.
    pub fn is_not_installed(&self) -> bool {
        match self {
            PeerError::NotInstalled { .. } => true,
            PeerError::Sql { source, .. } => source
                .as_db_error()
                .is_some_and(|db| db.message().contains("extension control file")),
            _ => false,
        }
    }
}

/// tokio_postgres's `Display` says only "db error"; this adds the server's message.
fn describe(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => match std::error::Error::source(error) {
            Some(cause) => format!("{error}: {cause}"),
            None => error.to_string(),
        },
    }
}

fn sql(doing: &'static str) -> impl FnOnce(tokio_postgres::Error) -> PeerError {
    move |source| PeerError::Sql { doing, source }
}

/// A PostgreSQL database for the peer: a throwaway cluster in a temp dir (stopped and removed
/// on drop), or an existing database named by [`DATABASE_URL_VAR`].
#[derive(Debug)]
pub struct Cluster {
    url: String,
    owned: Option<OwnedCluster>,
}

#[derive(Debug)]
struct OwnedCluster {
    dir: PathBuf,
    /// Whether the server commands must be run through `runuser -u postgres` (we are root).
    as_postgres: bool,
}

impl Cluster {
    /// The database named by `CIVMAP_BENCH_DATABASE_URL` when set, else a throwaway cluster.
    pub fn from_env() -> Result<Cluster, PeerError> {
        match std::env::var(DATABASE_URL_VAR) {
            Ok(url) if !url.trim().is_empty() => Ok(Cluster { url, owned: None }),
            _ => Cluster::start(),
        }
    }

    /// Starts a PostgreSQL 15 cluster on a free 127.0.0.1 port, in a new temp dir that also
    /// holds its Unix socket. `initdb` runs as the `postgres` OS user when we are root.
    pub fn start() -> Result<Cluster, PeerError> {
        let bin = Path::new(BIN_DIR);
        for tool in ["initdb", "pg_ctl", "postgres"] {
            if !bin.join(tool).is_file() {
                return Err(PeerError::NotInstalled {
                    what: "PostgreSQL 15",
                    path: bin.join(tool),
                });
            }
        }
        if !Path::new(POSTGIS_CONTROL).is_file() {
            return Err(PeerError::NotInstalled {
                what: "PostGIS for PostgreSQL 15",
                path: POSTGIS_CONTROL.into(),
            });
        }
        let as_postgres = running_as_root();
        let dir = new_temp_dir()?;
        // From here on, dropping `cluster` stops whatever was started and removes the dir.
        let mut cluster = Cluster {
            url: String::new(),
            owned: Some(OwnedCluster {
                dir: dir.clone(),
                as_postgres,
            }),
        };
        if as_postgres {
            run(
                Command::new("chown").arg("postgres:").arg(&dir),
                "chown the cluster dir to postgres",
            )?;
        }
        let data = dir.join("data");
        run(
            server_command(as_postgres, "initdb")
                .args([
                    "-U",
                    "postgres",
                    "-A",
                    "trust",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ])
                .arg("-D")
                .arg(&data),
            "initdb",
        )?;
        let port = free_port()?;
        let settings = format!(
            "\n# civmap bench: a throwaway cluster\nlisten_addresses = '127.0.0.1'\nport = {port}\n\
             unix_socket_directories = '{}'\n",
            dir.display()
        );
        append(&data.join("postgresql.conf"), &settings)?;
        run(
            server_command(as_postgres, "pg_ctl")
                .args(["start", "-w", "-t", "60", "-D"])
                .arg(&data)
                .arg("-l")
                .arg(dir.join("postgres.log")),
            "pg_ctl start",
        )
        .map_err(|e| with_log(e, &dir.join("postgres.log")))?;
        cluster.url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
        Ok(cluster)
    }

    /// The connection URL, `postgres://postgres@127.0.0.1:PORT/postgres` for a throwaway cluster.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// True when this cluster was started here (and is stopped on drop).
    pub fn is_throwaway(&self) -> bool {
        self.owned.is_some()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let Some(owned) = self.owned.take() else {
            return;
        };
        let data = owned.dir.join("data");
        if data.join("postmaster.pid").is_file() {
            let stopped = run(
                server_command(owned.as_postgres, "pg_ctl")
                    .args(["stop", "-m", "immediate", "-w", "-D"])
                    .arg(&data),
                "pg_ctl stop",
            );
            if let Err(e) = stopped {
                eprintln!("civmap bench: stopping the PostgreSQL cluster: {e}");
            }
        }
        if let Err(e) = std::fs::remove_dir_all(&owned.dir) {
            eprintln!("civmap bench: removing {}: {e}", owned.dir.display());
        }
    }
}

fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// A server binary, run as the postgres user when we are root (initdb refuses root).
fn server_command(as_postgres: bool, tool: &str) -> Command {
    let path = Path::new(BIN_DIR).join(tool);
    if as_postgres {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(path);
        command
    } else {
        Command::new(path)
    }
}

fn run(command: &mut Command, doing: &str) -> Result<Output, PeerError> {
    let output = command.output().map_err(|source| PeerError::Io {
        doing: format!("running {doing}"),
        source,
    })?;
    if output.status.success() {
        return Ok(output);
    }
    let mut text = String::from_utf8_lossy(&output.stderr).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stdout));
    Err(PeerError::Command {
        doing: doing.to_string(),
        status: output.status,
        output: text.trim().to_string(),
    })
}

/// Adds the server log's last lines to a failed start.
fn with_log(error: PeerError, log: &Path) -> PeerError {
    match error {
        PeerError::Command {
            doing,
            status,
            output,
        } => {
            let tail = std::fs::read_to_string(log).unwrap_or_default();
            let tail: Vec<&str> = tail.lines().rev().take(10).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            PeerError::Command {
                doing,
                status,
                output: format!("{output}\n{}", tail.join("\n")),
            }
        }
        other => other,
    }
}

fn new_temp_dir() -> Result<PathBuf, PeerError> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir =
        std::env::temp_dir().join(format!("civmap-bench-pg-{}-{nanos:09}", std::process::id()));
    std::fs::create_dir(&dir).map_err(|source| PeerError::Io {
        doing: format!("creating {}", dir.display()),
        source,
    })?;
    Ok(dir)
}

fn free_port() -> Result<u16, PeerError> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|source| PeerError::Io {
        doing: "finding a free port on 127.0.0.1".into(),
        source,
    })?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|source| PeerError::Io {
            doing: "finding a free port on 127.0.0.1".into(),
            source,
        })
}

fn append(path: &Path, text: &str) -> Result<(), PeerError> {
    use std::io::Write;
    std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|source| PeerError::Io {
            doing: format!("appending to {}", path.display()),
            source,
        })
}

/// The benchmark's tables live in their own schema, dropped at the end, so that an existing
/// database given by [`DATABASE_URL_VAR`] keeps its own tables.
const SETUP_SQL: &str = "
    CREATE EXTENSION IF NOT EXISTS postgis;
    DROP SCHEMA IF EXISTS civmap_bench CASCADE;
    CREATE SCHEMA civmap_bench;
    SET search_path = civmap_bench, public;
    -- civmap answers on one thread: keep the peer to one backend too.
    SET max_parallel_workers_per_gather = 0;
    CREATE TEMP TABLE asset_load (
        id text, kind text, name text, district text, unit text,
        source int, target int, geojson text);
    CREATE TEMP TABLE report_load (id int, lon float8, lat float8);
";

const COPY_ASSETS: &str = "COPY asset_load FROM STDIN (FORMAT binary)";
const COPY_REPORTS: &str = "COPY report_load FROM STDIN (FORMAT binary)";

/// From the loaded rows to the measured tables: EPSG:32650 for the metric work (transformed
/// here, once), EPSG:4326 kept for GeoJSON, GiST indexes, fresh statistics.
const BUILD_SQL: &str = "
    CREATE TABLE asset AS
        SELECT id, kind, name, district, unit, source, target,
               ST_Transform(g, 32650)::geometry(Geometry, 32650) AS geom,
               g::geometry(Geometry, 4326) AS geom4326
        FROM (SELECT *, ST_SetSRID(ST_GeomFromGeoJSON(geojson), 4326) AS g FROM asset_load) s;
    CREATE TABLE report AS
        SELECT id,
               ST_Transform(p, 32650)::geometry(Point, 32650) AS geom,
               p::geometry(Point, 4326) AS geom4326
        FROM (SELECT id, ST_SetSRID(ST_MakePoint(lon, lat), 4326) AS p FROM report_load) s
        ORDER BY id;
    CREATE INDEX asset_geom ON asset USING gist (geom);
    CREATE INDEX asset_geom4326 ON asset USING gist (geom4326);
    DROP TABLE asset_load, report_load;
    ANALYZE asset;
    ANALYZE report;
";

/// BENCHMARKS.md's batch KNN: the nearest asset of the given kinds to every report.
const NEAREST_BATCH: &str = "
    SELECT r.id, a.id
    FROM report r
    CROSS JOIN LATERAL (
        SELECT id FROM asset a WHERE a.kind = ANY($1) ORDER BY a.geom <-> r.geom LIMIT 1
    ) a";

/// The same answers for the first `$2` reports, with the distances to check them by: planar in
/// UTM 50N, and on the WGS84 spheroid (geography).
const NEAREST_CHECK: &str = "
    SELECT r.id, a.id, ST_Distance(a.geom, r.geom),
           ST_Distance(a.geom4326::geography, r.geom4326::geography)
    FROM report r
    CROSS JOIN LATERAL (
        SELECT id, geom, geom4326 FROM asset a
        WHERE a.kind = ANY($1) ORDER BY a.geom <-> r.geom LIMIT 1
    ) a
    WHERE r.id < $2
    ORDER BY r.id";

const GEOJSON_BBOX: &str = r#"
    SELECT '{"type":"FeatureCollection","features":[' || coalesce(string_agg(ST_AsGeoJSON(t.*)::text, ','), '') || ']}'
    FROM (
        SELECT id, kind, name, district, unit, source, target, geom4326 FROM asset
        WHERE ST_Intersects(geom4326, ST_MakeEnvelope($1, $2, $3, $4, 4326))
    ) t"#;

/// The 500 duty posts as a table in the metric CRS.
const LOAD_POSTS: &str = "
    CREATE TABLE post AS
        SELECT n AS id, ST_Transform(ST_SetSRID(ST_MakePoint(lon, lat), 4326), 32650) AS geom
        FROM unnest($1::float8[], $2::float8[]) WITH ORDINALITY AS t(lon, lat, n)";

/// Intersections within reach of any post: the ST_DWithin join of BENCHMARKS.md.
const COVERED_BY_POSTS: &str = "
    SELECT count(DISTINCT a.id) FROM asset a JOIN post p ON ST_DWithin(a.geom, p.geom, $1)
    WHERE a.kind = 'intersection'";

const GEOJSON_ALL: &str = r#"
    SELECT '{"type":"FeatureCollection","features":[' || coalesce(string_agg(ST_AsGeoJSON(t.*)::text, ','), '') || ']}'
    FROM (SELECT id, kind, name, district, unit, source, target, geom4326 FROM asset) t"#;

const COUNT_BBOX: &str = "SELECT count(*) FROM asset WHERE ST_Intersects(geom4326, ST_MakeEnvelope($1, $2, $3, $4, 4326))";

const TEARDOWN_SQL: &str = "DROP SCHEMA IF EXISTS civmap_bench CASCADE";

/// PostGIS's answer for one report, with its distances in metres.
#[derive(Debug, Clone, PartialEq)]
pub struct PeerHit {
    pub report: usize,
    pub asset_id: String,
    /// Planar distance in EPSG:32650.
    pub utm_m: f64,
    /// Distance on the WGS84 spheroid (`geography`).
    pub spheroid_m: f64,
}

/// A connection to the peer, with the synth city loaded.
pub struct Peer {
    client: Client,
    connection: JoinHandle<()>,
}

impl Peer {
    /// Connects to `url` and makes the benchmark schema (dropping an earlier one).
    pub async fn connect(url: &str) -> Result<Peer, PeerError> {
        let (client, connection) = tokio_postgres::connect(url, NoTls)
            .await
            .map_err(sql("connecting to PostgreSQL"))?;
        let connection = tokio::spawn(async move {
            if let Err(e) = connection.await {
                eprintln!("civmap bench: PostgreSQL connection: {}", describe(&e));
            }
        });
        client
            .batch_execute(SETUP_SQL)
            .await
            .map_err(sql("creating the benchmark schema (PostGIS extension)"))?;
        Ok(Peer { client, connection })
    }

    /// Loads `assets` (WGS84) and the report `points` (lon, lat) with binary COPY, transforms
    /// them to EPSG:32650, indexes and analyses. Report ids are the points' positions.
    pub async fn load(&self, assets: &[Asset], points: &[(f64, f64)]) -> Result<(), PeerError> {
        let sink = self
            .client
            .copy_in(COPY_ASSETS)
            .await
            .map_err(sql("starting COPY asset_load"))?;
        let types = [
            Type::TEXT,
            Type::TEXT,
            Type::TEXT,
            Type::TEXT,
            Type::TEXT,
            Type::INT4,
            Type::INT4,
            Type::TEXT,
        ];
        let writer = BinaryCopyInWriter::new(sink, &types);
        tokio::pin!(writer);
        for asset in assets {
            let end = |key: &str| {
                asset
                    .properties
                    .get(key)
                    .and_then(serde_json::Value::as_i64)
                    .and_then(|n| i32::try_from(n).ok())
            };
            let (source, target) = (end("source"), end("target"));
            let geojson = geojson::Geometry::from(&asset.geometry).to_string();
            let row: [&(dyn ToSql + Sync); 8] = [
                &asset.id,
                &asset.kind,
                &asset.name,
                &asset.district,
                &asset.unit,
                &source,
                &target,
                &geojson,
            ];
            writer
                .as_mut()
                .write(&row)
                .await
                .map_err(sql("COPY asset_load"))?;
        }
        writer
            .finish()
            .await
            .map_err(sql("finishing COPY asset_load"))?;

        let sink = self
            .client
            .copy_in(COPY_REPORTS)
            .await
            .map_err(sql("starting COPY report_load"))?;
        let writer = BinaryCopyInWriter::new(sink, &[Type::INT4, Type::FLOAT8, Type::FLOAT8]);
        tokio::pin!(writer);
        for (n, (lon, lat)) in points.iter().enumerate() {
            let id = i32::try_from(n).unwrap_or(i32::MAX);
            writer
                .as_mut()
                .write(&[&id, lon, lat])
                .await
                .map_err(sql("COPY report_load"))?;
        }
        writer
            .finish()
            .await
            .map_err(sql("finishing COPY report_load"))?;

        self.client
            .batch_execute(BUILD_SQL)
            .await
            .map_err(sql("transforming to EPSG:32650, indexing and analysing"))
    }

    /// Runs the batch KNN over every report for `kinds`; returns the rows received and the
    /// wall time (rows streamed to this client in chunks).
    pub async fn nearest_batch(&mut self, kinds: &[&str]) -> Result<(usize, Duration), PeerError> {
        let kinds: Vec<String> = kinds.iter().map(|k| k.to_string()).collect();
        let statement = self
            .client
            .prepare(NEAREST_BATCH)
            .await
            .map_err(sql("preparing the batch KNN"))?;
        let start = Instant::now();
        let tx = self
            .client
            .transaction()
            .await
            .map_err(sql("starting a transaction"))?;
        let portal = tx
            .bind(&statement, &[&kinds])
            .await
            .map_err(sql("binding the batch KNN"))?;
        let mut rows = 0;
        loop {
            let chunk = tx
                .query_portal(&portal, FETCH_ROWS)
                .await
                .map_err(sql("fetching batch KNN rows"))?;
            rows += chunk.len();
            if chunk.len() < FETCH_ROWS as usize {
                break;
            }
        }
        tx.commit().await.map_err(sql("ending the transaction"))?;
        Ok((rows, start.elapsed()))
    }

    /// PostGIS's nearest asset of `kinds` for each of the first `n` reports, in report order.
    pub async fn nearest_sample(
        &self,
        kinds: &[&str],
        n: usize,
    ) -> Result<Vec<PeerHit>, PeerError> {
        let kinds: Vec<String> = kinds.iter().map(|k| k.to_string()).collect();
        let limit = i32::try_from(n).unwrap_or(i32::MAX);
        let rows = self
            .client
            .query(NEAREST_CHECK, &[&kinds, &limit])
            .await
            .map_err(sql("running the KNN check"))?;
        rows.iter()
            .map(|row| {
                let report: i32 = row.try_get(0).map_err(sql("reading the KNN check"))?;
                Ok(PeerHit {
                    report: usize::try_from(report).unwrap_or(usize::MAX),
                    asset_id: row.try_get(1).map_err(sql("reading the KNN check"))?,
                    utm_m: row.try_get(2).map_err(sql("reading the KNN check"))?,
                    spheroid_m: row.try_get(3).map_err(sql("reading the KNN check"))?,
                })
            })
            .collect()
    }

    /// How many assets meet `bbox` (lon/lat).
    pub async fn count_in_bbox(&self, bbox: BBox) -> Result<i64, PeerError> {
        let row = self
            .client
            .query_one(
                COUNT_BBOX,
                &[&bbox.min_lon, &bbox.min_lat, &bbox.max_lon, &bbox.max_lat],
            )
            .await
            .map_err(sql("counting assets in the bbox"))?;
        row.try_get(0).map_err(sql("reading the bbox count"))
    }

    /// Every asset meeting `bbox` (all when `None`) as one FeatureCollection, built in SQL.
    pub async fn geojson(&self, bbox: Option<BBox>) -> Result<String, PeerError> {
        let row = match bbox {
            Some(b) => {
                self.client
                    .query_one(
                        GEOJSON_BBOX,
                        &[&b.min_lon, &b.min_lat, &b.max_lon, &b.max_lat],
                    )
                    .await
            }
            None => self.client.query_one(GEOJSON_ALL, &[]).await,
        }
        .map_err(sql("building GeoJSON in SQL"))?;
        row.try_get(0).map_err(sql("reading the GeoJSON document"))
    }

    /// Loads `posts` (lon, lat) and times the ST_DWithin join counting intersections within
    /// `radius_m` of any post: (count, median time of `repeats` runs).
    pub async fn covered_by_posts(
        &self,
        posts: &[(f64, f64)],
        radius_m: f64,
        repeats: usize,
    ) -> Result<(i64, Duration), PeerError> {
        let lons: Vec<f64> = posts.iter().map(|p| p.0).collect();
        let lats: Vec<f64> = posts.iter().map(|p| p.1).collect();
        self.client
            .batch_execute("DROP TABLE IF EXISTS post")
            .await
            .map_err(sql("dropping the post table"))?;
        self.client
            .execute(LOAD_POSTS, &[&lons, &lats])
            .await
            .map_err(sql("loading the duty posts"))?;
        self.client
            .batch_execute("CREATE INDEX ON post USING gist (geom); ANALYZE post;")
            .await
            .map_err(sql("indexing the duty posts"))?;
        let mut count = 0;
        let mut samples = Vec::with_capacity(repeats);
        for _ in 0..=repeats {
            let start = Instant::now();
            let row = self
                .client
                .query_one(COVERED_BY_POSTS, &[&radius_m])
                .await
                .map_err(sql("joining intersections and posts"))?;
            samples.push(start.elapsed());
            count = row.try_get(0).map_err(sql("reading the covered count"))?;
        }
        samples.remove(0); // warm-up
        samples.sort();
        Ok((count, samples[samples.len() / 2]))
    }

    /// Drops the benchmark schema and closes the connection.
    pub async fn close(self) -> Result<(), PeerError> {
        let dropped = self
            .client
            .batch_execute(TEARDOWN_SQL)
            .await
            .map_err(sql("dropping the benchmark schema"));
        drop(self.client);
        // The connection task ends once the client is gone.
        let _ = self.connection.await;
        dropped
    }
}
