//! Duty windows: a local time-of-day range (早高峰 07:00–09:00, 晚高峰 17:00–19:00, or custom,
//! possibly across midnight) on a set of weekdays.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, Timelike, Weekday};
use serde::{Serialize, Serializer};

/// Why a window is refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum WindowError {
    #[error("time {0:?} is not HH:MM between 00:00 and 24:00")]
    BadTime(String),
    #[error("window {0:?} is empty: start and end are the same")]
    Empty(String),
    #[error("days {0:?} must be daily, weekdays, weekends or a list such as mon,wed,fri")]
    BadDays(String),
    #[error("windows {0} and {1} overlap")]
    Overlap(String, String),
}

/// A set of weekdays (bit 0 = Monday).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DaySet(u8);

const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl DaySet {
    /// Parses `daily`, `weekdays`, `weekends` or a comma list of `mon`..`sun`.
    ///
    /// # Examples
    /// ```
    /// use civmap::coverage::DaySet;
    /// assert_eq!(DaySet::parse("weekdays"), DaySet::parse("mon,tue,wed,thu,fri"));
    /// assert!(DaySet::parse("someday").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Self, WindowError> {
        let bits = match text.trim().to_ascii_lowercase().as_str() {
            "daily" | "all" | "" => 0b111_1111,
            "weekdays" => 0b001_1111,
            "weekends" => 0b110_0000,
            list => list.split(',').try_fold(0u8, |acc, day| {
                DAY_NAMES
                    .iter()
                    .position(|d| *d == day.trim())
                    .map(|i| acc | (1 << i))
                    .ok_or_else(|| WindowError::BadDays(text.to_string()))
            })?,
        };
        Ok(Self(bits))
    }

    pub fn contains(self, day: Weekday) -> bool {
        self.0 & (1 << day.num_days_from_monday()) != 0
    }

    /// The canonical text (`daily`, `weekdays`, `weekends` or a list).
    pub fn text(self) -> String {
        match self.0 {
            0b111_1111 => "daily".into(),
            0b001_1111 => "weekdays".into(),
            0b110_0000 => "weekends".into(),
            bits => DAY_NAMES
                .iter()
                .enumerate()
                .filter(|(i, _)| bits & (1 << i) != 0)
                .map(|(_, d)| *d)
                .collect::<Vec<_>>()
                .join(","),
        }
    }
}

/// A daily time range in local minutes; `end_min < start_min` crosses midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start_min: u16,
    pub end_min: u16,
    pub days: DaySet,
}

fn minutes(text: &str) -> Result<u16, WindowError> {
    let bad = || WindowError::BadTime(text.to_string());
    let (h, m) = text.trim().split_once(':').ok_or_else(bad)?;
    let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if h > 24 || m > 59 || (h == 24 && m > 0) || text.trim().len() != 5 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

fn hhmm(total: u16) -> String {
    format!("{:02}:{:02}", total / 60, total % 60)
}

impl Window {
    /// Parses `"07:00-09:00"` (or start and end given apart via [`Window::new`]) on `days`.
    ///
    /// # Examples
    /// ```
    /// use civmap::coverage::Window;
    /// let night = Window::parse("22:00-02:00", "daily").unwrap();
    /// assert_eq!(night.to_string(), "22:00-02:00 daily");
    /// assert!(Window::parse("25:00-26:00", "daily").is_err());
    /// ```
    pub fn parse(range: &str, days: &str) -> Result<Self, WindowError> {
        let (start, end) = range
            .split_once('-')
            .ok_or_else(|| WindowError::BadTime(range.to_string()))?;
        Self::new(start, end, days)
    }

    /// A window from `start` to `end` (HH:MM local) on `days`.
    pub fn new(start: &str, end: &str, days: &str) -> Result<Self, WindowError> {
        let (start_min, end_min) = (minutes(start)?, minutes(end)?);
        if start_min % 1440 == end_min % 1440 {
            return Err(WindowError::Empty(format!("{start}-{end}")));
        }
        Ok(Self {
            start_min: start_min % 1440,
            end_min: if end_min == 1440 { 1440 } else { end_min },
            days: DaySet::parse(days)?,
        })
    }

    fn crosses_midnight(&self) -> bool {
        self.end_min < self.start_min
    }

    /// The local date of the shift covering `at`, if this window covers it.
    pub fn shift_date(&self, at: NaiveDateTime) -> Option<NaiveDate> {
        let now = (at.hour() * 60 + at.minute()) as u16;
        let today = at.date();
        if self.crosses_midnight() {
            if now >= self.start_min && self.days.contains(today.weekday()) {
                return Some(today);
            }
            let yesterday = today - Duration::days(1);
            (now < self.end_min && self.days.contains(yesterday.weekday())).then_some(yesterday)
        } else {
            (now >= self.start_min && now < self.end_min && self.days.contains(today.weekday()))
                .then_some(today)
        }
    }

    /// The minutes of the week (0 = Monday 00:00) this window covers, as half-open ranges.
    fn week_ranges(&self) -> Vec<(u32, u32)> {
        let mut out = Vec::new();
        for day in 0..7u32 {
            if self.days.0 & (1 << day) == 0 {
                continue;
            }
            let start = day * 1440 + u32::from(self.start_min);
            let end = if self.crosses_midnight() {
                (day + 1) * 1440 + u32::from(self.end_min)
            } else {
                day * 1440 + u32::from(self.end_min)
            };
            if end > 7 * 1440 {
                out.push((start, 7 * 1440));
                out.push((0, end - 7 * 1440));
            } else {
                out.push((start, end));
            }
        }
        out
    }

    /// Whether two windows are ever on at the same minute of the week.
    pub fn overlaps(&self, other: &Window) -> bool {
        let theirs = other.week_ranges();
        self.week_ranges()
            .iter()
            .any(|a| theirs.iter().any(|b| a.0 < b.1 && b.0 < a.1))
    }
}

/// Refuses a list of windows in which two overlap.
pub fn check_no_overlap(windows: &[Window]) -> Result<(), WindowError> {
    for (i, a) in windows.iter().enumerate() {
        for b in &windows[i + 1..] {
            if a.overlaps(b) {
                return Err(WindowError::Overlap(a.to_string(), b.to_string()));
            }
        }
    }
    Ok(())
}

impl std::fmt::Display for Window {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}-{} {}",
            hhmm(self.start_min),
            hhmm(self.end_min % 1440),
            self.days.text()
        )
    }
}

impl Serialize for Window {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("start", &hhmm(self.start_min))?;
        map.serialize_entry("end", &hhmm(self.end_min % 1440))?;
        map.serialize_entry("days", &self.days.text())?;
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn malformed_windows_are_refused() {
        for (range, days) in [
            ("7-9", "daily"),
            ("07:00-07:00", "daily"),
            ("07:00-09:60", "daily"),
            ("24:30-01:00", "daily"),
            ("07:00", "daily"),
            ("07:00-09:00", "someday"),
        ] {
            assert!(Window::parse(range, days).is_err(), "{range} {days}");
        }
    }

    #[test]
    fn peak_windows_cover_their_hours_on_their_days() {
        let morning = Window::parse("07:00-09:00", "weekdays").unwrap();
        assert!(morning.shift_date(t("2026-11-23 07:00")).is_some()); // Monday
        assert!(morning.shift_date(t("2026-11-23 08:59")).is_some());
        assert!(morning.shift_date(t("2026-11-23 09:00")).is_none());
        assert!(morning.shift_date(t("2026-11-22 08:00")).is_none()); // Sunday
    }

    #[test]
    fn overlapping_windows_are_found_even_across_midnight() {
        let w = |r, d| Window::parse(r, d).unwrap();
        assert!(
            check_no_overlap(&[w("07:00-09:00", "weekdays"), w("17:00-19:00", "weekdays")]).is_ok()
        );
        assert!(
            check_no_overlap(&[w("07:00-09:00", "weekdays"), w("08:30-10:00", "mon")]).is_err()
        );
        assert!(check_no_overlap(&[w("22:00-02:00", "fri"), w("01:00-03:00", "sat")]).is_err());
        assert!(check_no_overlap(&[w("22:00-02:00", "sun"), w("01:00-03:00", "mon")]).is_err());
        assert!(check_no_overlap(&[w("07:00-09:00", "sat"), w("07:00-09:00", "sun")]).is_ok());
    }
}
