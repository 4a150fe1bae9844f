//! The `civmap` command line: importing GeoJSON all-or-nothing and adding a kind without code.

use std::path::Path;
use std::process::{Command, Output};

use civmap::store::Store;
use civmap::store::gpkg::GeoPackageStore;

fn civmap(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_civmap"))
        .arg(args[0])
        .arg("--data")
        .arg(data)
        .args(&args[1..])
        .output()
        .expect("run civmap")
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

async fn count(data: &Path, kind: &str) -> usize {
    let store = GeoPackageStore::open(&data.join("civmap.gpkg")).unwrap();
    store
        .load_assets()
        .await
        .unwrap()
        .iter()
        .filter(|a| a.kind == kind)
        .count()
}

const TOILETS: &str = r#"{"type":"FeatureCollection","features":[
 {"type":"Feature","id":"wc-1","properties":{"name":"人民公园公厕","district":"广阳区","unit":"广阳区城管局"},
  "geometry":{"type":"Point","coordinates":[116.7007,39.5319]}},
 {"type":"Feature","id":"wc-2","properties":{"name":"新华广场公厕","district":"广阳区","unit":"广阳区城管局"},
  "geometry":{"type":"Point","coordinates":[116.7016,39.5245]}}]}"#;

#[tokio::test]
async fn import_adds_assets_and_a_bad_file_imports_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let good = write(dir.path(), "toilets.geojson", TOILETS);
    let out = civmap(&data, &["import", &good, "--kind", "public_toilet"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(count(&data, "public_toilet").await, 2);

    let half_bad = TOILETS
        .replace("wc-1", "wc-3")
        .replace("wc-2", "wc-4")
        .replace("39.5245]", "99.5245]");
    let bad = write(dir.path(), "bad.geojson", &half_bad);
    let out = civmap(&data, &["import", &bad, "--kind", "public_toilet"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("feature 1") && stderr.contains("nothing was imported"),
        "{stderr}"
    );
    assert_eq!(count(&data, "public_toilet").await, 2);

    let malformed = write(
        dir.path(),
        "malformed.geojson",
        "{\"type\":\"FeatureCollection\",\"features\":[",
    );
    let out = civmap(&data, &["import", &malformed, "--kind", "public_toilet"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not valid GeoJSON"));

    let out = civmap(&data, &["import", &good, "--kind", "volcano"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown kind"));
}

#[tokio::test]
async fn importing_the_same_ids_again_replaces_instead_of_duplicating() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let good = write(dir.path(), "toilets.geojson", TOILETS);
    for _ in 0..2 {
        let out = civmap(&data, &["import", &good, "--kind", "public_toilet"]);
        assert!(out.status.success());
    }
    assert_eq!(count(&data, "public_toilet").await, 2);
}

#[tokio::test]
async fn a_new_kind_is_added_as_data_and_then_imported() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = civmap(
        &data,
        &[
            "add-kind",
            "school",
            "--name-zh",
            "学校",
            "--name-en",
            "School",
            "--geometry",
            "point",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let schools = TOILETS.replace("公厕", "小学");
    let file = write(dir.path(), "schools.geojson", &schools);
    let out = civmap(&data, &["import", &file, "--kind", "school"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(count(&data, "school").await, 2);
    let out = civmap(
        &data,
        &[
            "add-kind",
            "Bad Name",
            "--name-zh",
            "x",
            "--name-en",
            "x",
            "--geometry",
            "point",
        ],
    );
    assert!(!out.status.success());
}

/// GET over a plain socket; returns the body.
fn http_get(addr: &str, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    text.split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct KillOnDrop(std::process::Child);
impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn a_running_server_serves_the_demo_and_sees_assets_imported_by_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let addr = format!("127.0.0.1:{}", free_port());
    let _server = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_civmap"))
            .args(["serve", "--listen", &addr, "--data"])
            .arg(&data)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let toilets = |body: &str| -> Option<u64> {
        let v: serde_json::Value = serde_json::from_str(body).ok()?;
        v["layers"]
            .as_array()?
            .iter()
            .find(|l| l["kind"] == "public_toilet")?["count"]
            .as_u64()
    };
    let mut before = None;
    for _ in 0..300 {
        before = http_get(&addr, "/api/layers").and_then(|b| toilets(&b));
        if before.is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(
        before,
        Some(0),
        "the server did not come up with the demo catalogue"
    );
    let roads = http_get(&addr, "/api/layers/road?limit=1").unwrap();
    assert!(roads.contains("\"numberMatched\""), "{roads}");

    let file = write(dir.path(), "toilets.geojson", TOILETS);
    let out = civmap(&data, &["import", &file, "--kind", "public_toilet"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut after = None;
    for _ in 0..100 {
        after = http_get(&addr, "/api/layers").and_then(|b| toilets(&b));
        if after == Some(2) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(after, Some(2));
}
