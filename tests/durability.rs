//! An acknowledged report survives a crash: reports stream in from several clients, the server
//! is killed with SIGKILL mid-stream, and after a restart every acknowledged report is there.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start(data: &std::path::Path, addr: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_civmap"))
        .args(["serve", "--listen", addr, "--data"])
        .arg(data)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start civmap")
}

/// One HTTP/1.1 request on a fresh connection; (status, body).
fn request(addr: &str, method: &str, path: &str, body: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string())?;
    Some((status, body))
}

fn wait_until_up(addr: &str) {
    let start = Instant::now();
    while request(addr, "GET", "/health", "").is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "civmap did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn every_acknowledged_report_survives_a_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let addr = format!("127.0.0.1:{}", free_port());
    let mut server = start(&data, &addr);
    wait_until_up(&addr);

    let acknowledged = Arc::new(Mutex::new(Vec::<i64>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..4)
        .map(|client| {
            let (addr, acknowledged, stop) = (addr.clone(), acknowledged.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut n = 0u32;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let lon = 116.68 + f64::from(n % 200) * 0.0002;
                    let lat = 39.51 + f64::from(client) * 0.003;
                    let body = format!(
                        r##"{{"lon":{lon},"lat":{lat},"category":"litter","reporter":"client {client}","description":"#{n}"}}"##
                    );
                    match request(&addr, "POST", "/api/reports", &body) {
                        Some((201, reply)) => {
                            let v: serde_json::Value = serde_json::from_str(&reply).unwrap();
                            acknowledged.lock().unwrap().push(v["id"].as_i64().unwrap());
                        }
                        Some((status, reply)) => panic!("unexpected {status}: {reply}"),
                        None => {} // the server died under us: not acknowledged
                    }
                }
            })
        })
        .collect();
    let started = Instant::now();
    while acknowledged.lock().unwrap().len() < 1000 && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(20));
    }
    server.kill().expect("SIGKILL"); // Child::kill sends SIGKILL on Unix
    server.wait().unwrap();
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() >= 1000,
        "only {} reports acknowledged",
        acknowledged.len()
    );

    let addr = format!("127.0.0.1:{}", free_port());
    let mut server = start(&data, &addr);
    wait_until_up(&addr);
    let (status, body) = request(&addr, "GET", "/api/reports?limit=100000", "").unwrap();
    assert_eq!(status, 200);
    let listed: serde_json::Value = serde_json::from_str(&body).unwrap();
    let stored: std::collections::HashSet<i64> = listed["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_i64().unwrap())
        .collect();
    let lost: Vec<&i64> = acknowledged
        .iter()
        .filter(|id| !stored.contains(id))
        .collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged reports lost: {lost:?}",
        lost.len()
    );
    server.kill().unwrap();
    server.wait().unwrap();
}
