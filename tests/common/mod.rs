//! Shared helpers for the integration tests: a demo city in a fresh store, and requests sent to
//! the real router without a socket.
//!
//! The store is a GeoPackage in a temporary directory, or, when `CIVMAP_TEST_DATABASE_URL`
//! names a PostgreSQL server with PostGIS (e.g. `postgres://postgres@127.0.0.1:5433/postgres`,
//! as `.ci/postgis start` prints), a fresh database created on it for each test and dropped
//! after it: one test suite, two backends.
#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use civmap::http::{AppState, router};
use civmap::service::{City, CityOptions, seed_demo_if_empty, spawn_report_feed};
use civmap::store::Store;
use civmap::store::gpkg::GeoPackageStore;
use civmap::store::postgis::PostgisStore;

/// Names a PostgreSQL server to run the store tests on (each test gets its own database).
pub const DATABASE_URL_VAR: &str = "CIVMAP_TEST_DATABASE_URL";

/// A demo city in a fresh store (removed on drop).
pub struct TestCity {
    pub dir: tempfile::TempDir,
    pub city: Arc<City>,
    pub router: Router,
    /// The test's own PostGIS database, when the tests run on PostGIS.
    pub database: Option<TestDatabase>,
}

impl TestCity {
    /// The GeoPackage file (GeoPackage runs only).
    pub fn store_path(&self) -> std::path::PathBuf {
        assert!(
            self.database.is_none(),
            "this test reads the GeoPackage file: run it without {DATABASE_URL_VAR}"
        );
        self.dir.path().join("civmap.gpkg")
    }
}

/// The PostgreSQL server the tests should use: `None` when `CIVMAP_TEST_DATABASE_URL` is unset
/// or empty.
pub fn test_database_url() -> Option<String> {
    std::env::var(DATABASE_URL_VAR)
        .ok()
        .filter(|url| !url.trim().is_empty())
}

/// For tests that only make sense on PostGIS: the server to use, or `None` to skip. Unset in CI
/// (CI=true) fails the test; set but empty means "PostGIS runs separately" (as .ci/test does in
/// its GeoPackage pass) and skips.
pub fn require_database() -> Option<String> {
    if let Some(url) = test_database_url() {
        return Some(url);
    }
    let unset = std::env::var_os(DATABASE_URL_VAR).is_none();
    if unset && std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "{DATABASE_URL_VAR} is required in CI: start a server with `bash .ci/postgis start DIR PORT`"
        );
    }
    eprintln!(
        "skipping: set {DATABASE_URL_VAR} to a PostgreSQL server with PostGIS (`bash .ci/postgis start DIR PORT` prints one)"
    );
    None
}

/// A database created for one test on the server at `CIVMAP_TEST_DATABASE_URL`, dropped (with
/// its connections) when this is dropped.
pub struct TestDatabase {
    pub name: String,
    /// Connects to this database.
    pub config: tokio_postgres::Config,
    server: tokio_postgres::Config,
}

async fn admin_client(server: &tokio_postgres::Config) -> tokio_postgres::Client {
    let (client, connection) = server
        .connect(tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("connecting to {DATABASE_URL_VAR}: {e}"));
    tokio::spawn(connection);
    client
}

impl TestDatabase {
    /// Creates an empty database `civmap_test_<pid>_<n>` on the server at `server_url`.
    pub async fn create(server_url: &str) -> TestDatabase {
        static SERIAL: AtomicU64 = AtomicU64::new(0);
        let server: tokio_postgres::Config = server_url
            .parse()
            .unwrap_or_else(|e| panic!("{DATABASE_URL_VAR} is not a PostgreSQL URL: {e}"));
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!(
            "civmap_test_{}_{}_{nanos}",
            std::process::id(),
            SERIAL.fetch_add(1, Ordering::Relaxed)
        );
        let client = admin_client(&server).await;
        // `name` is made of [a-z0-9_] above: safe as an identifier.
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap_or_else(|e| panic!("creating database {name}: {e:?}"));
        let mut config = server.clone();
        config.dbname(&name);
        TestDatabase {
            name,
            config,
            server,
        }
    }

    /// A new store (its own connection pool) on this database, migrations applied.
    pub async fn store(&self) -> PostgisStore {
        PostgisStore::connect_with(self.config.clone())
            .await
            .unwrap_or_else(|e| panic!("connecting to test database {}: {e}", self.name))
    }

    /// A plain client on this database, for checking what the store wrote.
    pub async fn client(&self) -> tokio_postgres::Client {
        admin_client(&self.config).await
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (server, name) = (self.server.clone(), self.name.clone());
        // On a thread of its own: the test's runtime may be the one being dropped.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async move {
                let (client, connection) = server.connect(tokio_postgres::NoTls).await.ok()?;
                tokio::spawn(connection);
                client
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await
                    .ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(()))) {
            eprintln!("note: could not drop test database {}", self.name);
        }
    }
}

fn default_options(dir: &tempfile::TempDir) -> CityOptions {
    CityOptions {
        reports: Default::default(),
        photo_dir: dir.path().join("photos"),
        max_photo_bytes: 64 << 10,
    }
}

fn router_for(city: &Arc<City>) -> Router {
    router(
        AppState {
            city: Arc::clone(city),
        },
        None,
    )
}

pub async fn demo_city() -> TestCity {
    demo_city_with(|_| {}).await
}

/// A demo city whose options `tweak` may change (e.g. reject permitted zones), on PostGIS when
/// `CIVMAP_TEST_DATABASE_URL` is set, else on a GeoPackage.
pub async fn demo_city_with(tweak: impl FnOnce(&mut CityOptions)) -> TestCity {
    match test_database_url() {
        Some(url) => postgis_demo_city(&url, tweak).await,
        None => gpkg_demo_city_with(tweak).await,
    }
}

/// A demo city on a GeoPackage, whatever the environment says.
pub async fn gpkg_demo_city() -> TestCity {
    gpkg_demo_city_with(|_| {}).await
}

async fn gpkg_demo_city_with(tweak: impl FnOnce(&mut CityOptions)) -> TestCity {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = GeoPackageStore::open(&dir.path().join("civmap.gpkg")).expect("open store");
    seed_demo_if_empty(&store).await.expect("seed demo");
    let mut options = default_options(&dir);
    tweak(&mut options);
    let city = Arc::new(
        City::open(Arc::new(store), options)
            .await
            .expect("open city"),
    );
    let router = router_for(&city);
    TestCity {
        dir,
        city,
        router,
        database: None,
    }
}

async fn postgis_demo_city(server_url: &str, tweak: impl FnOnce(&mut CityOptions)) -> TestCity {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = TestDatabase::create(server_url).await;
    let mut options = default_options(&dir);
    tweak(&mut options);
    let (city, router) = open_postgis_city(database.store().await, options).await;
    TestCity {
        dir,
        city,
        router,
        database: Some(database),
    }
}

/// A city on `store` (the demo seeded if the database is empty) following the store's report
/// change feed, and its router.
pub async fn open_postgis_city(store: PostgisStore, options: CityOptions) -> (Arc<City>, Router) {
    seed_demo_if_empty(&store).await.expect("seed demo");
    let store: Arc<dyn Store> = Arc::new(store);
    let city = Arc::new(City::open(store, options).await.expect("open city"));
    spawn_report_feed(Arc::clone(&city))
        .await
        .expect("follow the report change feed");
    let router = router_for(&city);
    (city, router)
}

/// A response: status, content type and the body parsed as JSON (a JSON string when not JSON).
pub struct Reply {
    pub status: StatusCode,
    pub content_type: String,
    pub body: Value,
}

pub async fn send(router: &Router, method: &str, uri: &str) -> Reply {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header("host", "civmap.test")
        .body(Body::empty())
        .expect("request");
    let response = router.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    Reply {
        status,
        content_type,
        body,
    }
}

pub async fn get(router: &Router, uri: &str) -> Reply {
    send(router, "GET", uri).await
}

/// Asserts a 4xx problem+json reply whose detail mentions `needle`.
pub fn assert_problem(reply: &Reply, status: u16, needle: &str) {
    assert_eq!(reply.status.as_u16(), status, "body: {}", reply.body);
    assert_eq!(reply.content_type, "application/problem+json");
    assert_eq!(reply.body["status"], status);
    let detail = reply.body["detail"].as_str().unwrap_or("");
    assert!(
        detail.contains(needle),
        "detail {detail:?} does not mention {needle:?}"
    );
}

/// Whether an external tool is on PATH; in CI (CI=true) its absence fails the test.
pub fn require_tool(tool: &str) -> bool {
    let found = std::process::Command::new(tool)
        .arg("--version")
        .output()
        .is_ok();
    if !found {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{tool} is required in CI but is not installed");
        }
        eprintln!("skipping: {tool} is not installed (the README test command installs it)");
    }
    found
}

/// Sends a body with a content type.
pub async fn send_body(
    router: &Router,
    method: &str,
    uri: &str,
    content_type: &str,
    body: Vec<u8>,
) -> Reply {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header("host", "civmap.test")
        .header("content-type", content_type)
        .body(Body::from(body))
        .expect("request");
    let response = router.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    Reply {
        status,
        content_type,
        body,
    }
}

/// POSTs JSON.
pub async fn post_json(router: &Router, uri: &str, body: &Value) -> Reply {
    send_body(
        router,
        "POST",
        uri,
        "application/json",
        body.to_string().into_bytes(),
    )
    .await
}

/// One part of a multipart body: field name, optional (filename, content type), bytes.
pub type Part<'a> = (&'a str, Option<(&'a str, &'a str)>, &'a [u8]);

/// A multipart/form-data body and its content type.
pub fn multipart(parts: &[Part<'_>]) -> (String, Vec<u8>) {
    let boundary = "civmap-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, file, bytes) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match file {
            Some((filename, content_type)) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// A tiny real PNG (1×1, red).
pub const PNG_1X1: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90, 0x77, 0x53,
    0xDE, 0x00, 0x00, 0x00, 0x0C, 0x49, 0x44, 0x41, 0x54, 0x08, 0xD7, 0x63, 0xF8, 0xCF, 0xC0, 0x00,
    0x00, 0x03, 0x01, 0x01, 0x00, 0x18, 0xDD, 0x8D, 0xB0, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E,
    0x44, 0xAE, 0x42, 0x60, 0x82,
];
