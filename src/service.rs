//! The running city: the store (durable truth), the published in-memory layers built from it,
//! and the report desk. A write goes to the store first; only then is it shown to readers.

use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Duration, Utc};

use crate::import::{ImportError, assets_from_geojson};
use crate::layers::Layers;
use crate::model::{Asset, Catalogue, KindCounts};
use crate::reports::Categories;
use crate::reports::book::ReportBook;
use crate::reports::desk::{ReportDesk, ReportSettings};
use crate::reports::photos::PhotoStore;
use crate::routing::RoadGraph;
use crate::store::{Store, StoreError};

/// What went wrong while seeding or importing.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("importing {kind}: {source}")]
    Import { kind: String, source: ImportError },
}

/// The service's notion of now: the system clock, shifted in tests to make deadlines pass.
#[derive(Debug, Default)]
pub struct Clock {
    offset_ms: AtomicI64,
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + Duration::milliseconds(self.offset_ms.load(Ordering::Relaxed))
    }

    /// Moves this clock forward (tests only need this).
    pub fn advance(&self, by: Duration) {
        self.offset_ms
            .fetch_add(by.num_milliseconds(), Ordering::Relaxed);
    }
}

/// How the city's service is set up.
#[derive(Debug, Clone)]
pub struct CityOptions {
    pub reports: ReportSettings,
    /// Where photos are kept.
    pub photo_dir: PathBuf,
    /// Largest photo accepted, bytes.
    pub max_photo_bytes: usize,
}

/// The store, the snapshot readers use, and the report desk.
pub struct City {
    store: Arc<dyn Store>,
    layers: RwLock<Arc<Layers>>,
    /// The road network of the published layers' roads and alleys, rebuilt when they change.
    graph: RwLock<Arc<RoadGraph>>,
    /// The store's asset version the published layers were built from.
    layers_version: AtomicI64,
    pub reports: ReportDesk,
    /// Duty posts at intersections.
    pub duty: crate::coverage::roster::Roster,
    pub clock: Clock,
}

impl City {
    /// Loads every asset and report from `store` and indexes them.
    pub async fn open(store: Arc<dyn Store>, options: CityOptions) -> Result<Self, StoreError> {
        let version = store.asset_version().await?;
        let layers = load_layers(store.as_ref()).await?;
        let graph = RoadGraph::build(layers.assets());
        let (reports, transitions) = store.load_reports().await?;
        let book = ReportBook::new(reports, transitions, *layers.index().projection());
        let desk = ReportDesk::new(
            Categories::builtin(),
            options.reports,
            book,
            PhotoStore::new(options.photo_dir, options.max_photo_bytes),
        );
        let duty = crate::coverage::roster::Roster::new(store.load_duty_posts().await?);
        Ok(Self {
            store,
            layers: RwLock::new(Arc::new(layers)),
            graph: RwLock::new(Arc::new(graph)),
            layers_version: AtomicI64::new(version),
            reports: desk,
            duty,
            clock: Clock::default(),
        })
    }

    /// The current snapshot (cheap: an `Arc` clone).
    pub fn layers(&self) -> Arc<Layers> {
        match self.layers.read() {
            Ok(guard) => Arc::clone(&guard),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// The current road graph (cheap: an `Arc` clone).
    pub fn road_graph(&self) -> Arc<RoadGraph> {
        match self.graph.read() {
            Ok(guard) => Arc::clone(&guard),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Adds or replaces assets of `kind` durably, then publishes a rebuilt snapshot.
    pub async fn upsert(&self, kind: &str, assets: &[Asset]) -> Result<usize, StoreError> {
        let written = self.store.upsert_assets(kind, assets).await?;
        self.reload().await?;
        Ok(written)
    }

    /// Rebuilds the snapshot from the store.
    pub async fn reload(&self) -> Result<(), StoreError> {
        let version = self.store.asset_version().await?;
        let fresh = Arc::new(load_layers(self.store.as_ref()).await?);
        let graph = RoadGraph::rebuild_if_changed(&self.road_graph(), fresh.assets());
        match self.graph.write() {
            Ok(mut guard) => *guard = graph,
            Err(poisoned) => *poisoned.into_inner() = graph,
        }
        match self.layers.write() {
            Ok(mut guard) => *guard = fresh,
            Err(poisoned) => *poisoned.into_inner() = fresh,
        }
        self.layers_version.store(version, Ordering::Relaxed);
        Ok(())
    }

    /// Reloads the layers if another process changed assets since they were built.
    pub async fn refresh_if_changed(&self) -> Result<bool, StoreError> {
        let version = self.store.asset_version().await?;
        if version == self.layers_version.load(Ordering::Relaxed) {
            return Ok(false);
        }
        self.reload().await?;
        Ok(true)
    }
}

/// Checks every `every` whether assets changed in the store (another civmap, `civmap import`,
/// QGIS) and republishes the layers when they did.
pub fn spawn_asset_watch(city: Arc<City>, every: std::time::Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            match city.refresh_if_changed().await {
                Ok(true) => tracing::info!(
                    assets = city.layers().assets().len(),
                    "assets changed in the store: layers reloaded"
                ),
                Ok(false) => {}
                Err(error) => tracing::warn!(%error, "checking the store for asset changes"),
            }
        }
    });
}

/// Follows the store's report change feed (a shared PostGIS database): every report filed or
/// changed by any civmap process is reloaded into this one's book. Does nothing for stores
/// without a feed.
pub async fn spawn_report_feed(city: Arc<City>) -> Result<(), StoreError> {
    let Some(mut changes) = city.store.report_change_feed().await? else {
        return Ok(());
    };
    tokio::spawn(async move {
        while let Some(id) = changes.recv().await {
            match city.store.load_report(id).await {
                Ok(Some((report, history))) => city.reports.put_from_store(report, history),
                Ok(None) => {
                    tracing::warn!(id, "change feed named a report the store does not have")
                }
                Err(error) => tracing::error!(%error, id, "reloading a changed report"),
            }
        }
        tracing::warn!("the report change feed ended");
    });
    Ok(())
}

async fn load_layers(store: &dyn Store) -> Result<Layers, StoreError> {
    let catalogue = store.catalogue().await?;
    let assets = store.load_assets().await?;
    Ok(Layers::build(catalogue, assets))
}

/// On a store with no kinds yet, writes the built-in catalogue and the Langfang demo city.
/// Returns the counts written, or `None` when the store already had data.
pub async fn seed_demo_if_empty(store: &dyn Store) -> Result<Option<KindCounts>, ServiceError> {
    if !store.catalogue().await?.kinds.is_empty() {
        return Ok(None);
    }
    let catalogue = Catalogue::builtin();
    for spec in &catalogue.kinds {
        store.put_kind(spec).await?;
    }
    let demo = crate::demo::generate();
    let mut counts = KindCounts::new();
    for (kind, collection) in &demo.layers {
        let spec = catalogue.require(kind).map_err(StoreError::from)?;
        let assets = assets_from_geojson(&collection.to_string(), spec).map_err(|source| {
            ServiceError::Import {
                kind: kind.clone(),
                source,
            }
        })?;
        counts.insert(kind.clone(), store.upsert_assets(kind, &assets).await?);
    }
    Ok(Some(counts))
}
