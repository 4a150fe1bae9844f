//! Shared helpers for the integration tests: a demo city in a fresh GeoPackage, and requests
//! sent to the real router without a socket.
#![allow(dead_code)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use civmap::http::{AppState, router};
use civmap::service::{City, CityOptions, seed_demo_if_empty};
use civmap::store::gpkg::GeoPackageStore;

/// A demo city on a GeoPackage in a temporary directory (removed on drop).
pub struct TestCity {
    pub dir: tempfile::TempDir,
    pub city: Arc<City>,
    pub router: Router,
}

impl TestCity {
    pub fn store_path(&self) -> std::path::PathBuf {
        self.dir.path().join("civmap.gpkg")
    }
}

pub async fn demo_city() -> TestCity {
    demo_city_with(|_| {}).await
}

/// A demo city whose options `tweak` may change (e.g. reject permitted zones).
pub async fn demo_city_with(tweak: impl FnOnce(&mut CityOptions)) -> TestCity {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = GeoPackageStore::open(&dir.path().join("civmap.gpkg")).expect("open store");
    seed_demo_if_empty(&store).await.expect("seed demo");
    let mut options = CityOptions {
        reports: Default::default(),
        photo_dir: dir.path().join("photos"),
        max_photo_bytes: 64 << 10,
    };
    tweak(&mut options);
    let city = Arc::new(
        City::open(Arc::new(store), options)
            .await
            .expect("open city"),
    );
    let router = router(
        AppState {
            city: Arc::clone(&city),
        },
        None,
    );
    TestCity { dir, city, router }
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
