//! The running city: the store (durable truth) and the published in-memory layers built from it.
//! A write goes to the store first; only then is a rebuilt snapshot swapped in.

use std::sync::{Arc, RwLock};

use crate::import::{ImportError, assets_from_geojson};
use crate::layers::Layers;
use crate::model::{Asset, Catalogue, KindCounts};
use crate::store::{Store, StoreError};

/// What went wrong while seeding or importing.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("importing {kind}: {source}")]
    Import { kind: String, source: ImportError },
}

/// The store plus the snapshot readers use.
pub struct City {
    store: Arc<dyn Store>,
    layers: RwLock<Arc<Layers>>,
}

impl City {
    /// Loads every asset from `store` and indexes it.
    pub async fn open(store: Arc<dyn Store>) -> Result<Self, StoreError> {
        let layers = load_layers(store.as_ref()).await?;
        Ok(Self {
            store,
            layers: RwLock::new(Arc::new(layers)),
        })
    }

    /// The current snapshot (cheap: an `Arc` clone).
    pub fn layers(&self) -> Arc<Layers> {
        match self.layers.read() {
            Ok(guard) => Arc::clone(&guard),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Adds or replaces assets of `kind` durably, then publishes a rebuilt snapshot.
    pub async fn upsert(&self, kind: &str, assets: &[Asset]) -> Result<usize, StoreError> {
        let written = self.store.upsert_assets(kind, assets).await?;
        self.reload().await?;
        Ok(written)
    }

    /// Rebuilds the snapshot from the store.
    pub async fn reload(&self) -> Result<(), StoreError> {
        let fresh = Arc::new(load_layers(self.store.as_ref()).await?);
        match self.layers.write() {
            Ok(mut guard) => *guard = fresh,
            Err(poisoned) => *poisoned.into_inner() = fresh,
        }
        Ok(())
    }
}

/// Watches the store for writes made by other processes and republishes the layers when one is
/// seen, checking every `every`.
pub fn spawn_outside_change_watch(city: Arc<City>, every: std::time::Duration) {
    tokio::spawn(async move {
        let mut seen = city.store.outside_change_token().await.ok();
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            let token = match city.store.outside_change_token().await {
                Ok(token) => token,
                Err(error) => {
                    tracing::warn!(%error, "checking the store for outside changes");
                    continue;
                }
            };
            if seen != Some(token) {
                seen = Some(token);
                match city.reload().await {
                    Ok(()) => tracing::info!(
                        assets = city.layers().assets().len(),
                        "store changed outside this process: layers reloaded"
                    ),
                    Err(error) => tracing::error!(%error, "reloading layers"),
                }
            }
        }
    });
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
