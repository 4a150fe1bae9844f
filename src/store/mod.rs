//! The durable truth: the kind catalogue and the assets, behind one trait with two backends
//! (the embedded GeoPackage file here; PostGIS for shared deployments). Geometries are WGS84.
//!
//! Only this module writes SQL. Kind names reach SQL as table names only after
//! [`crate::model::validate_kind_name`] has passed them.

pub mod gpkg;
pub mod gpkg_geom;
mod gpkg_reports;
pub mod postgis;

use async_trait::async_trait;

use crate::coverage::{DutyPost, DutyPostChange};
use crate::model::{Asset, Catalogue, KindSpec, ModelError};
use crate::reports::{NewReport, Report, Status, Transition};

/// What went wrong in the store, with what it was doing.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("opening store {path}: {source}")]
    Open {
        path: String,
        source: rusqlite::Error,
    },
    #[error("{doing}: {source}")]
    Sqlite {
        doing: String,
        source: rusqlite::Error,
    },
    #[error("reading geometry of {kind} fid {fid}: {source}")]
    Geometry {
        kind: String,
        fid: i64,
        source: gpkg_geom::GeomError,
    },
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("asset id {id:?} already belongs to kind {existing_kind}, not {kind}")]
    IdTakenByOtherKind {
        id: String,
        kind: String,
        existing_kind: String,
    },
    #[error("{0}")]
    Conflict(String),
    #[error("store task failed: {0}")]
    Task(String),
    #[error("{doing}: {}", postgis::describe(.source))]
    Postgres {
        doing: String,
        source: tokio_postgres::Error,
    },
    /// The database cannot hold civmap's data: PostGIS missing, too old or not creatable.
    #[error("{0}")]
    Postgis(String),
    /// The database's schema is not one this civmap can use (newer, or an edited migration).
    #[error("{0}")]
    Schema(String),
    #[error("{doing}: unreadable {what}")]
    Unreadable { doing: String, what: String },
}

fn duty_posts_unsupported() -> StoreError {
    StoreError::Task("this store does not keep duty posts yet".into())
}

/// The persistence every backend offers. A write returns only once it is durable.
#[async_trait]
pub trait Store: Send + Sync {
    /// The kinds known to this store, in catalogue order.
    async fn catalogue(&self) -> Result<Catalogue, StoreError>;

    /// Adds or replaces a kind (creating its layer).
    async fn put_kind(&self, spec: &KindSpec) -> Result<(), StoreError>;

    /// Every asset of every kind.
    async fn load_assets(&self) -> Result<Vec<Asset>, StoreError>;

    /// Adds or replaces (by id) `assets` of one kind, all in one transaction: either all are
    /// written or none.
    async fn upsert_assets(&self, kind: &str, assets: &[Asset]) -> Result<usize, StoreError>;

    /// A number that grows with every change to kinds or assets, by any process.
    async fn asset_version(&self) -> Result<i64, StoreError>;

    /// Files reports, all in one transaction; returns them with their new ids, in order.
    async fn insert_reports(&self, reports: Vec<NewReport>) -> Result<Vec<Report>, StoreError>;

    /// Writes a report's new state and its audit entry, if its stored status is still
    /// `expected`; otherwise `Conflict` and nothing is written.
    async fn save_report(
        &self,
        expected: Status,
        report: Report,
        entry: Option<Transition>,
    ) -> Result<(), StoreError>;

    /// Every report and every audit entry, oldest first.
    async fn load_reports(&self) -> Result<(Vec<Report>, Vec<Transition>), StoreError>;

    /// One report and its audit trail, oldest first.
    async fn load_report(&self, id: i64) -> Result<Option<(Report, Vec<Transition>)>, StoreError>;

    /// Stores a new duty post (its `id` is ignored) with a `created` audit entry; returns it
    /// with its id.
    async fn insert_duty_post(
        &self,
        post: &DutyPost,
        actor: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<DutyPost, StoreError> {
        let _ = (post, actor, at);
        Err(duty_posts_unsupported())
    }

    /// Writes a changed (or ended) post with an audit entry naming `action`.
    async fn update_duty_post(
        &self,
        post: &DutyPost,
        action: &str,
        actor: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), StoreError> {
        let _ = (post, action, actor, at);
        Err(duty_posts_unsupported())
    }

    /// Every duty post, ended ones included, by id.
    async fn load_duty_posts(&self) -> Result<Vec<DutyPost>, StoreError> {
        Ok(Vec::new())
    }

    /// The audit trail of one post, oldest first.
    async fn duty_post_changes(&self, id: i64) -> Result<Vec<DutyPostChange>, StoreError> {
        let _ = id;
        Err(duty_posts_unsupported())
    }

    /// Ids of reports filed or changed by other processes sharing this store, as they are
    /// committed; `None` when the backend has no such feed (the embedded file is written by one
    /// civmap at a time). Writes made through this very store are left out: its caller already
    /// shows them, and reloading them could race with the caller's next change of the report.
    async fn report_change_feed(
        &self,
    ) -> Result<Option<tokio::sync::mpsc::UnboundedReceiver<i64>>, StoreError> {
        Ok(None)
    }
}
