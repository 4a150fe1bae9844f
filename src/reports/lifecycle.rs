//! The lifecycle rules (挂账销号): reported → assigned (交办, unit + deadline) → rectified (整改,
//! with evidence) → verified (复查) → closed (销号). A failed check sends a rectified problem back
//! to assigned; an assigned problem can be reassigned to another unit; invalid or duplicate
//! reports close with a reason from any open state before verification.

use chrono::{DateTime, Duration, Utc};

use super::{Category, CloseReason, Report, Status, Transition};

/// A requested change of state.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TransitionRequest {
    pub to: Option<Status>,
    pub actor: String,
    pub unit: Option<String>,
    pub deadline_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
    pub reason: Option<CloseReason>,
    pub duplicate_of: Option<i64>,
    pub photos: Vec<String>,
}

/// Why a change is refused. `Illegal` is a conflict with the current state; the others are
/// requests missing what the change needs.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum LifecycleError {
    #[error("a {from} problem cannot move to {to} (from {from} it can move to: {allowed})")]
    Illegal {
        from: &'static str,
        to: &'static str,
        allowed: String,
    },
    #[error("{0}")]
    Incomplete(String),
}

/// The states reachable from `from`.
pub fn allowed_from(from: Status) -> &'static [Status] {
    use Status::*;
    match from {
        Reported => &[Assigned, Closed],
        Assigned => &[Assigned, Rectified, Closed],
        Rectified => &[Verified, Assigned, Closed],
        Verified => &[Closed],
        Closed => &[],
    }
}

fn incomplete(what: &str) -> LifecycleError {
    LifecycleError::Incomplete(what.to_string())
}

fn non_empty(text: &Option<String>) -> Option<String> {
    text.as_ref()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
}

/// Checks `request` against `report`'s state and returns the updated report and the audit entry.
/// Nothing is changed when it fails.
///
/// # Examples
/// ```
/// # use chrono::{TimeZone, Utc};
/// # use civmap::reports::{Categories, NewReport, Report, Status, InputPosition};
/// # use civmap::reports::lifecycle::{apply, TransitionRequest};
/// # use civmap::crs::InputCrs;
/// # let now = Utc.with_ymd_and_hms(2026, 11, 23, 8, 0, 0).unwrap();
/// # let filed = NewReport { category: "litter".into(), description: String::new(),
/// #   reporter: "巡查员".into(), observed_at: now, reported_at: now, lon: 116.7, lat: 39.52,
/// #   input: InputPosition { crs: InputCrs::Wgs84, lon: 116.7, lat: 39.52 }, asset: None,
/// #   unit: Some("广阳区城管局".into()), district: None, permitted_zone: None, photos: vec![] };
/// let categories = Categories::builtin();
/// let report = Report::new(1, filed);
/// let assign = TransitionRequest { to: Some(Status::Assigned), actor: "创城办".into(), ..Default::default() };
/// let (assigned, entry) = apply(&report, &assign, categories.get("litter").unwrap(), now).unwrap();
/// assert_eq!(assigned.status, Status::Assigned);
/// assert_eq!(entry.unit.as_deref(), Some("广阳区城管局"));
/// let close = TransitionRequest { to: Some(Status::Closed), actor: "x".into(), ..Default::default() };
/// assert!(apply(&report, &close, categories.get("litter").unwrap(), now).is_err());
/// ```
pub fn apply(
    report: &Report,
    request: &TransitionRequest,
    category: &Category,
    now: DateTime<Utc>,
) -> Result<(Report, Transition), LifecycleError> {
    use Status::*;
    let to = request.to.ok_or_else(|| incomplete("`to` is required"))?;
    let actor = request.actor.trim();
    if actor.is_empty() {
        return Err(incomplete("`actor` (who makes the change) is required"));
    }
    let from = report.status;
    if !allowed_from(from).contains(&to) {
        let allowed: Vec<&str> = allowed_from(from).iter().map(|s| s.as_str()).collect();
        return Err(LifecycleError::Illegal {
            from: from.as_str(),
            to: to.as_str(),
            allowed: if allowed.is_empty() {
                "nothing, it is closed".into()
            } else {
                allowed.join(", ")
            },
        });
    }
    if let Some(deadline) = request.deadline_at
        && deadline <= now
    {
        return Err(incomplete("`deadline` must be in the future"));
    }
    let note = non_empty(&request.note);
    let requested_unit = non_empty(&request.unit);
    let mut next = report.clone();
    next.status = to;
    next.updated_at = now;
    let mut entry = Transition {
        report_id: report.id,
        at: now,
        actor: actor.to_string(),
        from,
        to,
        unit: None,
        deadline_at: None,
        note: note.clone(),
        reason: None,
        photos: request.photos.clone(),
    };
    let default_deadline = || now + Duration::hours(category.deadline_hours);
    match (from, to) {
        (Reported, Assigned) | (Rectified, Assigned) => {
            if from == Rectified && note.is_none() {
                return Err(incomplete(
                    "a failed check (复查不通过) needs a `note` saying what is still wrong",
                ));
            }
            let unit = requested_unit.or_else(|| report.unit.clone()).ok_or_else(|| {
                incomplete("`unit` is required: the report was matched to no asset with a responsible unit")
            })?;
            next.unit = Some(unit.clone());
            next.deadline_at = Some(request.deadline_at.unwrap_or_else(default_deadline));
            entry.unit = Some(unit);
            entry.deadline_at = next.deadline_at;
        }
        (Assigned, Assigned) => {
            let unit =
                requested_unit.ok_or_else(|| incomplete("reassignment needs the new `unit`"))?;
            if Some(&unit) == report.unit.as_ref() {
                return Err(incomplete(
                    "reassignment needs a `unit` other than the current one",
                ));
            }
            next.unit = Some(unit.clone());
            next.deadline_at = Some(request.deadline_at.unwrap_or_else(default_deadline));
            entry.unit = Some(unit);
            entry.deadline_at = next.deadline_at;
        }
        (Assigned, Rectified) => {
            if note.is_none() {
                return Err(incomplete(
                    "rectification (整改) needs evidence: a `note` saying what was done",
                ));
            }
        }
        (Rectified, Verified) => {}
        (_, Closed) => {
            let reason = match (from, request.reason) {
                (Verified, None | Some(CloseReason::Resolved)) => CloseReason::Resolved,
                (Verified, Some(_)) => {
                    return Err(incomplete("a verified problem closes as `resolved`"));
                }
                (_, Some(CloseReason::Invalid)) => CloseReason::Invalid,
                (_, Some(CloseReason::Duplicate)) => CloseReason::Duplicate,
                _ => {
                    return Err(incomplete(
                        "closing before verification needs `reason`: invalid or duplicate",
                    ));
                }
            };
            if reason == CloseReason::Duplicate {
                let original = request
                    .duplicate_of
                    .ok_or_else(|| incomplete("closing as duplicate needs `duplicate_of`"))?;
                if original == report.id {
                    return Err(incomplete("a report cannot be a duplicate of itself"));
                }
                next.duplicate_of = Some(original);
            }
            if reason == CloseReason::Invalid && note.is_none() {
                return Err(incomplete("closing as invalid needs a `note` saying why"));
            }
            next.close_reason = Some(reason);
            next.closed_at = Some(now);
            entry.reason = Some(reason);
        }
        _ => unreachable!("allowed_from covers every pair"),
    }
    Ok((next, entry))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crs::InputCrs;
    use crate::reports::{Categories, InputPosition, NewReport};
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 0, 0, 0).unwrap()
    }

    fn report(unit: Option<&str>) -> Report {
        Report::new(
            7,
            NewReport {
                category: "illegal_parking".into(),
                description: "占用盲道".into(),
                reporter: "巡查员".into(),
                observed_at: now(),
                reported_at: now(),
                lon: 116.7,
                lat: 39.52,
                input: InputPosition {
                    crs: InputCrs::Wgs84,
                    lon: 116.7,
                    lat: 39.52,
                },
                asset: None,
                unit: unit.map(String::from),
                district: None,
                permitted_zone: None,
                photos: vec![],
            },
        )
    }

    fn go(
        report: &Report,
        to: Status,
        tweak: impl FnOnce(&mut TransitionRequest),
    ) -> Result<Report, LifecycleError> {
        let mut request = TransitionRequest {
            to: Some(to),
            actor: "测试".into(),
            ..Default::default()
        };
        tweak(&mut request);
        let categories = Categories::builtin();
        apply(
            report,
            &request,
            categories.get("illegal_parking").unwrap(),
            now(),
        )
        .map(|(r, _)| r)
    }

    #[test]
    fn the_whole_path_to_closure_is_allowed_in_order() {
        let r = report(Some("交警一大队"));
        let r = go(&r, Status::Assigned, |_| {}).unwrap();
        assert_eq!(r.deadline_at, Some(now() + Duration::hours(24)));
        let r = go(&r, Status::Rectified, |q| q.note = Some("已清理".into())).unwrap();
        let r = go(&r, Status::Verified, |_| {}).unwrap();
        let r = go(&r, Status::Closed, |_| {}).unwrap();
        assert_eq!(r.close_reason, Some(CloseReason::Resolved));
        assert!(go(&r, Status::Assigned, |_| {}).is_err());
    }

    #[test]
    fn skipping_a_step_is_illegal() {
        let r = report(Some("交警一大队"));
        for to in [Status::Rectified, Status::Verified, Status::Reported] {
            assert!(
                matches!(go(&r, to, |_| {}), Err(LifecycleError::Illegal { .. })),
                "{to:?}"
            );
        }
        let assigned = go(&r, Status::Assigned, |_| {}).unwrap();
        assert!(matches!(
            go(&assigned, Status::Verified, |_| {}),
            Err(LifecycleError::Illegal { .. })
        ));
    }

    #[test]
    fn a_failed_check_returns_the_problem_to_its_unit_with_a_new_deadline() {
        let r = go(&report(Some("U")), Status::Assigned, |_| {}).unwrap();
        let r = go(&r, Status::Rectified, |q| q.note = Some("done".into())).unwrap();
        assert!(
            go(&r, Status::Assigned, |_| {}).is_err(),
            "a failed check needs a note"
        );
        let back = go(&r, Status::Assigned, |q| q.note = Some("仍有车辆".into())).unwrap();
        assert_eq!(back.status, Status::Assigned);
        assert_eq!(back.unit.as_deref(), Some("U"));
    }

    #[test]
    fn an_unmatched_report_needs_a_unit_to_be_assigned_and_reassignment_needs_another_unit() {
        let r = report(None);
        assert!(matches!(
            go(&r, Status::Assigned, |_| {}),
            Err(LifecycleError::Incomplete(_))
        ));
        let r = go(&r, Status::Assigned, |q| q.unit = Some("A".into())).unwrap();
        assert!(go(&r, Status::Assigned, |q| q.unit = Some("A".into())).is_err());
        let moved = go(&r, Status::Assigned, |q| q.unit = Some("B".into())).unwrap();
        assert_eq!(moved.unit.as_deref(), Some("B"));
    }

    #[test]
    fn early_closure_needs_a_reason_and_duplicates_name_their_original() {
        let r = report(Some("U"));
        assert!(go(&r, Status::Closed, |_| {}).is_err());
        assert!(
            go(&r, Status::Closed, |q| q.reason =
                Some(CloseReason::Resolved))
            .is_err()
        );
        assert!(
            go(&r, Status::Closed, |q| q.reason =
                Some(CloseReason::Duplicate))
            .is_err()
        );
        let dup = go(&r, Status::Closed, |q| {
            q.reason = Some(CloseReason::Duplicate);
            q.duplicate_of = Some(3);
        })
        .unwrap();
        assert_eq!(dup.duplicate_of, Some(3));
        assert!(
            go(&r, Status::Closed, |q| {
                q.reason = Some(CloseReason::Duplicate);
                q.duplicate_of = Some(7);
            })
            .is_err()
        );
    }

    #[test]
    fn a_deadline_in_the_past_is_refused() {
        let r = report(Some("U"));
        let past = now() - Duration::hours(1);
        assert!(go(&r, Status::Assigned, |q| q.deadline_at = Some(past)).is_err());
    }
}
