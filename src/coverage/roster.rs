//! The duty roster: the posts held in memory for coverage queries, and the checked changes to
//! them (create, change, end, CSV import). Every change is made durable, with an audit entry,
//! by the store before the roster shows it.

use std::sync::RwLock;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;

use super::windows::check_no_overlap;
use super::{DutyPost, Window};
use crate::layers::Layers;
use crate::store::{Store, StoreError};

/// Why a duty post change was refused.
#[derive(Debug, thiserror::Error)]
pub enum RosterError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Unprocessable(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A window as clients send it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowInput {
    pub start: String,
    pub end: String,
    #[serde(default)]
    pub days: Option<String>,
}

/// A post as clients send it (create: every field but `to`; change: any field).
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PostInput {
    pub unit: Option<String>,
    pub intersections: Option<Vec<String>>,
    pub windows: Option<Vec<WindowInput>>,
    pub from: Option<String>,
    pub to: Option<String>,
    /// Who makes the change (for the audit trail).
    pub actor: Option<String>,
}

fn parse_date(name: &str, text: &str) -> Result<NaiveDate, RosterError> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| RosterError::Invalid(format!("{name} {text:?} is not a YYYY-MM-DD date")))
}

fn parse_windows(inputs: &[WindowInput]) -> Result<Vec<Window>, RosterError> {
    if inputs.is_empty() {
        return Err(RosterError::Invalid(
            "windows must name at least one window".into(),
        ));
    }
    let windows = inputs
        .iter()
        .map(|w| Window::new(&w.start, &w.end, w.days.as_deref().unwrap_or("daily")))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| RosterError::Invalid(e.to_string()))?;
    check_no_overlap(&windows).map_err(|e| RosterError::Unprocessable(e.to_string()))?;
    Ok(windows)
}

/// Applies `input` over `base` (a new post when `base` is empty) and checks the result.
fn build_post(
    base: Option<&DutyPost>,
    input: &PostInput,
    layers: &Layers,
) -> Result<DutyPost, RosterError> {
    let unit = match (&input.unit, base) {
        (Some(u), _) => u.trim().to_string(),
        (None, Some(b)) => b.unit.clone(),
        (None, None) => return Err(RosterError::Invalid("unit is required".into())),
    };
    if unit.is_empty() || unit.chars().count() > 100 {
        return Err(RosterError::Invalid("unit must be 1-100 characters".into()));
    }
    let intersections = match (&input.intersections, base) {
        (Some(list), _) => list.clone(),
        (None, Some(b)) => b.intersections.clone(),
        (None, None) => return Err(RosterError::Invalid("intersections is required".into())),
    };
    if intersections.is_empty() {
        return Err(RosterError::Invalid(
            "intersections must name at least one intersection".into(),
        ));
    }
    for id in &intersections {
        match layers.asset(id) {
            Some(a) if a.kind == "intersection" => {}
            Some(a) => {
                return Err(RosterError::Unprocessable(format!(
                    "{id} is a {}, not an intersection",
                    a.kind
                )));
            }
            None => {
                return Err(RosterError::Unprocessable(format!(
                    "no intersection with id {id:?}"
                )));
            }
        }
    }
    let windows = match (&input.windows, base) {
        (Some(w), _) => parse_windows(w)?,
        (None, Some(b)) => b.windows.clone(),
        (None, None) => return Err(RosterError::Invalid("windows is required".into())),
    };
    let from = match (&input.from, base) {
        (Some(f), _) => parse_date("from", f)?,
        (None, Some(b)) => b.from,
        (None, None) => return Err(RosterError::Invalid("from is required".into())),
    };
    let to = match (&input.to, base) {
        (Some(t), _) => Some(parse_date("to", t)?),
        (None, Some(b)) => b.to,
        (None, None) => None,
    };
    if to.is_some_and(|t| t < from) {
        return Err(RosterError::Invalid("to is before from".into()));
    }
    Ok(DutyPost {
        id: base.map_or(0, |b| b.id),
        unit,
        intersections,
        windows,
        from,
        to,
        ended_at: base.and_then(|b| b.ended_at),
    })
}

fn actor_of(input: &PostInput) -> String {
    input
        .actor
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .unwrap_or("anonymous")
        .chars()
        .take(100)
        .collect()
}

/// Duty posts in memory.
#[derive(Default)]
pub struct Roster {
    posts: RwLock<Vec<DutyPost>>,
    changes: tokio::sync::Mutex<()>,
}

impl Roster {
    pub fn new(posts: Vec<DutyPost>) -> Self {
        Self {
            posts: RwLock::new(posts),
            changes: tokio::sync::Mutex::new(()),
        }
    }

    /// A copy of every post (ended ones included).
    pub fn posts(&self) -> Vec<DutyPost> {
        self.posts.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn get(&self, id: i64) -> Option<DutyPost> {
        self.posts().into_iter().find(|p| p.id == id)
    }

    fn publish(&self, post: DutyPost) {
        let mut posts = self.posts.write().unwrap_or_else(|p| p.into_inner());
        match posts.iter_mut().find(|p| p.id == post.id) {
            Some(slot) => *slot = post,
            None => posts.push(post),
        }
    }

    /// Creates posts, all checked first; all are written or none.
    pub async fn create(
        &self,
        store: &dyn Store,
        layers: &Layers,
        inputs: &[PostInput],
        now: DateTime<Utc>,
    ) -> Result<Vec<DutyPost>, RosterError> {
        let _one_at_a_time = self.changes.lock().await;
        let posts = inputs
            .iter()
            .enumerate()
            .map(|(n, input)| {
                build_post(None, input, layers).map_err(|e| match (inputs.len(), e) {
                    (1, e) => e,
                    (_, RosterError::Invalid(m)) => {
                        RosterError::Invalid(format!("row {}: {m}", n + 2))
                    }
                    (_, RosterError::Unprocessable(m)) => {
                        RosterError::Unprocessable(format!("row {}: {m}", n + 2))
                    }
                    (_, e) => e,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut stored = Vec::with_capacity(posts.len());
        for (post, input) in posts.iter().zip(inputs) {
            stored.push(store.insert_duty_post(post, &actor_of(input), now).await?);
        }
        for post in &stored {
            self.publish(post.clone());
        }
        Ok(stored)
    }

    /// Changes a post; an ended post cannot change.
    pub async fn change(
        &self,
        store: &dyn Store,
        layers: &Layers,
        id: i64,
        input: &PostInput,
        now: DateTime<Utc>,
    ) -> Result<DutyPost, RosterError> {
        let _one_at_a_time = self.changes.lock().await;
        let current = self
            .get(id)
            .ok_or_else(|| RosterError::NotFound(format!("no duty post {id}")))?;
        if current.ended_at.is_some() {
            return Err(RosterError::Conflict(format!("duty post {id} has ended")));
        }
        let next = build_post(Some(&current), input, layers)?;
        store
            .update_duty_post(&next, "changed", &actor_of(input), now)
            .await?;
        self.publish(next.clone());
        Ok(next)
    }

    /// Ends a post (it stays in the record, covering nothing).
    pub async fn end(
        &self,
        store: &dyn Store,
        id: i64,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<DutyPost, RosterError> {
        let _one_at_a_time = self.changes.lock().await;
        let mut post = self
            .get(id)
            .ok_or_else(|| RosterError::NotFound(format!("no duty post {id}")))?;
        if post.ended_at.is_some() {
            return Err(RosterError::Conflict(format!(
                "duty post {id} has already ended"
            )));
        }
        post.ended_at = Some(now);
        let actor = actor_of(&PostInput {
            actor: Some(actor.to_string()),
            ..Default::default()
        });
        store.update_duty_post(&post, "ended", &actor, now).await?;
        self.publish(post.clone());
        Ok(post)
    }
}

/// Rows of a duty-post CSV: `unit,intersections,windows,from[,to][,actor]`, intersections
/// separated by `;`, windows like `07:00-09:00 weekdays;17:00-19:00 weekdays`.
pub fn parse_post_csv(bytes: &[u8]) -> Result<Vec<PostInput>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let headers = reader
        .headers()
        .map_err(|e| format!("line 1: unreadable header: {e}"))?
        .clone();
    let column = |name: &str| headers.iter().position(|h| h == name);
    for name in ["unit", "intersections", "windows", "from"] {
        if column(name).is_none() {
            return Err(format!(
                "line 1: the header has no `{name}` column (needs unit, intersections, windows, from; may have to, actor)"
            ));
        }
    }
    let mut rows = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let line = n + 2;
        let record = record.map_err(|e| format!("line {line}: {e}"))?;
        let get = |name: &str| {
            column(name)
                .and_then(|i| record.get(i))
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        let windows = get("windows")
            .unwrap_or_default()
            .split(';')
            .filter(|w| !w.trim().is_empty())
            .map(|w| {
                let mut parts = w.split_whitespace();
                let range = parts.next().unwrap_or("");
                let days = parts.next().map(str::to_string);
                let (start, end) = range.split_once('-').ok_or_else(|| {
                    format!("line {line}: window {w:?} is not HH:MM-HH:MM [days]")
                })?;
                Ok(WindowInput {
                    start: start.to_string(),
                    end: end.to_string(),
                    days,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        rows.push(PostInput {
            unit: get("unit"),
            intersections: get("intersections").map(|v| {
                v.split(';')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            }),
            windows: Some(windows),
            from: get("from"),
            to: get("to"),
            actor: get("actor"),
        });
    }
    Ok(rows)
}
