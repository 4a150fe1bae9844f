//! Inspection reports (问题) and their lifecycle (挂账销号): categories as data, the report
//! record, the audit trail, and the rules for moving a problem from reported to closed.
//!
//! Positions are WGS84 lon/lat; times are UTC instants (local time for bulletins is
//! Asia/Shanghai, UTC+8, which has no daylight saving).

pub mod book;
pub mod desk;
pub mod lifecycle;
pub mod photos;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::crs::InputCrs;

/// One report category (问题类别).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Category {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    /// Asset kinds a report of this category can be matched to.
    pub eligible_kinds: Vec<String>,
    /// How far from the report a matched asset may be, metres.
    pub max_distance_m: f64,
    /// Default time to rectify after assignment (限时整改), hours.
    pub deadline_hours: i64,
    /// Kinds inside which the reported thing is allowed (e.g. parking in a parking zone).
    #[serde(default)]
    pub permitted_in: Vec<String>,
}

/// The category catalogue shipped in `geodata/categories.json`.
pub const DEFAULT_CATEGORIES_JSON: &str = include_str!("../../geodata/categories.json");

/// All categories, in catalogue order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Categories {
    pub categories: Vec<Category>,
}

impl Categories {
    /// The built-in catalogue.
    pub fn builtin() -> Self {
        serde_json::from_str(DEFAULT_CATEGORIES_JSON).expect("geodata/categories.json is valid")
    }

    pub fn get(&self, code: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.code == code)
    }
}

/// Where a problem is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Filed, not yet handed to a unit.
    Reported,
    /// Handed to a unit with a deadline (交办).
    Assigned,
    /// The unit says it is fixed, with evidence (整改).
    Rectified,
    /// An inspector checked the fix (复查).
    Verified,
    /// Closed (销号), as resolved, invalid or duplicate.
    Closed,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Reported,
        Status::Assigned,
        Status::Rectified,
        Status::Verified,
        Status::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reported => "reported",
            Self::Assigned => "assigned",
            Self::Rectified => "rectified",
            Self::Verified => "verified",
            Self::Closed => "closed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    pub fn is_open(self) -> bool {
        self != Self::Closed
    }
}

/// Why a problem was closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CloseReason {
    Resolved,
    Invalid,
    Duplicate,
}

impl CloseReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Resolved => "resolved",
            Self::Invalid => "invalid",
            Self::Duplicate => "duplicate",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Resolved, Self::Invalid, Self::Duplicate]
            .into_iter()
            .find(|r| r.as_str() == text)
    }
}

/// The asset a report was snapped to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchedAsset {
    pub id: String,
    pub kind: String,
    pub name: String,
    pub distance_m: f64,
}

/// Position as the client sent it, before conversion to WGS84.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct InputPosition {
    pub crs: InputCrs,
    pub lon: f64,
    pub lat: f64,
}

/// A report before the store has given it an id.
#[derive(Debug, Clone, PartialEq)]
pub struct NewReport {
    pub category: String,
    pub description: String,
    pub reporter: String,
    pub observed_at: DateTime<Utc>,
    pub reported_at: DateTime<Utc>,
    /// WGS84.
    pub lon: f64,
    pub lat: f64,
    pub input: InputPosition,
    pub asset: Option<MatchedAsset>,
    pub unit: Option<String>,
    pub district: Option<String>,
    /// The asset inside which the reported thing is permitted, if any.
    pub permitted_zone: Option<String>,
    /// Content hashes of the photos.
    pub photos: Vec<String>,
}

/// A stored report and its current state.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub id: i64,
    /// As filed and matched (`filed.unit` is the unit of the matched asset).
    pub filed: NewReport,
    pub status: Status,
    /// The unit responsible now (set on assignment and reassignment).
    pub unit: Option<String>,
    pub deadline_at: Option<DateTime<Utc>>,
    pub duplicate_of: Option<i64>,
    pub close_reason: Option<CloseReason>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

impl Report {
    /// A freshly filed report.
    pub fn new(id: i64, filed: NewReport) -> Self {
        Self {
            id,
            status: Status::Reported,
            unit: filed.unit.clone(),
            deadline_at: None,
            duplicate_of: None,
            close_reason: None,
            updated_at: filed.reported_at,
            closed_at: None,
            filed,
        }
    }

    /// Assigned and past its deadline at `now` (rectified problems are no longer overdue).
    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        self.status == Status::Assigned && self.deadline_at.is_some_and(|d| d < now)
    }
}

/// One entry of the audit trail: who moved which report from where to where, when and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    pub report_id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub from: Status,
    pub to: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadline_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<CloseReason>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub photos: Vec<String>,
}
