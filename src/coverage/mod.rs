//! Intersection duty coverage (包路口): units and police posts hold intersections for time
//! windows; coverage says which main intersections are held at a moment, by whom and how, and
//! which are gaps. Times of day are local (Asia/Shanghai, UTC+8, by default); distances metres.

pub mod roster;
pub mod windows;

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, Utc};
use serde::Serialize;

use crate::layers::Layers;
pub use windows::{DaySet, Window, WindowError};

/// A duty post: `unit` holds `intersections` during `windows`, between `from` and `to` (local
/// dates, inclusive; a window belongs to the date it starts on).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DutyPost {
    pub id: i64,
    pub unit: String,
    pub intersections: Vec<String>,
    pub windows: Vec<Window>,
    pub from: NaiveDate,
    pub to: Option<NaiveDate>,
    /// When the post was ended (DELETE); an ended post covers nothing.
    pub ended_at: Option<DateTime<Utc>>,
}

/// One entry of a post's audit trail: who created, changed or ended it, and the post as it
/// was left.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DutyPostChange {
    pub post_id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    /// `created`, `changed` or `ended`.
    pub action: String,
    pub post: DutyPost,
}

impl DutyPost {
    /// The post as stored (JSON), without its id.
    pub fn to_record(&self) -> serde_json::Value {
        serde_json::json!({
            "unit": self.unit,
            "intersections": self.intersections,
            "windows": self.windows,
            "from": self.from,
            "to": self.to,
            "ended_at": self.ended_at,
        })
    }

    /// Reads a stored record back.
    pub fn from_record(id: i64, record: &serde_json::Value) -> Option<Self> {
        let windows = record["windows"]
            .as_array()?
            .iter()
            .map(|w| {
                Window::new(
                    w["start"].as_str()?,
                    w["end"].as_str()?,
                    w["days"].as_str()?,
                )
                .ok()
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Self {
            id,
            unit: record["unit"].as_str()?.to_string(),
            intersections: serde_json::from_value(record["intersections"].clone()).ok()?,
            windows,
            from: serde_json::from_value(record["from"].clone()).ok()?,
            to: serde_json::from_value(record["to"].clone()).ok()?,
            ended_at: serde_json::from_value(record["ended_at"].clone()).ok()?,
        })
    }

    /// Whether the post is on duty at local time `at`.
    pub fn on_duty(&self, at: NaiveDateTime) -> bool {
        self.ended_at.is_none()
            && self
                .windows
                .iter()
                .filter_map(|w| w.shift_date(at))
                .any(|date| date >= self.from && self.to.is_none_or(|to| date <= to))
    }
}

/// How a main intersection is covered at a moment.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "how", rename_all = "snake_case")]
pub enum Cover {
    /// A post holds it directly.
    Held { posts: Vec<i64>, units: Vec<String> },
    /// A post on duty holds an intersection within `distance_m` walking.
    NearbyPost {
        post: i64,
        unit: String,
        via_intersection: String,
        distance_m: f64,
    },
}

/// One main intersection's state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntersectionCoverage {
    pub id: String,
    pub name: String,
    pub district: Option<String>,
    pub lon: f64,
    pub lat: f64,
    pub covered: bool,
    pub cover: Option<Cover>,
}

/// Coverage ratio of one district.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DistrictCoverage {
    pub district: String,
    pub main_intersections: usize,
    pub covered: usize,
    pub ratio: Option<f64>,
}

/// Coverage at one moment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Coverage {
    pub at: DateTime<FixedOffset>,
    pub intersections: Vec<IntersectionCoverage>,
    pub districts: Vec<DistrictCoverage>,
}

/// The main intersections of the layers (property `main: true`), optionally in one district:
/// positions in `layers.assets()`.
pub fn main_intersections(layers: &Layers, district: Option<&str>) -> Vec<usize> {
    layers
        .assets()
        .iter()
        .enumerate()
        .filter(|(_, a)| a.kind == "intersection")
        .filter(|(_, a)| a.properties.get("main").and_then(|m| m.as_bool()) == Some(true))
        .filter(|(_, a)| district.is_none_or(|d| a.district.as_deref() == Some(d)))
        .map(|(n, _)| n)
        .collect()
}

fn point_of(geometry: &geo::Geometry<f64>) -> Option<(f64, f64)> {
    match geometry {
        geo::Geometry::Point(p) => Some((p.x(), p.y())),
        _ => None,
    }
}

/// Coverage of main intersections at local time `at` by `posts`. An intersection not held
/// directly is covered by a post on duty whose intersection is within `nearby_m` by
/// `walking_m(from_lonlat, to_lonlat)` (a network distance, or `None` when unreachable).
pub fn coverage_at(
    layers: &Layers,
    posts: &[DutyPost],
    at: DateTime<FixedOffset>,
    district: Option<&str>,
    nearby_m: f64,
    walking_m: &dyn Fn((f64, f64), (f64, f64)) -> Option<f64>,
) -> Coverage {
    // Windows are local to the city (Asia/Shanghai), whatever offset the moment was given in.
    let at = at.with_timezone(&crate::reports::book::shanghai());
    let local = at.naive_local();
    let on_duty: Vec<&DutyPost> = posts.iter().filter(|p| p.on_duty(local)).collect();
    let mut holders: BTreeMap<&str, Vec<&DutyPost>> = BTreeMap::new();
    for post in &on_duty {
        for id in &post.intersections {
            holders.entry(id.as_str()).or_default().push(post);
        }
    }
    let held_points: Vec<(&DutyPost, &str, (f64, f64))> = holders
        .iter()
        .filter_map(|(id, posts)| {
            let asset = layers.asset(id)?;
            Some((posts[0], asset.id.as_str(), point_of(&asset.geometry)?))
        })
        .collect();
    let mut intersections = Vec::new();
    for n in main_intersections(layers, district) {
        let asset = &layers.assets()[n];
        let Some((lon, lat)) = point_of(&asset.geometry) else {
            continue;
        };
        let cover = match holders.get(asset.id.as_str()) {
            Some(posts) => Some(Cover::Held {
                posts: posts.iter().map(|p| p.id).collect(),
                units: posts.iter().map(|p| p.unit.clone()).collect(),
            }),
            None => held_points
                .iter()
                .filter(|(_, _, p)| crate::index::distance_m(*p, (lon, lat)) <= nearby_m)
                .filter_map(|(post, via, p)| {
                    walking_m(*p, (lon, lat))
                        .filter(|d| *d <= nearby_m)
                        .map(|d| (post, via, d))
                })
                .min_by(|a, b| a.2.total_cmp(&b.2))
                .map(|(post, via, d)| Cover::NearbyPost {
                    post: post.id,
                    unit: post.unit.clone(),
                    via_intersection: via.to_string(),
                    distance_m: (d * 10.0).round() / 10.0,
                }),
        };
        intersections.push(IntersectionCoverage {
            id: asset.id.clone(),
            name: asset.name.clone(),
            district: asset.district.clone(),
            lon,
            lat,
            covered: cover.is_some(),
            cover,
        });
    }
    let mut by_district: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for i in &intersections {
        let slot = by_district
            .entry(i.district.clone().unwrap_or_else(|| "(none)".into()))
            .or_default();
        slot.0 += 1;
        slot.1 += usize::from(i.covered);
    }
    Coverage {
        at,
        districts: by_district
            .into_iter()
            .map(|(district, (total, covered))| DistrictCoverage {
                district,
                main_intersections: total,
                covered,
                ratio: (total > 0).then(|| covered as f64 / total as f64),
            })
            .collect(),
        intersections,
    }
}

/// Straight-line distance, for when no road network is available.
pub fn straight_line_m(a: (f64, f64), b: (f64, f64)) -> Option<f64> {
    Some(crate::index::distance_m(a, b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Asset, Catalogue};
    use chrono::TimeZone;

    fn crossing(id: &str, lon: f64, main: bool, district: &str) -> Asset {
        let mut properties = serde_json::Map::new();
        properties.insert("main".into(), serde_json::Value::Bool(main));
        Asset {
            id: id.into(),
            kind: "intersection".into(),
            name: format!("{id}交口"),
            district: Some(district.into()),
            unit: None,
            properties,
            geometry: geo::Geometry::Point(geo::Point::new(lon, 39.52)),
        }
    }

    fn layers() -> Layers {
        Layers::build(
            Catalogue::builtin(),
            vec![
                crossing("a", 116.700, true, "广阳区"),
                crossing("b", 116.702, true, "广阳区"), // ≈ 172 m east of a
                crossing("c", 116.720, true, "安次区"),
                crossing("minor", 116.701, false, "广阳区"),
            ],
        )
    }

    fn post(id: i64, holds: &[&str], window: &str) -> DutyPost {
        DutyPost {
            id,
            unit: format!("交警{id}中队"),
            intersections: holds.iter().map(|s| s.to_string()).collect(),
            windows: vec![Window::parse(window, "weekdays").unwrap()],
            from: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
            to: None,
            ended_at: None,
        }
    }

    fn at(text: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(text).unwrap()
    }

    #[test]
    fn a_held_intersection_is_covered_only_inside_its_window() {
        let posts = [post(1, &["a"], "07:00-09:00")];
        let morning = coverage_at(
            &layers(),
            &posts,
            at("2026-11-23T07:30:00+08:00"),
            None,
            0.0,
            &straight_line_m,
        );
        let a = morning.intersections.iter().find(|i| i.id == "a").unwrap();
        assert!(matches!(&a.cover, Some(Cover::Held { posts, .. }) if posts == &vec![1]));
        let noon = coverage_at(
            &layers(),
            &posts,
            at("2026-11-23T12:00:00+08:00"),
            None,
            0.0,
            &straight_line_m,
        );
        assert!(noon.intersections.iter().all(|i| !i.covered));
        // Saturday: weekdays only
        let saturday = coverage_at(
            &layers(),
            &posts,
            at("2026-11-28T07:30:00+08:00"),
            None,
            0.0,
            &straight_line_m,
        );
        assert!(saturday.intersections.iter().all(|i| !i.covered));
    }

    #[test]
    fn minor_intersections_are_not_counted_and_districts_get_ratios() {
        let posts = [post(1, &["a"], "07:00-09:00")];
        let c = coverage_at(
            &layers(),
            &posts,
            at("2026-11-23T08:00:00+08:00"),
            None,
            0.0,
            &straight_line_m,
        );
        assert_eq!(c.intersections.len(), 3);
        let guangyang = c.districts.iter().find(|d| d.district == "广阳区").unwrap();
        assert_eq!((guangyang.main_intersections, guangyang.covered), (2, 1));
        assert_eq!(guangyang.ratio, Some(0.5));
        let only = coverage_at(
            &layers(),
            &posts,
            at("2026-11-23T08:00:00+08:00"),
            Some("安次区"),
            0.0,
            &straight_line_m,
        );
        assert_eq!(only.intersections.len(), 1);
    }

    #[test]
    fn a_post_covers_neighbours_within_walking_reach() {
        let posts = [post(1, &["a"], "07:00-09:00")];
        let c = coverage_at(
            &layers(),
            &posts,
            at("2026-11-23T08:00:00+08:00"),
            None,
            200.0,
            &straight_line_m,
        );
        let b = c.intersections.iter().find(|i| i.id == "b").unwrap();
        assert!(
            matches!(&b.cover, Some(Cover::NearbyPost { via_intersection, .. }) if via_intersection == "a")
        );
        assert!(
            !c.intersections
                .iter()
                .find(|i| i.id == "c")
                .unwrap()
                .covered
        );
        let blocked = coverage_at(
            &layers(),
            &posts,
            at("2026-11-23T08:00:00+08:00"),
            None,
            200.0,
            &|_, _| None,
        );
        assert!(
            !blocked
                .intersections
                .iter()
                .find(|i| i.id == "b")
                .unwrap()
                .covered
        );
    }

    #[test]
    fn a_night_window_covers_after_midnight_on_the_next_day() {
        let posts = [post(1, &["c"], "22:00-02:00")];
        // Friday 22:30 and Saturday 01:00 belong to Friday's shift; Saturday 23:00 does not.
        for (time, covered) in [
            ("2026-11-27T22:30:00+08:00", true),
            ("2026-11-28T01:00:00+08:00", true),
            ("2026-11-28T23:00:00+08:00", false),
            ("2026-11-23T01:00:00+08:00", false), // Monday 01:00 is Sunday's shift
        ] {
            let c = coverage_at(&layers(), &posts, at(time), None, 0.0, &straight_line_m);
            assert_eq!(
                c.intersections
                    .iter()
                    .find(|i| i.id == "c")
                    .unwrap()
                    .covered,
                covered,
                "{time}"
            );
        }
    }

    #[test]
    fn the_same_instant_in_another_time_zone_gives_the_same_answer() {
        let posts = [post(1, &["a"], "07:00-09:00")];
        let utc = Utc.with_ymd_and_hms(2026, 11, 22, 23, 30, 0).unwrap();
        let local = utc.with_timezone(&crate::reports::book::shanghai());
        let c = coverage_at(&layers(), &posts, local, None, 0.0, &straight_line_m);
        assert!(
            c.intersections
                .iter()
                .find(|i| i.id == "a")
                .unwrap()
                .covered
        );
    }
}
