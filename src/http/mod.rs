//! The HTTP adapter (axum): extract → call the domain → respond. Only this module knows status
//! codes. GeoJSON out is RFC 7946 (WGS84 lon/lat); distances are metres.

mod coverage;
pub mod error;
mod params;
mod reports;
mod routing;

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use tower_http::services::ServeDir;

use crate::layers::{BBox, LayerQuery};
use crate::model::ModelError;
use crate::service::City;
use error::AppError;
use params::Params;

/// Largest `k` for `/api/nearest`.
pub const MAX_K: usize = 1000;
/// Largest radius for `/api/within`, metres.
pub const MAX_RADIUS_M: f64 = 50_000.0;
/// Largest page of a layer listing.
pub const MAX_LIMIT: usize = 100_000;
/// Default page of a layer listing.
pub const DEFAULT_LIMIT: usize = 1000;

/// Cheap handles every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub city: Arc<City>,
}

/// The whole API; `web_dir`, when given, is served at `/`.
pub fn router(state: AppState, web_dir: Option<PathBuf>) -> Router {
    let upload_limit = 4 * state.city.reports.photos().max_bytes() + (16 << 20);
    let api = Router::new()
        .route("/health", get(health))
        .route("/api/layers", get(list_layers))
        .route("/api/layers/{kind}", get(layer_features))
        .route("/api/assets/{id}", get(asset_by_id))
        .route("/api/nearest", get(nearest))
        .route("/api/within", get(within))
        .route("/glyphs/{fontstack}/{range}", get(no_glyphs))
        .route("/api/categories", get(reports::categories))
        .route("/api/reports", get(reports::list_reports))
        .route("/api/reports/{id}", get(reports::report_by_id))
        .route("/api/reports/rematch", post(reports::rematch))
        .route("/api/stats", get(reports::stats))
        .route("/api/bulletins/weekly", get(reports::weekly_bulletin))
        .route("/api/supervision", get(reports::supervision))
        .route("/api/photos/{hash}", get(reports::photo))
        .route("/api/route", get(routing::route))
        .route("/api/patrols", post(routing::patrols))
        .route("/api/samples", get(routing::samples))
        .route(
            "/api/duty-posts",
            get(coverage::list).post(coverage::create),
        )
        .route("/api/duty-posts/import", post(coverage::import))
        .route(
            "/api/duty-posts/{id}",
            get(coverage::one)
                .patch(coverage::change)
                .delete(coverage::end),
        )
        .route("/api/coverage", get(coverage::coverage))
        .route("/api/coverage/day", get(coverage::day))
        .route("/api/coverage/suggestions", get(coverage::suggestions))
        .layer(DefaultBodyLimit::max(1 << 20))
        .merge(
            // Bodies that may carry photos or a CSV file get a larger limit.
            Router::new()
                .route("/api/reports", post(reports::file_report))
                .route("/api/reports/{id}/transitions", post(reports::transition))
                .route("/api/reports/import", post(reports::import_csv))
                .route("/api/photos", post(reports::upload_photo))
                .layer(DefaultBodyLimit::max(upload_limit)),
        )
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state);
    match web_dir {
        Some(dir) => {
            api.fallback_service(ServeDir::new(dir).fallback(get(not_found).with_state(())))
        }
        None => api.fallback(not_found),
    }
}

fn geojson(body: String) -> Response {
    ([(header::CONTENT_TYPE, "application/geo+json")], body).into_response()
}

async fn not_found() -> AppError {
    AppError::not_found("no such resource")
}

async fn method_not_allowed() -> AppError {
    AppError {
        status: StatusCode::METHOD_NOT_ALLOWED,
        detail: "method not allowed on this resource".into(),
    }
}

/// Glyph ranges for the map's labels. civmap ships no SDF fonts: Chinese labels are drawn by the
/// browser from a local CJK font (`localIdeographFontFamily`), so every other range is an empty,
/// valid glyph set rather than a failed request.
async fn no_glyphs() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "application/x-protobuf"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        Vec::<u8>::new(),
    )
}

async fn health(State(state): State<AppState>) -> impl IntoResponse {
    let layers = state.city.layers();
    axum::Json(json!({"status": "ok", "assets": layers.assets().len()}))
}

async fn list_layers(State(state): State<AppState>) -> impl IntoResponse {
    axum::Json(json!({"layers": state.city.layers().summaries()}))
}

async fn layer_features(
    State(state): State<AppState>,
    Path(kind): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let params = Params::parse(raw.as_deref());
    let query = LayerQuery {
        bbox: params
            .get("bbox")
            .map(BBox::parse)
            .transpose()
            .map_err(AppError::bad_request)?,
        district: params.text("district"),
        unit: params.text("unit"),
        name_contains: params.text("q"),
        offset: params.count("offset", 0, 0, usize::MAX >> 1)?,
        limit: params.count("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)?,
    };
    let layers = state.city.layers();
    let page = layers.list(&kind, &query).map_err(|e| match e {
        ModelError::UnknownKind(k) => AppError::not_found(format!("no layer named {k:?}")),
        other => other.into(),
    })?;
    let base = match headers.get(header::HOST).and_then(|h| h.to_str().ok()) {
        Some(host) => format!("http://{host}/api/layers/{kind}"),
        None => format!("/api/layers/{kind}"),
    };
    let mut links = vec![json!({"rel": "self", "type": "application/geo+json",
        "href": format!("{base}?{}", params.with("offset", &query.offset.to_string()))})];
    let next_offset = query.offset + page.items.len();
    if next_offset < page.number_matched {
        links.push(json!({"rel": "next", "type": "application/geo+json",
            "href": format!("{base}?{}", params.with("offset", &next_offset.to_string()))}));
    }
    let mut body = String::with_capacity(256);
    body.push_str(&format!(
        r#"{{"type":"FeatureCollection","numberMatched":{},"numberReturned":{},"links":{},"features":["#,
        page.number_matched,
        page.items.len(),
        serde_json::Value::Array(links)
    ));
    layers.write_features(&page.items, &mut body);
    body.push_str("]}");
    Ok(geojson(body))
}

async fn asset_by_id(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let layers = state.city.layers();
    let asset = layers
        .asset(&id)
        .ok_or_else(|| AppError::not_found(format!("no asset with id {id:?}")))?;
    Ok(geojson(layers.feature(asset).to_string()))
}

async fn nearest(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let params = Params::parse(raw.as_deref());
    let (lon, lat) = params.lon_lat()?;
    let k = params.count("k", 1, 1, MAX_K)?;
    let layers = state.city.layers();
    let hits = layers.nearest(lon, lat, &params.kinds(), k)?;
    Ok(geojson(layers.hits_collection(&hits).to_string()))
}

async fn within(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let params = Params::parse(raw.as_deref());
    let (lon, lat) = params.lon_lat()?;
    let radius_m = params.number_in("radius_m", 0.0..=MAX_RADIUS_M)?;
    let limit = params.count("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)?;
    let layers = state.city.layers();
    let mut hits = layers.within(lon, lat, radius_m, &params.kinds())?;
    hits.truncate(limit);
    Ok(geojson(layers.hits_collection(&hits).to_string()))
}
