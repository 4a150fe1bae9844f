//! The report desk: turns what an inspector sends into a matched, durable report, and carries out
//! lifecycle changes, bulk imports and re-matching. Every write is made durable by the store
//! before the in-memory book shows it.

use std::sync::{RwLock, RwLockReadGuard};

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

use super::book::ReportBook;
use super::lifecycle::{self, LifecycleError, TransitionRequest};
use super::photos::{PhotoError, PhotoStore};
use super::{Categories, InputPosition, NewReport, Report, Transition};
use crate::crs::InputCrs;
use crate::layers::Layers;
use crate::matching::{in_city, match_report};
use crate::store::{Store, StoreError};

/// Tunable rules of filing.
#[derive(Debug, Clone)]
pub struct ReportSettings {
    /// Open reports of the same category this close are possible duplicates, metres.
    pub duplicate_radius_m: f64,
    /// ...if filed within this long before.
    pub duplicate_window: Duration,
    /// Refuse (instead of flag) reports inside a zone where the thing is permitted.
    pub reject_permitted: bool,
}

impl Default for ReportSettings {
    fn default() -> Self {
        Self {
            duplicate_radius_m: 30.0,
            duplicate_window: Duration::days(7),
            reject_permitted: false,
        }
    }
}

/// A report as a client sends it.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ReportInput {
    pub lon: f64,
    pub lat: f64,
    /// wgs84 (default), gcj02 or bd09.
    pub crs: Option<String>,
    pub category: String,
    #[serde(default)]
    pub description: Option<String>,
    pub reporter: String,
    /// RFC 3339; defaults to now.
    #[serde(default)]
    pub observed_at: Option<String>,
    /// Hashes of photos uploaded before (POST /api/photos) or with the report.
    #[serde(default)]
    pub photos: Vec<String>,
}

/// Why a report or a change was refused.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Malformed: a field is missing, of the wrong form or out of range.
    #[error("{0}")]
    Invalid(String),
    /// Well-formed but not acceptable (unknown category, outside the city, permitted zone...).
    #[error("{0}")]
    Unprocessable(String),
    #[error("{0}")]
    NotFound(String),
    /// Conflicts with the report's current state.
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Photo(#[from] PhotoError),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for ReportError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict(message) => Self::Conflict(message),
            other => Self::Store(other),
        }
    }
}

impl From<LifecycleError> for ReportError {
    fn from(error: LifecycleError) -> Self {
        match error {
            e @ LifecycleError::Illegal { .. } => Self::Conflict(e.to_string()),
            LifecycleError::Incomplete(message) => Self::Unprocessable(message),
        }
    }
}

/// A filed report and what the desk noticed about it.
#[derive(Debug, Clone)]
pub struct Receipt {
    pub report: Report,
    /// Open reports of the same category nearby: (id, distance_m).
    pub possible_duplicates: Vec<(i64, f64)>,
}

/// What re-matching changed.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct RematchSummary {
    pub checked: usize,
    pub changed: usize,
}

/// Longest description accepted, characters.
pub const MAX_DESCRIPTION_CHARS: usize = 2000;
/// Longest reporter or actor name accepted, characters.
pub const MAX_NAME_CHARS: usize = 100;

/// Filing, changes and queries of reports.
pub struct ReportDesk {
    categories: Categories,
    settings: ReportSettings,
    book: RwLock<ReportBook>,
    /// Serialises lifecycle changes so that check-then-write is atomic within this process
    /// (the store re-checks the status for other processes).
    changes: tokio::sync::Mutex<()>,
    photos: PhotoStore,
}

impl ReportDesk {
    pub fn new(
        categories: Categories,
        settings: ReportSettings,
        book: ReportBook,
        photos: PhotoStore,
    ) -> Self {
        Self {
            categories,
            settings,
            book: RwLock::new(book),
            changes: tokio::sync::Mutex::new(()),
            photos,
        }
    }

    pub fn categories(&self) -> &Categories {
        &self.categories
    }

    pub fn photos(&self) -> &PhotoStore {
        &self.photos
    }

    /// Read access to the reports (never held across an await).
    pub fn book(&self) -> RwLockReadGuard<'_, ReportBook> {
        self.book.read().unwrap_or_else(|p| p.into_inner())
    }

    fn with_book_mut(&self, change: impl FnOnce(&mut ReportBook)) {
        let mut guard = self.book.write().unwrap_or_else(|p| p.into_inner());
        change(&mut guard);
    }

    /// Shows a report as the store holds it (written by another process sharing the store).
    pub fn put_from_store(&self, report: Report, history: Vec<Transition>) {
        self.with_book_mut(|book| book.put(report, history));
    }

    /// Validates, converts and matches `input` without storing anything.
    pub fn prepare(
        &self,
        layers: &Layers,
        input: &ReportInput,
        now: DateTime<Utc>,
    ) -> Result<NewReport, ReportError> {
        let invalid = |m: String| ReportError::Invalid(m);
        let category = self.categories.get(&input.category).ok_or_else(|| {
            let known: Vec<&str> = self
                .categories
                .categories
                .iter()
                .map(|c| c.code.as_str())
                .collect();
            ReportError::Unprocessable(format!(
                "unknown category {:?}; known categories: {}",
                input.category,
                known.join(", ")
            ))
        })?;
        if !(input.lon.is_finite() && (-180.0..=180.0).contains(&input.lon)) {
            return Err(invalid(format!("lon {} is outside -180..180", input.lon)));
        }
        if !(input.lat.is_finite() && (-90.0..=90.0).contains(&input.lat)) {
            return Err(invalid(format!("lat {} is outside -90..90", input.lat)));
        }
        let crs = match &input.crs {
            None => InputCrs::Wgs84,
            Some(text) => InputCrs::parse(text)
                .ok_or_else(|| invalid(format!("crs {text:?} is not one of wgs84, gcj02, bd09")))?,
        };
        let reporter = input.reporter.trim();
        if reporter.is_empty() || reporter.chars().count() > MAX_NAME_CHARS {
            return Err(invalid(format!(
                "reporter must be 1-{MAX_NAME_CHARS} characters"
            )));
        }
        let description = input.description.clone().unwrap_or_default();
        if [reporter, description.as_str()]
            .iter()
            .any(|t| t.chars().any(|c| c.is_control() && c != '\n' && c != '\t'))
        {
            return Err(invalid(
                "reporter and description must not contain control characters".into(),
            ));
        }
        if description.chars().count() > MAX_DESCRIPTION_CHARS {
            return Err(invalid(format!(
                "description is longer than {MAX_DESCRIPTION_CHARS} characters"
            )));
        }
        let observed_at = match &input.observed_at {
            None => now,
            Some(text) => DateTime::parse_from_rfc3339(text)
                .map_err(|_| {
                    invalid(format!(
                        "observed_at {text:?} is not an RFC 3339 time such as 2026-11-23T07:45:00+08:00"
                    ))
                })?
                .with_timezone(&Utc),
        };
        if observed_at > now + Duration::minutes(5) {
            return Err(invalid("observed_at is in the future".into()));
        }
        if let Some(missing) = input.photos.iter().find(|h| !self.photos.exists(h)) {
            return Err(ReportError::Unprocessable(format!(
                "photo {missing:?} has not been uploaded (POST /api/photos first)"
            )));
        }
        let (lon, lat) = crs.to_wgs84(input.lon, input.lat);
        let outcome = match_report(layers, category, lon, lat);
        // A matched report is in the city by definition; only unmatched ones need the check.
        if outcome.asset.is_none() && !in_city(layers, lon, lat) {
            return Err(ReportError::Unprocessable(format!(
                "({lon:.6}, {lat:.6}) is outside the city: no district contains it and no asset is within 2 km"
            )));
        }
        if self.settings.reject_permitted
            && let Some(zone) = &outcome.permitted_zone
        {
            let name = layers
                .asset(zone)
                .map_or(zone.as_str(), |a| a.name.as_str());
            return Err(ReportError::Unprocessable(format!(
                "the point is inside {name} ({zone}), where this is permitted: not a {} problem",
                category.name_zh
            )));
        }
        Ok(NewReport {
            category: category.code.clone(),
            description,
            reporter: reporter.to_string(),
            observed_at,
            reported_at: now,
            lon,
            lat,
            input: InputPosition {
                crs,
                lon: input.lon,
                lat: input.lat,
            },
            asset: outcome.asset,
            unit: outcome.unit,
            district: outcome.district,
            permitted_zone: outcome.permitted_zone,
            photos: input.photos.clone(),
        })
    }

    /// Files one report: validated, matched, made durable, then shown.
    pub async fn file(
        &self,
        store: &dyn Store,
        layers: &Layers,
        input: &ReportInput,
        now: DateTime<Utc>,
    ) -> Result<Receipt, ReportError> {
        let filed = self.prepare(layers, input, now)?;
        let possible_duplicates = self.book().possible_duplicates(
            &filed.category,
            filed.lon,
            filed.lat,
            self.settings.duplicate_radius_m,
            now - self.settings.duplicate_window,
        );
        let report = store
            .insert_reports(vec![filed])
            .await?
            .pop()
            .ok_or_else(|| ReportError::Store(StoreError::Task("no report stored".into())))?;
        self.with_book_mut(|book| book.insert(report.clone()));
        Ok(Receipt {
            report,
            possible_duplicates,
        })
    }

    /// Files many reports in one transaction: any bad one (named by its line) files none.
    pub async fn file_all(
        &self,
        store: &dyn Store,
        layers: &Layers,
        inputs: &[(usize, ReportInput)],
        now: DateTime<Utc>,
    ) -> Result<Vec<Report>, ReportError> {
        let mut filed = Vec::with_capacity(inputs.len());
        for (line, input) in inputs {
            filed.push(self.prepare(layers, input, now).map_err(|e| match e {
                ReportError::Invalid(m) | ReportError::Unprocessable(m) => {
                    ReportError::Invalid(format!("line {line}: {m}; nothing was imported"))
                }
                other => other,
            })?);
        }
        let stored = store.insert_reports(filed).await?;
        self.with_book_mut(|book| stored.iter().cloned().for_each(|r| book.insert(r)));
        Ok(stored)
    }

    /// Applies a lifecycle change; an illegal one is a `Conflict` and changes nothing.
    pub async fn transition(
        &self,
        store: &dyn Store,
        id: i64,
        request: &TransitionRequest,
        now: DateTime<Utc>,
    ) -> Result<Report, ReportError> {
        let _one_at_a_time = self.changes.lock().await;
        let current = self
            .book()
            .get(id)
            .cloned()
            .ok_or_else(|| ReportError::NotFound(format!("no report with id {id}")))?;
        if let Some(original) = request.duplicate_of
            && self.book().get(original).is_none()
        {
            return Err(ReportError::Unprocessable(format!(
                "duplicate_of {original}: no such report"
            )));
        }
        let texts = [
            Some(&request.actor),
            request.note.as_ref(),
            request.unit.as_ref(),
        ];
        if texts
            .iter()
            .flatten()
            .any(|t| t.chars().any(|c| c.is_control() && c != '\n' && c != '\t'))
        {
            return Err(ReportError::Invalid(
                "actor, unit and note must not contain control characters".into(),
            ));
        }
        if request.actor.chars().count() > MAX_NAME_CHARS {
            return Err(ReportError::Invalid(format!(
                "actor must be at most {MAX_NAME_CHARS} characters"
            )));
        }
        if let Some(missing) = request.photos.iter().find(|h| !self.photos.exists(h)) {
            return Err(ReportError::Unprocessable(format!(
                "photo {missing:?} has not been uploaded"
            )));
        }
        let category = self
            .categories
            .get(&current.filed.category)
            .ok_or_else(|| {
                ReportError::Unprocessable(format!(
                    "category {} is no longer known",
                    current.filed.category
                ))
            })?;
        let (next, entry) = lifecycle::apply(&current, request, category, now)?;
        store
            .save_report(current.status, next.clone(), Some(entry.clone()))
            .await?;
        self.with_book_mut(|book| book.update(next.clone(), Some(entry)));
        Ok(next)
    }

    /// Matches every open report again against `layers` (after assets changed). Reports not yet
    /// assigned follow their new asset's unit; each change is recorded in the audit trail.
    pub async fn rematch(
        &self,
        store: &dyn Store,
        layers: &Layers,
        now: DateTime<Utc>,
    ) -> Result<RematchSummary, ReportError> {
        let _one_at_a_time = self.changes.lock().await;
        let open: Vec<Report> = self
            .book()
            .all()
            .iter()
            .filter(|r| r.status.is_open())
            .cloned()
            .collect();
        let mut summary = RematchSummary {
            checked: open.len(),
            changed: 0,
        };
        for current in open {
            let Some(category) = self.categories.get(&current.filed.category) else {
                continue;
            };
            let outcome = match_report(layers, category, current.filed.lon, current.filed.lat);
            let same_asset = outcome.asset.as_ref().map(|a| &a.id)
                == current.filed.asset.as_ref().map(|a| &a.id);
            if same_asset && outcome.district == current.filed.district {
                continue;
            }
            let mut next = current.clone();
            let describe = |a: &Option<super::MatchedAsset>| {
                a.as_ref()
                    .map_or("(none)".to_string(), |a| format!("{} {}", a.id, a.name))
            };
            let note = format!(
                "re-matched after assets changed: {} → {}",
                describe(&current.filed.asset),
                describe(&outcome.asset)
            );
            next.filed.asset = outcome.asset;
            next.filed.district = outcome.district;
            next.filed.permitted_zone = outcome.permitted_zone;
            next.filed.unit = outcome.unit;
            if current.status == super::Status::Reported {
                next.unit = next.filed.unit.clone();
            }
            next.updated_at = now;
            let entry = Transition {
                report_id: current.id,
                at: now,
                actor: "civmap (re-match)".into(),
                from: current.status,
                to: current.status,
                unit: (next.unit != current.unit)
                    .then(|| next.unit.clone())
                    .flatten(),
                deadline_at: None,
                note: Some(note),
                reason: None,
                photos: vec![],
            };
            store
                .save_report(current.status, next.clone(), Some(entry.clone()))
                .await?;
            self.with_book_mut(|book| book.update(next, Some(entry)));
            summary.changed += 1;
        }
        Ok(summary)
    }
}
