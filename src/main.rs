//! The `civmap` command: serve the API and map, import assets, manage kinds, rebuild the demo
//! city, run the benchmarks.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

use civmap::config::Config;
use civmap::model::{GeometryType, KindSpec};
use civmap::service::{City, seed_demo_if_empty};
use civmap::store::Store;
use civmap::store::gpkg::GeoPackageStore;

#[derive(Parser)]
#[command(
    name = "civmap",
    version,
    about = "Spatial service for the civilized-city campaign"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct DataArg {
    /// Directory holding civmap.gpkg.
    #[arg(long = "data", env = "CIVMAP_DATA", default_value = "data")]
    dir: PathBuf,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API and the web map (imports the Langfang demo into an empty store).
    Serve {
        #[command(flatten)]
        data: DataArg,
        /// Address to listen on.
        #[arg(long, env = "CIVMAP_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Directory of the built web map.
        #[arg(long, env = "CIVMAP_WEB", default_value = "web/dist")]
        web: PathBuf,
        /// Start with an empty store instead of the demo city.
        #[arg(long)]
        no_demo: bool,
        /// Use a shared PostgreSQL/PostGIS database instead of the embedded GeoPackage.
        #[arg(long, env = "CIVMAP_DATABASE_URL")]
        database_url: Option<String>,
        /// Refuse reports inside a zone where the reported thing is permitted (default: flag).
        #[arg(long, env = "CIVMAP_REJECT_PERMITTED")]
        reject_permitted: bool,
        /// Open reports of one category this close (metres, last 7 days) are possible duplicates.
        #[arg(long, default_value_t = 30.0)]
        duplicate_radius_m: f64,
        /// Largest photo accepted, MiB.
        #[arg(long, default_value_t = 8)]
        max_photo_mib: usize,
    },
    /// Add or replace assets of one kind from a GeoJSON file (all or nothing).
    Import {
        #[command(flatten)]
        data: DataArg,
        /// GeoJSON FeatureCollection in WGS84.
        file: PathBuf,
        /// The asset kind (a catalogue entry, e.g. road, market, bus_stop).
        #[arg(long)]
        kind: String,
    },
    /// Add a kind to the catalogue (a new layer) without code.
    AddKind {
        #[command(flatten)]
        data: DataArg,
        kind: String,
        #[arg(long)]
        name_zh: String,
        #[arg(long)]
        name_en: String,
        /// point, linestring or polygon.
        #[arg(long)]
        geometry: String,
        #[arg(long, default_value = "#607d8b")]
        colour: String,
        #[arg(long, default_value_t = 50)]
        priority: i32,
        /// Point kinds: reports this close (metres) count as at the asset.
        #[arg(long, default_value_t = 0.0)]
        snap_radius_m: f64,
    },
    /// Rebuild the demo city files in geodata/demo from the generator.
    GenerateDemo {
        #[arg(long, default_value = "geodata/demo")]
        out: PathBuf,
    },
    /// Run the benchmarks (synth-20km and the demo city) and print figures.
    Bench {
        /// Fewer iterations, for a smoke run.
        #[arg(long)]
        quick: bool,
        /// Only the report ingestion benchmark.
        #[arg(long)]
        only_ingest: bool,
    },
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "civmap=info,tower_http=info".into()),
        )
        .init();
    match Cli::parse().command {
        Command::Serve {
            data,
            listen,
            web,
            no_demo,
            database_url,
            reject_permitted,
            duplicate_radius_m,
            max_photo_mib,
        } => {
            if !(duplicate_radius_m.is_finite() && (0.0..=1000.0).contains(&duplicate_radius_m)) {
                bail!("--duplicate-radius-m must be between 0 and 1000");
            }
            let config = Config {
                data_dir: data.dir,
                listen,
                web_dir: web.is_dir().then_some(web),
                seed_demo: !no_demo,
                database_url,
                reject_permitted,
                duplicate_radius_m,
                max_photo_bytes: max_photo_mib.clamp(1, 64) << 20,
            };
            serve(config).await
        }
        Command::Import { data, file, kind } => import(&data.dir, &file, &kind).await,
        Command::AddKind {
            data,
            kind,
            name_zh,
            name_en,
            geometry,
            colour,
            priority,
            snap_radius_m,
        } => {
            if !(snap_radius_m.is_finite() && (0.0..=500.0).contains(&snap_radius_m)) {
                bail!("--snap-radius-m must be between 0 and 500");
            }
            let spec = KindSpec {
                kind,
                name_zh,
                name_en,
                geometry_type: GeometryType::parse(&geometry)?,
                colour,
                priority,
                snap_radius_m,
            };
            open_store(&data.dir)?.put_kind(&spec).await?;
            println!("kind {} added", spec.kind);
            Ok(())
        }
        Command::GenerateDemo { out } => {
            std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
            let counts = civmap::demo::write_demo(&out)
                .with_context(|| format!("writing the demo city into {}", out.display()))?;
            for (kind, n) in counts {
                println!("{kind:>14}  {n}");
            }
            Ok(())
        }
        Command::Bench { quick, only_ingest } => {
            if !only_ingest {
                civmap::bench::run(quick).await?;
                println!();
                match civmap::bench::postgis::Cluster::from_env() {
                    Ok(cluster) => {
                        civmap::bench::routing::run_with_pgrouting(quick, Some(cluster.url()))
                            .await;
                    }
                    Err(e) => {
                        println!("pgRouting peer skipped: {e}");
                        civmap::bench::routing::run(quick);
                    }
                }
            }
            let (total, clients) = if quick { (10_000, 64) } else { (50_000, 128) };
            let print = |store: &str, f: &civmap::bench::ingest::IngestFigures| {
                println!(
                    "report ingestion over HTTP, {store}, durable acks ({} reports, {} keep-alive clients): {:.0} reports/s, p50 {:.1} ms, p99 {:.1} ms   target ≥ 5,000 reports/s, p99 ≤ 20 ms",
                    f.reports,
                    f.clients,
                    f.per_second(),
                    f.p50.as_secs_f64() * 1e3,
                    f.p99.as_secs_f64() * 1e3
                )
            };
            println!();
            let embedded = civmap::bench::ingest::run(total, clients, None).await?;
            print("GeoPackage", &embedded);
            match civmap::bench::postgis::Cluster::from_env() {
                Ok(cluster) => {
                    let shared =
                        civmap::bench::ingest::run(total, clients, Some(cluster.url())).await?;
                    print("PostGIS", &shared);
                    println!(
                        "  PostGIS / GeoPackage throughput: {:.2}",
                        shared.per_second() / embedded.per_second()
                    );
                }
                Err(e) => println!("  PostGIS ingestion skipped: {e}"),
            }
            Ok(())
        }
    }
}

fn open_store(dir: &Path) -> Result<GeoPackageStore> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(GeoPackageStore::open(&dir.join("civmap.gpkg"))?)
}

async fn serve(config: Config) -> Result<()> {
    let store: Arc<dyn Store> = match &config.database_url {
        Some(url) => {
            let store = civmap::store::postgis::PostgisStore::connect(url).await?;
            tracing::info!(database = %store.target(), "PostGIS store");
            Arc::new(store)
        }
        None => {
            let store = open_store(&config.data_dir)?;
            tracing::info!(path = %store.path().display(), "GeoPackage store");
            Arc::new(store)
        }
    };
    if config.seed_demo
        && let Some(counts) = seed_demo_if_empty(store.as_ref()).await?
    {
        tracing::info!(?counts, "empty store: imported the Langfang demo city");
    }
    let city = Arc::new(City::open(store, config.city_options()).await?);
    tracing::info!(assets = city.layers().assets().len(), "layers indexed");
    civmap::service::spawn_asset_watch(Arc::clone(&city), Duration::from_secs(2));
    civmap::service::spawn_report_feed(Arc::clone(&city)).await?;
    match &config.web_dir {
        Some(dir) => tracing::info!(dir = %dir.display(), "serving the web map at /"),
        None => tracing::warn!(
            "no built web map found (run `npm ci && npm run build` in web/); serving the API only"
        ),
    }
    let app = civmap::http::router(civmap::http::AppState { city }, config.web_dir.clone())
        .layer(tower_http::trace::TraceLayer::new_for_http());
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    tracing::info!("civmap listening on http://{}", config.listen);
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

async fn import(dir: &Path, file: &Path, kind: &str) -> Result<()> {
    let store = open_store(dir)?;
    if store.catalogue().await?.kinds.is_empty() {
        for spec in &civmap::model::Catalogue::builtin().kinds {
            store.put_kind(spec).await?;
        }
    }
    let catalogue = store.catalogue().await?;
    let Some(spec) = catalogue.get(kind) else {
        let known: Vec<&str> = catalogue.kinds.iter().map(|k| k.kind.as_str()).collect();
        bail!(
            "unknown kind {kind:?}; known kinds: {}; add one with `civmap add-kind`",
            known.join(", ")
        );
    };
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let assets = civmap::import::assets_from_geojson(&text, spec)
        .with_context(|| format!("{}: nothing was imported", file.display()))?;
    let n = store.upsert_assets(kind, &assets).await?;
    println!(
        "imported {n} {kind} assets from {} (a running civmap picks them up within seconds)",
        file.display()
    );
    Ok(())
}
