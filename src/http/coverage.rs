//! HTTP for intersection duty: duty posts (create, list, change, end, CSV import, history) and
//! coverage of main intersections at a moment, through a day, and where the next post should go.

use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveDateTime, TimeZone};
use serde_json::{Value, json};

use super::AppState;
use super::error::AppError;
use super::params::Params;
use crate::coverage::roster::{PostInput, RosterError, parse_post_csv};
use crate::coverage::{Cover, coverage_at, main_intersections, straight_line_m};
use crate::reports::Status;
use crate::reports::book::shanghai;

/// Default walking reach of a post to neighbouring intersections, metres.
const DEFAULT_NEARBY_M: f64 = 300.0;

impl From<RosterError> for AppError {
    fn from(error: RosterError) -> Self {
        let status = match &error {
            RosterError::Invalid(_) => StatusCode::BAD_REQUEST,
            RosterError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            RosterError::NotFound(_) => StatusCode::NOT_FOUND,
            RosterError::Conflict(_) => StatusCode::CONFLICT,
            RosterError::Store(e) => return AppError::internal("duty post store", e),
        };
        AppError::new(status, error.to_string())
    }
}

async fn json_body(request: Request) -> Result<PostInput, AppError> {
    let media = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    if !media.starts_with("application/json") {
        return Err(AppError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/json",
        ));
    }
    let bytes = axum::body::to_bytes(request.into_body(), 64 << 10)
        .await
        .map_err(|_| AppError::new(StatusCode::PAYLOAD_TOO_LARGE, "body larger than 64 KiB"))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| AppError::bad_request(format!("malformed JSON: {e}")))
}

fn parse_post_id(text: &str) -> Result<i64, AppError> {
    text.parse()
        .map_err(|_| AppError::not_found(format!("no duty post {text:?}")))
}

/// POST /api/duty-posts
pub async fn create(State(state): State<AppState>, request: Request) -> Result<Response, AppError> {
    let input = json_body(request).await?;
    let city = &state.city;
    let layers = city.layers();
    let mut posts = city
        .duty
        .create(
            city.store(),
            &layers,
            std::slice::from_ref(&input),
            city.now(),
        )
        .await?;
    let post = posts
        .pop()
        .ok_or_else(|| AppError::internal("creating a post", &"no post"))?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/api/duty-posts/{}", post.id))],
        axum::Json(post),
    )
        .into_response())
}

/// POST /api/duty-posts/import (text/csv)
pub async fn import(State(state): State<AppState>, request: Request) -> Result<Response, AppError> {
    let is_csv = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/csv"));
    if !is_csv {
        return Err(AppError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be text/csv",
        ));
    }
    let bytes = axum::body::to_bytes(request.into_body(), 4 << 20)
        .await
        .map_err(|_| AppError::new(StatusCode::PAYLOAD_TOO_LARGE, "body larger than 4 MiB"))?;
    let inputs = parse_post_csv(&bytes).map_err(AppError::bad_request)?;
    if inputs.is_empty() {
        return Err(AppError::bad_request("the CSV has no rows"));
    }
    let city = &state.city;
    let layers = city.layers();
    let posts = city
        .duty
        .create(city.store(), &layers, &inputs, city.now())
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({"imported": posts.len(), "posts": posts})),
    )
        .into_response())
}

/// GET /api/duty-posts[?unit=&intersection=&active=true]
pub async fn list(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let params = Params::parse(raw.as_deref());
    let posts: Vec<_> = state
        .city
        .duty
        .posts()
        .into_iter()
        .filter(|p| params.get("unit").is_none_or(|u| p.unit == u))
        .filter(|p| {
            params
                .get("intersection")
                .is_none_or(|i| p.intersections.iter().any(|x| x == i))
        })
        .filter(|p| params.get("active") != Some("true") || p.ended_at.is_none())
        .collect();
    Ok(axum::Json(json!({"posts": posts})).into_response())
}

/// GET /api/duty-posts/{id}: the post and its audit trail.
pub async fn one(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = parse_post_id(&id)?;
    let post = state
        .city
        .duty
        .get(id)
        .ok_or_else(|| AppError::not_found(format!("no duty post {id}")))?;
    let history = state.city.store().duty_post_changes(id).await?;
    let mut body = serde_json::to_value(&post).unwrap_or(Value::Null);
    body["history"] = serde_json::to_value(&history).unwrap_or(Value::Null);
    Ok(axum::Json(body).into_response())
}

/// PATCH /api/duty-posts/{id}
pub async fn change(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: Request,
) -> Result<Response, AppError> {
    let id = parse_post_id(&id)?;
    let input = json_body(request).await?;
    let city = &state.city;
    let layers = city.layers();
    let post = city
        .duty
        .change(city.store(), &layers, id, &input, city.now())
        .await?;
    Ok(axum::Json(post).into_response())
}

/// DELETE /api/duty-posts/{id}[?actor=]: ends the post.
pub async fn end(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let id = parse_post_id(&id)?;
    let params = Params::parse(raw.as_deref());
    let city = &state.city;
    let post = city
        .duty
        .end(
            city.store(),
            id,
            params.get("actor").unwrap_or("anonymous"),
            city.now(),
        )
        .await?;
    Ok(axum::Json(post).into_response())
}

/// `at` as given: RFC 3339 with an offset, or a local Asia/Shanghai time without one.
fn parse_at(
    text: Option<&str>,
    now: DateTime<FixedOffset>,
) -> Result<DateTime<FixedOffset>, AppError> {
    let Some(text) = text else {
        return Ok(now);
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t);
    }
    ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
        .and_then(|t| shanghai().from_local_datetime(&t).single())
        .ok_or_else(|| {
            AppError::bad_request(format!(
                "at={text:?} is not a time such as 2026-11-23T07:30 (Asia/Shanghai) or 2026-11-22T23:30:00Z"
            ))
        })
}

fn nearby_m(params: &Params) -> Result<f64, AppError> {
    match params.get("nearby_m") {
        None => Ok(DEFAULT_NEARBY_M),
        Some(_) => params.number_in("nearby_m", 0.0..=5_000.0),
    }
}

/// GET /api/coverage?at=&district=&nearby_m=&format=json|geojson|csv
pub async fn coverage(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let params = Params::parse(raw.as_deref());
    let now = state.city.now().with_timezone(&shanghai());
    let at = parse_at(params.get("at"), now)?;
    let layers = state.city.layers();
    let district = params.get("district");
    let result = coverage_at(
        &layers,
        &state.city.duty.posts(),
        at,
        district,
        nearby_m(&params)?,
        &straight_line_m,
    );
    match params.get("format").unwrap_or("json") {
        "json" => Ok(axum::Json(result).into_response()),
        "geojson" => {
            let features: Vec<Value> = result
                .intersections
                .iter()
                .map(|i| {
                    json!({
                        "type": "Feature",
                        "id": i.id,
                        "geometry": {"type": "Point", "coordinates": [i.lon, i.lat]},
                        "properties": {"id": i.id, "name": i.name, "district": i.district,
                            "covered": i.covered, "cover": i.cover},
                    })
                })
                .collect();
            Ok(super::geojson(
                json!({"type": "FeatureCollection", "at": result.at, "districts": result.districts, "features": features})
                    .to_string(),
            ))
        }
        "csv" => {
            let mut csv = csv::Writer::from_writer(Vec::new());
            let mut write = || -> Result<Vec<u8>, csv::Error> {
                csv.write_record([
                    "id",
                    "name",
                    "district",
                    "covered",
                    "how",
                    "by",
                    "distance_m",
                ])?;
                for i in &result.intersections {
                    let (how, by, distance) = match &i.cover {
                        Some(Cover::Held { units, .. }) => ("held", units.join(";"), String::new()),
                        Some(Cover::NearbyPost {
                            unit, distance_m, ..
                        }) => ("nearby_post", unit.clone(), format!("{distance_m:.0}")),
                        None => ("", String::new(), String::new()),
                    };
                    csv.write_record([
                        i.id.as_str(),
                        i.name.as_str(),
                        i.district.as_deref().unwrap_or(""),
                        if i.covered { "yes" } else { "no" },
                        how,
                        by.as_str(),
                        distance.as_str(),
                    ])?;
                }
                csv.flush()?;
                Ok(csv.get_ref().clone())
            };
            let bytes = write().map_err(|e| AppError::internal("writing the coverage CSV", &e))?;
            Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], bytes).into_response())
        }
        other => Err(AppError::bad_request(format!(
            "format={other:?} must be json, geojson or csv"
        ))),
    }
}

/// GET /api/coverage/day?date=2026-11-23&district=: per local hour, how many main
/// intersections are held at some time in that hour (sampled every 5 minutes).
pub async fn day(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let params = Params::parse(raw.as_deref());
    let today = state.city.now().with_timezone(&shanghai()).date_naive();
    let date = match params.get("date") {
        None => today,
        Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map_err(|_| AppError::bad_request(format!("date={d:?} is not YYYY-MM-DD")))?,
    };
    let layers = state.city.layers();
    let district = params.get("district");
    let posts = state.city.duty.posts();
    let total = main_intersections(&layers, district).len();
    let mut hours = Vec::with_capacity(24);
    for hour in 0..24u32 {
        let mut held = std::collections::BTreeSet::new();
        for minute in (0..60).step_by(5) {
            let local = date
                .and_hms_opt(hour, minute, 0)
                .and_then(|t| shanghai().from_local_datetime(&t).single());
            let Some(at) = local else { continue };
            let c = coverage_at(&layers, &posts, at, district, 0.0, &|_, _| None);
            held.extend(
                c.intersections
                    .into_iter()
                    .filter(|i| i.covered)
                    .map(|i| i.id),
            );
        }
        hours.push(
            json!({"hour": hour, "held": held.len(), "main_intersections": total,
            "ratio": if total > 0 { Some(held.len() as f64 / total as f64) } else { None }}),
        );
    }
    Ok(axum::Json(json!({"date": date, "district": district, "hours": hours})).into_response())
}

/// GET /api/coverage/suggestions?at=&district=&radius_m=300&limit=10: uncovered main
/// intersections ranked by open 交通秩序 problems nearby, then all open problems nearby.
pub async fn suggestions(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let params = Params::parse(raw.as_deref());
    let now = state.city.now();
    let at = parse_at(params.get("at"), now.with_timezone(&shanghai()))?;
    let radius_m = match params.get("radius_m") {
        None => 300.0,
        Some(_) => params.number_in("radius_m", 1.0..=5_000.0)?,
    };
    let limit = params.count("limit", 10, 1, 1000)?;
    let layers = state.city.layers();
    let result = coverage_at(
        &layers,
        &state.city.duty.posts(),
        at,
        params.get("district"),
        nearby_m(&params)?,
        &straight_line_m,
    );
    let book = state.city.reports.book();
    let since = now - Duration::days(90);
    let mut ranked: Vec<(usize, usize, Value)> = result
        .intersections
        .iter()
        .filter(|i| !i.covered)
        .map(|i| {
            let nearby: Vec<_> = book
                .all()
                .iter()
                .filter(|r| r.status != Status::Closed && r.filed.reported_at >= since)
                .filter(|r| crate::index::distance_m((i.lon, i.lat), (r.filed.lon, r.filed.lat)) <= radius_m)
                .collect();
            let traffic = nearby.iter().filter(|r| r.filed.category == "traffic_disorder").count();
            (
                traffic,
                nearby.len(),
                json!({"id": i.id, "name": i.name, "district": i.district, "lon": i.lon, "lat": i.lat,
                    "open_traffic_disorder": traffic, "open_problems": nearby.len()}),
            )
        })
        .collect();
    ranked.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)));
    let suggestions: Vec<Value> = ranked.into_iter().take(limit).map(|(_, _, v)| v).collect();
    Ok(
        axum::Json(json!({"at": at, "radius_m": radius_m, "suggestions": suggestions}))
            .into_response(),
    )
}
