//! Report ingestion over HTTP: the real router on a loopback socket with a fresh GeoPackage and
//! the demo city, many keep-alive clients filing reports at once, every acknowledgement durable
//! (group commit). Prints throughput and latency percentiles.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::http::{AppState, router};
use crate::service::{City, CityOptions, seed_demo_if_empty};
use crate::store::Store;
use crate::store::gpkg::GeoPackageStore;
use crate::store::postgis::PostgisStore;

/// What one ingestion run measured.
#[derive(Debug, Clone)]
pub struct IngestFigures {
    pub reports: usize,
    pub clients: usize,
    pub elapsed: Duration,
    pub p50: Duration,
    pub p99: Duration,
}

impl IngestFigures {
    pub fn per_second(&self) -> f64 {
        self.reports as f64 / self.elapsed.as_secs_f64()
    }
}

/// One keep-alive connection; returns the status of each POST.
struct Client {
    reader: BufReader<TcpStream>,
}

impl Client {
    async fn connect(addr: std::net::SocketAddr) -> std::io::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Self {
            reader: BufReader::new(stream),
        })
    }

    async fn post(&mut self, path: &str, body: &str) -> std::io::Result<u16> {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let stream = self.reader.get_mut();
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body.as_bytes()).await?;
        let mut line = String::new();
        self.reader.read_line(&mut line).await?;
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let mut length = 0usize;
        loop {
            line.clear();
            self.reader.read_line(&mut line).await?;
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body).await?;
        Ok(status)
    }
}

/// Files `total` reports through `clients` concurrent connections, on a fresh GeoPackage, or
/// on the (empty) PostGIS database at `database_url`.
pub async fn run(
    total: usize,
    clients: usize,
    database_url: Option<&str>,
) -> anyhow::Result<IngestFigures> {
    let dir = tempfile_dir()?;
    let store: Arc<dyn Store> = match database_url {
        Some(url) => Arc::new(PostgisStore::connect(url).await?),
        None => Arc::new(GeoPackageStore::open(&dir.join("civmap.gpkg"))?),
    };
    seed_demo_if_empty(store.as_ref()).await?;
    let options = CityOptions {
        reports: Default::default(),
        photo_dir: dir.join("photos"),
        max_photo_bytes: 1 << 20,
    };
    let city = Arc::new(City::open(store, options).await?);
    let app = router(AppState { city }, None);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let per_client = total / clients;
    let start = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            tokio::spawn(async move {
                let mut client = Client::connect(addr).await?;
                let mut latencies = Vec::with_capacity(per_client);
                for n in 0..per_client {
                    let lon = 116.66 + ((n * 7 + c * 13) % 400) as f64 * 0.00015;
                    let lat = 39.50 + ((n * 11 + c * 3) % 300) as f64 * 0.00015;
                    let body = format!(
                        r#"{{"lon":{lon:.6},"lat":{lat:.6},"category":"litter","reporter":"bench {c}","description":"n{n}"}}"#
                    );
                    let sent = Instant::now();
                    let status = client.post("/api/reports", &body).await?;
                    latencies.push(sent.elapsed());
                    if status != 201 {
                        return Err(anyhow::anyhow!("report refused with status {status}"));
                    }
                }
                Ok::<_, anyhow::Error>(latencies)
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(total);
    for task in tasks {
        latencies.extend(task.await??);
    }
    let elapsed = start.elapsed();
    server.abort();
    let _ = std::fs::remove_dir_all(&dir);
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    Ok(IngestFigures {
        reports: latencies.len(),
        clients,
        elapsed,
        p50: at(0.50),
        p99: at(0.99),
    })
}

fn tempfile_dir() -> std::io::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "civmap-ingest-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
