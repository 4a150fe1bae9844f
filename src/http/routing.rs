//! HTTP for routing: `GET /api/route`, `POST /api/patrols` and `GET /api/samples`. WGS84 lon/lat
//! on the wire (input may say `crs=gcj02|bd09`; output is always WGS84), lengths in metres,
//! durations in seconds.

use axum::extract::{RawQuery, Request, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::error::AppError;
use super::params::Params;
use super::{AppState, geojson};
use crate::crs::InputCrs;
use crate::routing::{
    self, MAX_SAMPLE, MAX_STOPS, Mode, PatrolPlan, Route, RoutingError, SampleQuery, Snapped,
    StopRef,
};

/// Most via points of one route.
pub const MAX_VIA: usize = 25;
/// Stops drawn by `/api/samples` when `n` is not given.
const DEFAULT_SAMPLE: usize = 10;
/// Largest body of a patrol request.
const PATROL_BODY_LIMIT: usize = 1 << 20;
/// Seeds are kept below 2⁵³ so that they survive a round trip through JavaScript numbers.
const MAX_SEED: u64 = (1 << 53) - 1;

impl From<RoutingError> for AppError {
    fn from(error: RoutingError) -> Self {
        let status = match &error {
            RoutingError::UnknownKind(_)
            | RoutingError::UnknownDistrict(_)
            | RoutingError::Invalid(_) => StatusCode::BAD_REQUEST,
            RoutingError::NoRoads
            | RoutingError::TooFarFromRoad { .. }
            | RoutingError::Unreachable { .. }
            | RoutingError::UnknownAsset(_)
            | RoutingError::TooManyStops { .. }
            | RoutingError::NoStops => StatusCode::UNPROCESSABLE_ENTITY,
        };
        AppError::new(status, error.to_string())
    }
}

/// Coordinates on the wire: 7 decimals (about 1 cm).
fn position(p: [f64; 2]) -> Value {
    let round = |x: f64| (x * 1e7).round() / 1e7;
    json!([round(p[0]), round(p[1])])
}

fn line(coordinates: &[[f64; 2]]) -> Value {
    json!({
        "type": "LineString",
        "coordinates": coordinates.iter().map(|&c| position(c)).collect::<Vec<_>>(),
    })
}

fn metres(x: f64) -> Value {
    json!((x * 100.0).round() / 100.0)
}

fn seconds(x: f64) -> Value {
    json!((x * 10.0).round() / 10.0)
}

fn snapped(s: &Snapped) -> Value {
    json!({
        "label": s.label,
        "requested": position(s.input),
        "snapped": position(s.point),
        "snap_distance_m": metres(s.distance_m),
        "road": s.road_name,
        "road_id": s.road_id,
    })
}

fn input_crs(text: Option<&str>) -> Result<InputCrs, AppError> {
    match text {
        None => Ok(InputCrs::Wgs84),
        Some(t) => InputCrs::parse(t).ok_or_else(|| {
            AppError::bad_request(format!("crs {t:?} is not one of wgs84, gcj02, bd09"))
        }),
    }
}

fn mode(text: Option<&str>) -> Result<Mode, AppError> {
    match text {
        None => Ok(Mode::Walk),
        Some(t) => Mode::parse(t)
            .ok_or_else(|| AppError::bad_request(format!("mode {t:?} is not walk or drive"))),
    }
}

/// A checked lon/lat pair, converted to WGS84.
fn lon_lat(what: &str, lon: f64, lat: f64, crs: InputCrs) -> Result<[f64; 2], AppError> {
    if !(lon.is_finite() && lat.is_finite()) {
        return Err(AppError::bad_request(format!(
            "{what} must be finite numbers lon,lat"
        )));
    }
    if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
        return Err(AppError::bad_request(format!(
            "{what} ({lon}, {lat}) is outside lon -180..180 / lat -90..90"
        )));
    }
    let (lon, lat) = crs.to_wgs84(lon, lat);
    Ok([lon, lat])
}

/// `lon,lat` text.
fn parse_position(what: &str, text: &str, crs: InputCrs) -> Result<[f64; 2], AppError> {
    let numbers: Vec<f64> = text
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| AppError::bad_request(format!("{what}={text:?} must be lon,lat")))?;
    let [lon, lat] = numbers[..] else {
        return Err(AppError::bad_request(format!(
            "{what}={text:?} must be lon,lat"
        )));
    };
    lon_lat(what, lon, lat, crs)
}

/// `GET /api/route?from=lon,lat&to=lon,lat[&via=lon,lat;lon,lat][&mode=walk|drive][&crs=]`:
/// the fastest route as a GeoJSON LineString Feature.
pub async fn route(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let params = Params::parse(raw.as_deref());
    let crs = input_crs(params.get("crs"))?;
    let mode = mode(params.get("mode"))?;
    let required = |name: &str| {
        params.get(name).ok_or_else(|| {
            AppError::bad_request(format!("parameter {name} is required: {name}=lon,lat"))
        })
    };
    let from = parse_position("from", required("from")?, crs)?;
    let to = parse_position("to", required("to")?, crs)?;
    let mut points = vec![from];
    if let Some(via) = params.get("via") {
        let vias: Vec<&str> = via.split(';').filter(|v| !v.trim().is_empty()).collect();
        if vias.len() > MAX_VIA {
            return Err(AppError::bad_request(format!(
                "at most {MAX_VIA} via points; {} were given",
                vias.len()
            )));
        }
        for (i, v) in vias.iter().enumerate() {
            points.push(parse_position(&format!("via {}", i + 1), v, crs)?);
        }
    }
    points.push(to);
    let route = state.city.road_graph().route(mode, &points)?;
    Ok(geojson(route_feature(&route).to_string()))
}

fn route_feature(route: &Route) -> Value {
    let stops = &route.stops;
    let legs: Vec<Value> = route
        .legs
        .iter()
        .map(|leg| {
            json!({
                "length_m": metres(leg.length_m),
                "duration_s": seconds(leg.duration_s),
                "roads": leg.roads,
            })
        })
        .collect();
    json!({
        "type": "Feature",
        "geometry": line(&route.coordinates),
        "properties": {
            "mode": route.mode.as_str(),
            "length_m": metres(route.length_m),
            "duration_s": seconds(route.duration_s),
            "roads": route.roads,
            "start": stops.first().map(snapped),
            "end": stops.last().map(snapped),
            "via": stops
                .get(1..stops.len().saturating_sub(1))
                .unwrap_or_default()
                .iter()
                .map(snapped)
                .collect::<Vec<_>>(),
            "legs": legs,
        },
    })
}

/// A patrol request, validated.
struct PatrolRequest {
    start: [f64; 2],
    stops: Vec<StopRef>,
    return_to_start: bool,
    mode: Mode,
}

const PATROL_FIELDS: [&str; 5] = ["start", "stops", "return_to_start", "mode", "crs"];

fn json_position(what: &str, value: &Value, crs: InputCrs) -> Result<[f64; 2], AppError> {
    let bad = || AppError::bad_request(format!("{what} must be [lon, lat]"));
    let items = value.as_array().ok_or_else(bad)?;
    let [lon, lat] = items.as_slice() else {
        return Err(bad());
    };
    let (Some(lon), Some(lat)) = (lon.as_f64(), lat.as_f64()) else {
        return Err(bad());
    };
    lon_lat(what, lon, lat, crs)
}

fn parse_patrol(bytes: &[u8]) -> Result<PatrolRequest, AppError> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| AppError::bad_request(format!("malformed JSON: {e}")))?;
    let Value::Object(body) = value else {
        return Err(AppError::bad_request(
            "the body must be a JSON object {\"start\": [lon, lat], \"stops\": [...], \"return_to_start\": bool, \"mode\": \"walk\"|\"drive\"}",
        ));
    };
    if let Some(unknown) = body.keys().find(|k| !PATROL_FIELDS.contains(&k.as_str())) {
        return Err(AppError::bad_request(format!(
            "unknown field {unknown:?}; the fields are {}",
            PATROL_FIELDS.join(", ")
        )));
    }
    let text = |name: &str| -> Result<Option<&str>, AppError> {
        match body.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(AppError::bad_request(format!("{name} must be a string"))),
        }
    };
    let crs = input_crs(text("crs")?)?;
    let mode = mode(text("mode")?)?;
    let start = body
        .get("start")
        .ok_or_else(|| AppError::bad_request("start is required: [lon, lat]"))?;
    let start = json_position("start", start, crs)?;
    let stops = match body.get("stops") {
        Some(Value::Array(items)) => items,
        None => {
            return Err(AppError::bad_request(
                "stops is required: a list of asset ids or [lon, lat]",
            ));
        }
        Some(_) => {
            return Err(AppError::bad_request(
                "stops must be a list of asset ids or [lon, lat]",
            ));
        }
    };
    if stops.len() > MAX_STOPS {
        return Err(RoutingError::TooManyStops {
            given: stops.len(),
            max: MAX_STOPS,
        }
        .into());
    }
    let stops = stops
        .iter()
        .enumerate()
        .map(|(i, stop)| match stop {
            Value::String(id) if !id.trim().is_empty() => Ok(StopRef::Asset(id.trim().into())),
            Value::Array(_) => json_position(&format!("stops[{i}]"), stop, crs).map(StopRef::Point),
            _ => Err(AppError::bad_request(format!(
                "stops[{i}] must be an asset id or [lon, lat]"
            ))),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let return_to_start = match body.get("return_to_start") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(AppError::bad_request(
                "return_to_start must be true or false",
            ));
        }
    };
    Ok(PatrolRequest {
        start,
        stops,
        return_to_start,
        mode,
    })
}

/// `POST /api/patrols` with `{start, stops, return_to_start, mode}`: the visiting order and the
/// route of each leg, as a GeoJSON FeatureCollection.
pub async fn patrols(
    State(state): State<AppState>,
    request: Request,
) -> Result<Response, AppError> {
    let media = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    if media.as_deref().is_some_and(|m| m != "application/json") {
        return Err(AppError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/json",
        ));
    }
    let bytes = axum::body::to_bytes(request.into_body(), PATROL_BODY_LIMIT)
        .await
        .map_err(|_| {
            AppError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("request body is larger than {PATROL_BODY_LIMIT} bytes"),
            )
        })?;
    let request = parse_patrol(&bytes)?;
    let layers = state.city.layers();
    let graph = state.city.road_graph();
    let plan = tokio::task::spawn_blocking(move || {
        let stops = routing::resolve_stops(&layers, &request.stops)?;
        graph.plan_patrol(request.mode, request.start, &stops, request.return_to_start)
    })
    .await
    .map_err(|e| AppError::internal("planning a patrol", &e))??;
    Ok(geojson(patrol_collection(&plan).to_string()))
}

fn patrol_collection(plan: &PatrolPlan) -> Value {
    let mut features = Vec::with_capacity(plan.visits.len() * 2 + 1);
    features.push(json!({
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": position(plan.start.point)},
        "properties": {"role": "start", "start": snapped(&plan.start)},
    }));
    for (n, visit) in plan.visits.iter().enumerate() {
        features.push(json!({
            "type": "Feature",
            "id": visit.stop.asset_id,
            "geometry": {"type": "Point", "coordinates": position(visit.snapped.point)},
            "properties": {
                "role": "stop",
                "visit": n + 1,
                "index": visit.index,
                "id": visit.stop.asset_id,
                "name": visit.stop.name,
                "stop": snapped(&visit.snapped),
            },
        }));
    }
    let label = |i: usize| -> &str {
        if i == 0 || i > plan.visits.len() {
            "start"
        } else {
            &plan.visits[i - 1].stop.label
        }
    };
    let legs: Vec<Value> = plan
        .legs
        .iter()
        .enumerate()
        .map(|(i, leg)| {
            json!({
                "leg": i + 1,
                "from": label(i),
                "to": label(i + 1),
                "length_m": metres(leg.length_m),
                "duration_s": seconds(leg.duration_s),
                "roads": leg.roads,
            })
        })
        .collect();
    for (leg, summary) in plan.legs.iter().zip(&legs) {
        let mut properties = summary.as_object().cloned().unwrap_or_default();
        properties.insert("role".into(), json!("leg"));
        features.push(json!({
            "type": "Feature",
            "geometry": line(&leg.coordinates),
            "properties": Value::Object(properties),
        }));
    }
    json!({
        "type": "FeatureCollection",
        "mode": plan.mode.as_str(),
        "method": plan.method.as_str(),
        "return_to_start": plan.return_to_start,
        "order": plan.visits.iter().map(|v| v.index).collect::<Vec<_>>(),
        "stops": plan.visits.iter().map(|v| v.stop.label.clone()).collect::<Vec<_>>(),
        "length_m": metres(plan.length_m),
        "duration_s": seconds(plan.duration_s),
        "legs": legs,
        "features": features,
    })
}

/// A seed for a sample that named none: different on every call, echoed in the response.
fn fresh_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    hasher.finish() & MAX_SEED
}

/// `GET /api/samples?kinds=a,b&district=&n=&seed=`: `n` random assets as a FeatureCollection;
/// the same seed gives the same sample; `stops` lists their ids for `POST /api/patrols`.
pub async fn samples(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let params = Params::parse(raw.as_deref());
    let kinds: Vec<String> = params
        .get("kinds")
        .or_else(|| params.get("kind"))
        .map(|v| {
            v.split(',')
                .map(|k| k.trim().to_string())
                .filter(|k| !k.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let n = params.count("n", DEFAULT_SAMPLE, 1, MAX_SAMPLE)?;
    let seed = match params.get("seed") {
        None => fresh_seed(),
        Some(text) => match text.trim().parse::<u64>() {
            Ok(seed) if seed <= MAX_SEED => seed,
            _ => {
                return Err(AppError::bad_request(format!(
                    "parameter seed={text:?} must be a whole number from 0 to {MAX_SEED}"
                )));
            }
        },
    };
    let query = SampleQuery {
        kinds,
        district: params.text("district"),
        n,
        seed,
    };
    let layers = state.city.layers();
    let drawn = routing::sample(&layers, &query)?;
    let ids: Vec<&str> = drawn
        .assets
        .iter()
        .map(|&i| layers.assets()[i].id.as_str())
        .collect();
    let mut head = Map::new();
    head.insert("type".into(), json!("FeatureCollection"));
    head.insert("seed".into(), json!(seed));
    head.insert("numberMatched".into(), json!(drawn.number_matched));
    head.insert("numberReturned".into(), json!(drawn.assets.len()));
    head.insert("stops".into(), json!(ids));
    let head = Value::Object(head).to_string();
    let mut body = String::with_capacity(head.len() + 256 * drawn.assets.len());
    body.push_str(&head[..head.len() - 1]);
    body.push_str(r#","features":["#);
    layers.write_features(&drawn.assets, &mut body);
    body.push_str("]}");
    Ok(geojson(body))
}
