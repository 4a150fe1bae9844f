//! The reports held in memory for reading: lookups, filtered listings, possible duplicates (an
//! R-tree of open reports in the index's metric plane), statistics, the weekly bulletin
//! (每周督导通报) and supervision notices (督办通知). Writes reach it only after the store
//! has made them durable.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, TimeZone, Utc};
use rstar::RTree;
use rstar::primitives::GeomWithData;
use serde::Serialize;
use serde_json::{Value, json};

use super::{Categories, Report, Status, Transition};
use crate::index::{LocalProjection, distance_m};
use crate::layers::BBox;

type OpenPoint = GeomWithData<[f64; 2], i64>;

/// Local time of the campaign: Asia/Shanghai (UTC+8, no daylight saving).
pub fn shanghai() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("+08:00 is a valid offset")
}

/// Filters of a report listing; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct ReportQuery {
    pub status: Option<Status>,
    pub category: Option<String>,
    pub district: Option<String>,
    pub unit: Option<String>,
    pub asset: Option<String>,
    pub bbox: Option<BBox>,
    /// Reported at or after.
    pub from: Option<DateTime<Utc>>,
    /// Reported before.
    pub to: Option<DateTime<Utc>>,
    pub overdue: Option<bool>,
    pub offset: usize,
    pub limit: usize,
}

/// Counts over a set of reports.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Stats {
    pub total: usize,
    pub open: usize,
    pub closed: usize,
    pub overdue: usize,
    /// closed / total.
    pub closure_rate: Option<f64>,
    pub median_hours_to_close: Option<f64>,
    pub by_status: BTreeMap<String, usize>,
    pub by_category: BTreeMap<String, usize>,
    pub by_district: BTreeMap<String, usize>,
    pub by_unit: BTreeMap<String, usize>,
}

/// One line of the weekly bulletin.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BulletinLine {
    pub rank: usize,
    pub name: String,
    /// Reports filed in the week.
    pub opened: usize,
    /// Reports closed in the week.
    pub closed: usize,
    /// Assigned and past deadline at the end of the week (or now, if sooner).
    pub overdue: usize,
    /// Of every report filed up to the end of the week, the share closed by then (销号率).
    pub closure_rate: Option<f64>,
}

/// 每周督导通报: the week's figures per unit and per district, ranked.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct WeeklyBulletin {
    pub week: String,
    pub starts_at: DateTime<FixedOffset>,
    pub ends_at: DateTime<FixedOffset>,
    pub units: Vec<BulletinLine>,
    pub districts: Vec<BulletinLine>,
}

/// Parses an ISO week `2026-W47` into its Monday 00:00 Asia/Shanghai.
///
/// # Examples
/// ```
/// use civmap::reports::book::week_start;
/// assert_eq!(week_start("2026-W47").unwrap().to_rfc3339(), "2026-11-16T00:00:00+08:00");
/// assert!(week_start("2026-W54").is_none());
/// ```
pub fn week_start(week: &str) -> Option<DateTime<FixedOffset>> {
    let (year, number) = week.split_once("-W")?;
    let date = NaiveDate::from_isoywd_opt(
        year.parse().ok()?,
        number.parse().ok()?,
        chrono::Weekday::Mon,
    )?;
    shanghai()
        .from_local_datetime(&date.and_hms_opt(0, 0, 0)?)
        .single()
}

/// Reports in memory.
pub struct ReportBook {
    reports: Vec<Report>,
    position: HashMap<i64, usize>,
    history: HashMap<i64, Vec<Transition>>,
    open_points: RTree<OpenPoint>,
    projection: LocalProjection,
}

impl ReportBook {
    /// A book over stored reports and their transitions; `projection` is the index's plane.
    pub fn new(
        mut reports: Vec<Report>,
        transitions: Vec<Transition>,
        projection: LocalProjection,
    ) -> Self {
        reports.sort_by_key(|r| r.id);
        let position = reports.iter().enumerate().map(|(n, r)| (r.id, n)).collect();
        let mut history: HashMap<i64, Vec<Transition>> = HashMap::new();
        for t in transitions {
            history.entry(t.report_id).or_default().push(t);
        }
        let open_points = RTree::bulk_load(
            reports
                .iter()
                .filter(|r| r.status.is_open())
                .map(|r| OpenPoint::new(projection.forward(r.filed.lon, r.filed.lat), r.id))
                .collect(),
        );
        Self {
            reports,
            position,
            history,
            open_points,
            projection,
        }
    }

    pub fn len(&self) -> usize {
        self.reports.len()
    }

    pub fn is_empty(&self) -> bool {
        self.reports.is_empty()
    }

    pub fn get(&self, id: i64) -> Option<&Report> {
        self.position.get(&id).map(|&n| &self.reports[n])
    }

    pub fn all(&self) -> &[Report] {
        &self.reports
    }

    /// The audit trail of a report, oldest first.
    pub fn history(&self, id: i64) -> &[Transition] {
        self.history.get(&id).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Adds a report the store has just written (ids only grow).
    pub fn insert(&mut self, report: Report) {
        if report.status.is_open() {
            self.open_points.insert(OpenPoint::new(
                self.projection.forward(report.filed.lon, report.filed.lat),
                report.id,
            ));
        }
        self.position.insert(report.id, self.reports.len());
        self.reports.push(report);
    }

    /// Replaces a report the store has just updated, recording its audit entry.
    pub fn update(&mut self, report: Report, entry: Option<Transition>) {
        let Some(&n) = self.position.get(&report.id) else {
            return;
        };
        let point = self.projection.forward(report.filed.lon, report.filed.lat);
        if self.reports[n].status.is_open() && !report.status.is_open() {
            self.open_points.remove(&OpenPoint::new(point, report.id));
        }
        if let Some(entry) = entry {
            self.history.entry(report.id).or_default().push(entry);
        }
        self.reports[n] = report;
    }

    /// Puts a report as the store holds it (from the change feed of a shared store): inserted
    /// or replaced, with its whole audit trail.
    pub fn put(&mut self, report: Report, history: Vec<Transition>) {
        let id = report.id;
        let entry = OpenPoint::new(
            self.projection.forward(report.filed.lon, report.filed.lat),
            id,
        );
        if let Some(&n) = self.position.get(&id)
            && self.reports[n].status.is_open()
        {
            self.open_points.remove(&entry);
        }
        if report.status.is_open() {
            self.open_points.insert(entry);
        }
        match self.position.get(&id) {
            Some(&n) => self.reports[n] = report,
            None if self.reports.last().is_none_or(|last| last.id < id) => {
                self.position.insert(id, self.reports.len());
                self.reports.push(report);
            }
            None => {
                // filed elsewhere before reports already held here: keep the id order
                let at = self.reports.partition_point(|r| r.id < id);
                self.reports.insert(at, report);
                self.position = self
                    .reports
                    .iter()
                    .enumerate()
                    .map(|(n, r)| (r.id, n))
                    .collect();
            }
        }
        self.history.insert(id, history);
    }

    /// Open reports of `category` within `radius_m` of (lon, lat) filed since `since`, nearest
    /// first, with their distances.
    pub fn possible_duplicates(
        &self,
        category: &str,
        lon: f64,
        lat: f64,
        radius_m: f64,
        since: DateTime<Utc>,
    ) -> Vec<(i64, f64)> {
        let q = self.projection.forward(lon, lat);
        let reach = radius_m * 1.01 + 0.01;
        let mut found: Vec<(i64, f64)> = self
            .open_points
            .locate_within_distance(q, reach * reach)
            .filter_map(|p| self.get(p.data))
            .filter(|r| {
                r.filed.category == category && r.filed.reported_at >= since && r.status.is_open()
            })
            .map(|r| (r.id, distance_m((lon, lat), (r.filed.lon, r.filed.lat))))
            .filter(|&(_, d)| d <= radius_m)
            .collect();
        found.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        found
    }

    /// Reports passing `query` (before paging), oldest first.
    pub fn matching<'a>(
        &'a self,
        query: &'a ReportQuery,
        now: DateTime<Utc>,
    ) -> impl Iterator<Item = &'a Report> + 'a {
        self.reports.iter().filter(move |r| {
            let f = &r.filed;
            query.status.is_none_or(|s| r.status == s)
                && query.category.as_ref().is_none_or(|c| &f.category == c)
                && query
                    .district
                    .as_ref()
                    .is_none_or(|d| f.district.as_ref() == Some(d))
                && query
                    .unit
                    .as_ref()
                    .is_none_or(|u| r.unit.as_ref() == Some(u))
                && query
                    .asset
                    .as_ref()
                    .is_none_or(|a| f.asset.as_ref().is_some_and(|m| &m.id == a))
                && query.bbox.is_none_or(|b| {
                    (b.min_lon..=b.max_lon).contains(&f.lon)
                        && (b.min_lat..=b.max_lat).contains(&f.lat)
                })
                && query.from.is_none_or(|t| f.reported_at >= t)
                && query.to.is_none_or(|t| f.reported_at < t)
                && query.overdue.is_none_or(|o| r.is_overdue(now) == o)
        })
    }

    /// Counts, closure rate and median time to close of the reports passing `query`.
    pub fn stats(&self, query: &ReportQuery, now: DateTime<Utc>) -> Stats {
        let mut stats = Stats {
            total: 0,
            open: 0,
            closed: 0,
            overdue: 0,
            closure_rate: None,
            median_hours_to_close: None,
            by_status: Status::ALL
                .iter()
                .map(|s| (s.as_str().to_string(), 0))
                .collect(),
            by_category: BTreeMap::new(),
            by_district: BTreeMap::new(),
            by_unit: BTreeMap::new(),
        };
        let mut hours_to_close = Vec::new();
        for r in self.matching(query, now) {
            stats.total += 1;
            *stats.by_status.entry(r.status.as_str().into()).or_default() += 1;
            *stats
                .by_category
                .entry(r.filed.category.clone())
                .or_default() += 1;
            let district = r.filed.district.clone().unwrap_or_else(|| "(none)".into());
            *stats.by_district.entry(district).or_default() += 1;
            let unit = r.unit.clone().unwrap_or_else(|| "(unassigned)".into());
            *stats.by_unit.entry(unit).or_default() += 1;
            if r.is_overdue(now) {
                stats.overdue += 1;
            }
            match r.closed_at {
                Some(closed_at) => {
                    stats.closed += 1;
                    hours_to_close
                        .push((closed_at - r.filed.reported_at).num_seconds() as f64 / 3600.0);
                }
                None => stats.open += 1,
            }
        }
        if stats.total > 0 {
            stats.closure_rate = Some(stats.closed as f64 / stats.total as f64);
        }
        if !hours_to_close.is_empty() {
            hours_to_close.sort_by(f64::total_cmp);
            let mid = hours_to_close.len() / 2;
            stats.median_hours_to_close = Some(if hours_to_close.len() % 2 == 1 {
                hours_to_close[mid]
            } else {
                (hours_to_close[mid - 1] + hours_to_close[mid]) / 2.0
            });
        }
        stats
    }

    /// Status, unit and deadline of a report as they stood at `at`, from its audit trail.
    fn state_at(
        &self,
        report: &Report,
        at: DateTime<Utc>,
    ) -> (Status, Option<String>, Option<DateTime<Utc>>) {
        let mut status = Status::Reported;
        let mut unit = report.filed.unit.clone();
        let mut deadline = None;
        for t in self.history(report.id).iter().filter(|t| t.at <= at) {
            status = t.to;
            if t.unit.is_some() {
                unit = t.unit.clone();
            }
            if t.deadline_at.is_some() {
                deadline = t.deadline_at;
            }
        }
        (status, unit, deadline)
    }

    /// The weekly bulletin for the ISO week starting at `starts_at` (see [`week_start`]).
    pub fn weekly_bulletin(
        &self,
        week: &str,
        starts_at: DateTime<FixedOffset>,
        now: DateTime<Utc>,
    ) -> WeeklyBulletin {
        let ends_at = starts_at + Duration::days(7);
        let (start, end) = (starts_at.with_timezone(&Utc), ends_at.with_timezone(&Utc));
        let cutoff = end.min(now);
        #[derive(Default)]
        struct Tally {
            opened: usize,
            closed: usize,
            overdue: usize,
            filed_by_end: usize,
            closed_by_end: usize,
        }
        let mut units: BTreeMap<String, Tally> = BTreeMap::new();
        let mut districts: BTreeMap<String, Tally> = BTreeMap::new();
        for r in self.reports.iter().filter(|r| r.filed.reported_at < end) {
            let (status, unit, deadline) = self.state_at(r, cutoff);
            let unit = unit.unwrap_or_else(|| "(unassigned)".into());
            let district = r.filed.district.clone().unwrap_or_else(|| "(none)".into());
            for tally in [
                units.entry(unit).or_default(),
                districts.entry(district).or_default(),
            ] {
                tally.filed_by_end += 1;
                if r.filed.reported_at >= start {
                    tally.opened += 1;
                }
                if let Some(closed_at) = r.closed_at.filter(|c| *c < end) {
                    tally.closed_by_end += 1;
                    if closed_at >= start {
                        tally.closed += 1;
                    }
                }
                if status == Status::Assigned && deadline.is_some_and(|d| d < cutoff) {
                    tally.overdue += 1;
                }
            }
        }
        let rank = |tallies: BTreeMap<String, Tally>| {
            let mut lines: Vec<BulletinLine> = tallies
                .into_iter()
                .map(|(name, t)| BulletinLine {
                    rank: 0,
                    name,
                    opened: t.opened,
                    closed: t.closed,
                    overdue: t.overdue,
                    closure_rate: (t.filed_by_end > 0)
                        .then(|| t.closed_by_end as f64 / t.filed_by_end as f64),
                })
                .collect();
            lines.sort_by(|a, b| {
                b.closure_rate
                    .unwrap_or(0.0)
                    .total_cmp(&a.closure_rate.unwrap_or(0.0))
                    .then(a.overdue.cmp(&b.overdue))
                    .then(a.name.cmp(&b.name))
            });
            for (i, line) in lines.iter_mut().enumerate() {
                line.rank = i + 1;
            }
            lines
        };
        WeeklyBulletin {
            week: week.to_string(),
            starts_at,
            ends_at,
            units: rank(units),
            districts: rank(districts),
        }
    }

    /// 督办通知: overdue problems grouped by unit, the unit with most first.
    pub fn supervision_notices(
        &self,
        unit: Option<&str>,
        now: DateTime<Utc>,
        categories: &Categories,
    ) -> Vec<Value> {
        let mut by_unit: BTreeMap<String, Vec<&Report>> = BTreeMap::new();
        for r in self.reports.iter().filter(|r| r.is_overdue(now)) {
            let owner = r.unit.clone().unwrap_or_else(|| "(unassigned)".into());
            if unit.is_none_or(|u| u == owner) {
                by_unit.entry(owner).or_default().push(r);
            }
        }
        let mut notices: Vec<(usize, Value)> = by_unit
            .into_iter()
            .map(|(owner, reports)| {
                let problems: Vec<Value> = reports
                    .iter()
                    .map(|r| {
                        let deadline = r.deadline_at.unwrap_or(now);
                        json!({
                            "id": r.id,
                            "category": r.filed.category,
                            "category_zh": categories.get(&r.filed.category).map(|c| c.name_zh.clone()),
                            "asset": r.filed.asset,
                            "district": r.filed.district,
                            "deadline_at": deadline,
                            "overdue_hours": ((now - deadline).num_minutes() as f64 / 60.0 * 10.0).round() / 10.0,
                        })
                    })
                    .collect();
                (
                    problems.len(),
                    json!({
                        "unit": owner,
                        "title": format!("督办通知：{owner} 有 {} 个问题超期未整改", problems.len()),
                        "overdue": problems.len(),
                        "problems": problems,
                    }),
                )
            })
            .collect();
        notices.sort_by_key(|n| std::cmp::Reverse(n.0));
        notices.into_iter().map(|(_, v)| v).collect()
    }
}

/// A report as an RFC 7946 Feature (Point), with its current state and, when given, its history.
pub fn report_feature(
    report: &Report,
    now: DateTime<Utc>,
    history: Option<&[Transition]>,
) -> Value {
    let f = &report.filed;
    let mut properties = json!({
        "id": report.id,
        "category": f.category,
        "description": f.description,
        "reporter": f.reporter,
        "observed_at": f.observed_at,
        "reported_at": f.reported_at,
        "status": report.status,
        "asset": f.asset,
        "unit": report.unit,
        "matched_unit": f.unit,
        "district": f.district,
        "deadline_at": report.deadline_at,
        "overdue": report.is_overdue(now),
        "permitted_zone": f.permitted_zone,
        "duplicate_of": report.duplicate_of,
        "close_reason": report.close_reason,
        "photos": f.photos,
        "input": f.input,
        "updated_at": report.updated_at,
        "closed_at": report.closed_at,
    });
    if let Some(history) = history {
        properties["history"] = json!(history);
    }
    json!({
        "type": "Feature",
        "id": report.id,
        "geometry": {"type": "Point", "coordinates": [f.lon, f.lat]},
        "properties": properties,
    })
}
