//! HTTP for reports: filing (JSON or multipart with photos), lifecycle transitions, listings,
//! statistics, the weekly bulletin, supervision notices, CSV import, re-matching and photos.

use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Path, RawQuery, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::error::AppError;
use super::params::Params;
use crate::layers::BBox;
use crate::reports::book::{ReportQuery, report_feature, shanghai, week_start};
use crate::reports::desk::{ReportError, ReportInput};
use crate::reports::lifecycle::TransitionRequest;
use crate::reports::photos::PhotoError;
use crate::reports::{CloseReason, Status};

/// Largest JSON body of a report or transition.
const JSON_LIMIT: usize = 64 << 10;
/// Largest CSV import.
const CSV_LIMIT: usize = 16 << 20;

impl From<ReportError> for AppError {
    fn from(error: ReportError) -> Self {
        let status = match &error {
            ReportError::Invalid(_) => StatusCode::BAD_REQUEST,
            ReportError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ReportError::NotFound(_) => StatusCode::NOT_FOUND,
            ReportError::Conflict(_) => StatusCode::CONFLICT,
            ReportError::Photo(PhotoError::TooLarge { .. }) => StatusCode::PAYLOAD_TOO_LARGE,
            ReportError::Photo(PhotoError::Io(e)) => {
                return AppError::internal("storing a photo", e);
            }
            ReportError::Photo(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ReportError::Store(e) => return AppError::internal("report store", e),
        };
        AppError::new(status, error.to_string())
    }
}

fn media_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

async fn read_body(request: Request, limit: usize) -> Result<axum::body::Bytes, AppError> {
    axum::body::to_bytes(request.into_body(), limit)
        .await
        .map_err(|_| {
            AppError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("request body is larger than {limit} bytes"),
            )
        })
}

fn parse_json<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, AppError> {
    serde_json::from_slice(bytes).map_err(|e| AppError::bad_request(format!("malformed JSON: {e}")))
}

fn unsupported(expected: &str) -> AppError {
    AppError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        format!("Content-Type must be {expected}"),
    )
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> AppError {
    let status = e.status();
    let status = if status.is_client_error() {
        status
    } else {
        StatusCode::BAD_REQUEST
    };
    AppError::new(status, format!("multipart body: {}", e.body_text()))
}

/// Reads a JSON body, or a multipart body with the JSON in field `json_field` and photos in
/// files named `photo`; stored photos' hashes are returned beside the JSON.
async fn json_with_photos<T: for<'de> Deserialize<'de>>(
    state: &AppState,
    request: Request,
    json_field: &str,
) -> Result<(T, Vec<String>), AppError> {
    match media_type(request.headers()).as_str() {
        "application/json" => {
            let bytes = read_body(request, JSON_LIMIT).await?;
            Ok((parse_json(&bytes)?, Vec::new()))
        }
        "multipart/form-data" => {
            let mut multipart = Multipart::from_request(request, state)
                .await
                .map_err(|e| AppError::bad_request(e.body_text()))?;
            let mut json = None;
            let mut photos = Vec::new();
            while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
                let name = field.name().unwrap_or("").to_string();
                let declared = field.content_type().map(str::to_string);
                let bytes = field.bytes().await.map_err(multipart_error)?;
                if name == json_field {
                    json = Some(parse_json::<T>(&bytes)?);
                } else if name == "photo" || name == "photos" {
                    let stored = state
                        .city
                        .reports
                        .photos()
                        .save(&bytes, declared.as_deref())
                        .map_err(ReportError::from)?;
                    photos.push(stored.hash);
                } else {
                    return Err(AppError::bad_request(format!(
                        "unexpected multipart field {name:?}; send `{json_field}` (JSON) and `photo` files"
                    )));
                }
            }
            let json = json.ok_or_else(|| {
                AppError::bad_request(format!("multipart body has no `{json_field}` field"))
            })?;
            Ok((json, photos))
        }
        _ => Err(unsupported("application/json or multipart/form-data")),
    }
}

fn created(location: String, body: Value) -> Response {
    (
        StatusCode::CREATED,
        [
            (header::LOCATION, location),
            (header::CONTENT_TYPE, "application/json".to_string()),
        ],
        body.to_string(),
    )
        .into_response()
}

pub async fn categories(State(state): State<AppState>) -> impl IntoResponse {
    axum::Json(json!({"categories": state.city.reports.categories().categories}))
}

/// POST /api/reports
pub async fn file_report(
    State(state): State<AppState>,
    request: Request,
) -> Result<Response, AppError> {
    let (mut input, uploaded): (ReportInput, Vec<String>) =
        json_with_photos(&state, request, "report").await?;
    input.photos.extend(uploaded);
    let city = &state.city;
    let layers = city.layers();
    let receipt = city
        .reports
        .file(city.store(), &layers, &input, city.now())
        .await?;
    let r = &receipt.report;
    let body = json!({
        "id": r.id,
        "status": r.status,
        "category": r.filed.category,
        "position": {"lon": r.filed.lon, "lat": r.filed.lat, "crs": "wgs84"},
        "input": r.filed.input,
        "matched": r.filed.asset.is_some(),
        "asset": r.filed.asset,
        "unit": r.unit,
        "district": r.filed.district,
        "permitted_zone": r.filed.permitted_zone.as_ref().map(|id| json!({
            "id": id,
            "name": layers.asset(id).map(|a| a.name.clone()),
        })),
        "possible_duplicates": receipt.possible_duplicates.iter()
            .map(|(id, d)| json!({"id": id, "distance_m": (d * 100.0).round() / 100.0}))
            .collect::<Vec<_>>(),
        "photos": r.filed.photos,
        "reported_at": r.filed.reported_at,
    });
    Ok(created(format!("/api/reports/{}", r.id), body))
}

fn parse_id(text: &str) -> Result<i64, AppError> {
    text.parse()
        .map_err(|_| AppError::not_found(format!("no report with id {text:?}")))
}

/// GET /api/reports/{id}
pub async fn report_by_id(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let book = state.city.reports.book();
    let report = book
        .get(id)
        .ok_or_else(|| AppError::not_found(format!("no report with id {id}")))?;
    let feature = report_feature(report, state.city.now(), Some(book.history(id)));
    Ok(super::geojson(feature.to_string()))
}

/// The body of POST /api/reports/{id}/transitions.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TransitionBody {
    to: String,
    actor: String,
    unit: Option<String>,
    deadline: Option<String>,
    note: Option<String>,
    reason: Option<String>,
    duplicate_of: Option<i64>,
    #[serde(default)]
    photos: Vec<String>,
}

fn parse_time(name: &str, text: &str) -> Result<DateTime<Utc>, AppError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .and_then(|t| shanghai().from_local_datetime(&t).single())
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| {
            AppError::bad_request(format!(
                "{name}={text:?} is not an RFC 3339 time or a YYYY-MM-DD date"
            ))
        })
}

/// POST /api/reports/{id}/transitions
pub async fn transition(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: Request,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let (body, uploaded): (TransitionBody, Vec<String>) =
        json_with_photos(&state, request, "transition").await?;
    let to = Status::parse(&body.to).ok_or_else(|| {
        AppError::bad_request(format!(
            "to={:?} is not a status (reported, assigned, rectified, verified, closed)",
            body.to
        ))
    })?;
    let reason = body
        .reason
        .as_deref()
        .map(|r| {
            CloseReason::parse(r).ok_or_else(|| {
                AppError::bad_request(format!(
                    "reason={r:?} is not resolved, invalid or duplicate"
                ))
            })
        })
        .transpose()?;
    let request = TransitionRequest {
        to: Some(to),
        actor: body.actor,
        unit: body.unit,
        deadline_at: body
            .deadline
            .as_deref()
            .map(|d| parse_time("deadline", d))
            .transpose()?,
        note: body.note,
        reason,
        duplicate_of: body.duplicate_of,
        photos: body.photos.into_iter().chain(uploaded).collect(),
    };
    let city = &state.city;
    let now = city.now();
    let report = city
        .reports
        .transition(city.store(), id, &request, now)
        .await?;
    let book = city.reports.book();
    Ok(super::geojson(
        report_feature(&report, now, Some(book.history(id))).to_string(),
    ))
}

fn report_query(params: &Params) -> Result<ReportQuery, AppError> {
    let status = params
        .get("status")
        .map(|s| {
            Status::parse(s)
                .ok_or_else(|| AppError::bad_request(format!("status={s:?} is not a status")))
        })
        .transpose()?;
    let overdue = params
        .get("overdue")
        .map(|v| match v {
            "true" | "1" => Ok(true),
            "false" | "0" => Ok(false),
            other => Err(AppError::bad_request(format!(
                "overdue={other:?} must be true or false"
            ))),
        })
        .transpose()?;
    let from = params
        .get("from")
        .map(|t| parse_time("from", t))
        .transpose()?;
    let to = params.get("to").map(|t| parse_time("to", t)).transpose()?;
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        return Err(AppError::bad_request("from is after to"));
    }
    Ok(ReportQuery {
        status,
        category: params.text("category"),
        district: params.text("district"),
        unit: params.text("unit"),
        asset: params.text("asset"),
        bbox: params
            .get("bbox")
            .map(BBox::parse)
            .transpose()
            .map_err(AppError::bad_request)?,
        from,
        to,
        overdue,
        offset: params.count("offset", 0, 0, usize::MAX >> 1)?,
        limit: params.count("limit", super::DEFAULT_LIMIT, 1, super::MAX_LIMIT)?,
    })
}

/// GET /api/reports
pub async fn list_reports(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let params = Params::parse(raw.as_deref());
    let query = report_query(&params)?;
    let now = state.city.now();
    let book = state.city.reports.book();
    let mut matched = 0usize;
    let mut features = Vec::new();
    for report in book.matching(&query, now) {
        if matched >= query.offset && features.len() < query.limit {
            features.push(report_feature(report, now, None));
        }
        matched += 1;
    }
    let mut links = vec![
        json!({"rel": "self", "href": format!("/api/reports?{}", params.with("offset", &query.offset.to_string()))}),
    ];
    let next = query.offset + features.len();
    if next < matched {
        links.push(json!({"rel": "next", "type": "application/geo+json",
            "href": format!("/api/reports?{}", params.with("offset", &next.to_string()))}));
    }
    let body = json!({
        "type": "FeatureCollection",
        "numberMatched": matched,
        "numberReturned": features.len(),
        "links": links,
        "features": features,
    });
    Ok(super::geojson(body.to_string()))
}

/// GET /api/stats
pub async fn stats(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let query = report_query(&Params::parse(raw.as_deref()))?;
    let stats = state.city.reports.book().stats(&query, state.city.now());
    Ok(axum::Json(stats).into_response())
}

/// GET /api/bulletins/weekly?week=2026-W47[&format=csv]
pub async fn weekly_bulletin(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let params = Params::parse(raw.as_deref());
    let now = state.city.now();
    let week = match params.get("week") {
        Some(w) => w.to_string(),
        None => now.with_timezone(&shanghai()).format("%G-W%V").to_string(),
    };
    let starts_at = week_start(&week).ok_or_else(|| {
        AppError::bad_request(format!("week={week:?} is not an ISO week such as 2026-W47"))
    })?;
    let bulletin = state
        .city
        .reports
        .book()
        .weekly_bulletin(&week, starts_at, now);
    let wants_csv = params.get("format") == Some("csv")
        || headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/csv"));
    match params.get("format") {
        None | Some("json") | Some("csv") => {}
        Some(other) => {
            return Err(AppError::bad_request(format!(
                "format={other:?} must be json or csv"
            )));
        }
    }
    if !wants_csv {
        return Ok(axum::Json(bulletin).into_response());
    }
    let mut csv = csv::Writer::from_writer(Vec::new());
    let sections = [("unit", &bulletin.units), ("district", &bulletin.districts)];
    let result = csv
        .write_record([
            "section",
            "rank",
            "name",
            "opened",
            "closed",
            "overdue",
            "closure_rate",
        ])
        .and_then(|()| {
            sections.iter().try_for_each(|(section, lines)| {
                lines.iter().try_for_each(|line| {
                    csv.write_record([
                        section.to_string(),
                        line.rank.to_string(),
                        line.name.clone(),
                        line.opened.to_string(),
                        line.closed.to_string(),
                        line.overdue.to_string(),
                        line.closure_rate
                            .map(|r| format!("{:.1}%", r * 100.0))
                            .unwrap_or_default(),
                    ])
                })
            })
        });
    result.map_err(|e| AppError::internal("writing the bulletin CSV", &e))?;
    let bytes = csv
        .into_inner()
        .map_err(|e| AppError::internal("writing the bulletin CSV", &e))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"bulletin-{week}.csv\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// GET /api/supervision[?unit=]
pub async fn supervision(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let params = Params::parse(raw.as_deref());
    let notices = state.city.reports.book().supervision_notices(
        params.get("unit"),
        state.city.now(),
        state.city.reports.categories(),
    );
    Ok(axum::Json(json!({"notices": notices})).into_response())
}

/// POST /api/reports/import (text/csv with a header row)
pub async fn import_csv(
    State(state): State<AppState>,
    request: Request,
) -> Result<Response, AppError> {
    if media_type(request.headers()) != "text/csv" {
        return Err(unsupported("text/csv"));
    }
    let bytes = read_body(request, CSV_LIMIT).await?;
    let inputs = parse_report_csv(&bytes).map_err(AppError::bad_request)?;
    if inputs.is_empty() {
        return Err(AppError::bad_request("the CSV has no rows"));
    }
    let city = &state.city;
    let layers = city.layers();
    let stored = city
        .reports
        .file_all(city.store(), &layers, &inputs, city.now())
        .await?;
    let ids: Vec<i64> = stored.iter().map(|r| r.id).collect();
    let matched = stored.iter().filter(|r| r.filed.asset.is_some()).count();
    Ok(created(
        "/api/reports".into(),
        json!({"imported": ids.len(), "matched": matched, "ids": ids}),
    ))
}

/// Rows of a report CSV: lon, lat, category, reporter required; crs, description, observed_at
/// optional. Line numbers count the header as line 1.
fn parse_report_csv(bytes: &[u8]) -> Result<Vec<(usize, ReportInput)>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let headers = reader
        .headers()
        .map_err(|e| format!("line 1: unreadable header: {e}"))?
        .clone();
    let column = |name: &str| headers.iter().position(|h| h == name);
    let required = ["lon", "lat", "category", "reporter"];
    for name in required {
        if column(name).is_none() {
            return Err(format!(
                "line 1: the header has no `{name}` column (needs lon, lat, category, reporter; may have crs, description, observed_at)"
            ));
        }
    }
    let mut rows = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let line = n + 2;
        let record = record.map_err(|e| format!("line {line}: {e}; nothing was imported"))?;
        let get = |name: &str| {
            column(name)
                .and_then(|i| record.get(i))
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        let number = |name: &str| -> Result<f64, String> {
            get(name)
                .and_then(|v| v.parse::<f64>().ok())
                .ok_or_else(|| {
                    format!("line {line}: `{name}` is not a number; nothing was imported")
                })
        };
        rows.push((
            line,
            ReportInput {
                lon: number("lon")?,
                lat: number("lat")?,
                crs: get("crs"),
                category: get("category").unwrap_or_default(),
                description: get("description"),
                reporter: get("reporter").unwrap_or_default(),
                observed_at: get("observed_at"),
                photos: Vec::new(),
            },
        ));
    }
    Ok(rows)
}

/// POST /api/reports/rematch
pub async fn rematch(State(state): State<AppState>) -> Result<Response, AppError> {
    let city = &state.city;
    let layers = city.layers();
    let summary = city
        .reports
        .rematch(city.store(), &layers, city.now())
        .await?;
    Ok(axum::Json(summary).into_response())
}

/// POST /api/photos (an image body, or multipart with `photo` files)
pub async fn upload_photo(
    State(state): State<AppState>,
    request: Request,
) -> Result<Response, AppError> {
    let media = media_type(request.headers());
    let photos = state.city.reports.photos();
    let stored = if media.starts_with("image/") {
        let bytes = read_body(request, photos.max_bytes()).await?;
        vec![
            photos
                .save(&bytes, Some(&media))
                .map_err(ReportError::from)?,
        ]
    } else if media == "multipart/form-data" {
        let mut multipart = Multipart::from_request(request, &state)
            .await
            .map_err(|e| AppError::bad_request(e.body_text()))?;
        let mut stored = Vec::new();
        while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
            let declared = field.content_type().map(str::to_string);
            let bytes = field.bytes().await.map_err(multipart_error)?;
            stored.push(
                photos
                    .save(&bytes, declared.as_deref())
                    .map_err(ReportError::from)?,
            );
        }
        stored
    } else {
        return Err(unsupported(
            "image/jpeg, image/png, image/webp or multipart/form-data",
        ));
    };
    if stored.is_empty() {
        return Err(AppError::bad_request("no photo in the request"));
    }
    let items: Vec<Value> = stored
        .iter()
        .map(|p| json!({"hash": p.hash, "content_type": p.content_type, "bytes": p.bytes, "url": format!("/api/photos/{}", p.hash)}))
        .collect();
    let location = format!("/api/photos/{}", stored[0].hash);
    Ok(created(location, json!({"photos": items})))
}

/// GET /api/photos/{hash}
pub async fn photo(
    State(state): State<AppState>,
    Path(hash): Path<String>,
) -> Result<Response, AppError> {
    let (bytes, content_type) = state
        .city
        .reports
        .photos()
        .read(&hash)
        .ok_or_else(|| AppError::not_found(format!("no photo {hash:?}")))?;
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        Body::from(bytes),
    )
        .into_response())
}
