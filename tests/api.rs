//! The HTTP API on the Langfang demo city: every endpoint, and every kind of bad input.

mod common;

use common::{assert_problem, demo_city, get, send};
use serde_json::Value;

fn features(body: &Value) -> &Vec<Value> {
    body["features"].as_array().expect("features array")
}

fn centre_of_ring(feature: &Value) -> (f64, f64) {
    let ring = feature["geometry"]["coordinates"][0].as_array().unwrap();
    let n = (ring.len() - 1) as f64;
    let sum = ring[..ring.len() - 1].iter().fold((0.0, 0.0), |acc, c| {
        (
            acc.0 + c[0].as_f64().unwrap(),
            acc.1 + c[1].as_f64().unwrap(),
        )
    });
    (sum.0 / n, sum.1 / n)
}

#[tokio::test]
async fn health_reports_the_loaded_assets() {
    let city = demo_city().await;
    let reply = get(&city.router, "/health").await;
    assert_eq!(reply.status, 200);
    assert!(reply.body["assets"].as_u64().unwrap() > 500);
}

#[tokio::test]
async fn layers_lists_every_demo_kind_with_names_count_and_bbox() {
    let city = demo_city().await;
    let reply = get(&city.router, "/api/layers").await;
    assert_eq!(reply.status, 200);
    let layers = reply.body["layers"].as_array().unwrap();
    let find = |kind: &str| layers.iter().find(|l| l["kind"] == kind).cloned().unwrap();
    for (kind, minimum) in [
        ("road", 40),
        ("intersection", 19),
        ("back_alley", 150),
        ("market", 15),
        ("parking_zone", 200),
        ("district", 3),
        ("bus_stop", 1),
    ] {
        let layer = find(kind);
        assert!(
            layer["count"].as_u64().unwrap() >= minimum,
            "{kind}: {layer}"
        );
        let bbox = layer["bbox"].as_array().unwrap();
        assert!(bbox[0].as_f64().unwrap() > 116.4 && bbox[2].as_f64().unwrap() < 117.0);
    }
    assert_eq!(find("road")["name_zh"], "主次干道");
    assert_eq!(find("market")["geometry_type"], "Polygon");
}

#[tokio::test]
async fn a_layer_is_walked_page_by_page_through_next_links() {
    let city = demo_city().await;
    let mut uri = "/api/layers/back_alley?limit=40".to_string();
    let mut ids = std::collections::HashSet::new();
    let mut matched = None;
    loop {
        let reply = get(&city.router, &uri).await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.content_type, "application/geo+json");
        assert_eq!(reply.body["type"], "FeatureCollection");
        matched = matched.or(reply.body["numberMatched"].as_u64());
        for f in features(&reply.body) {
            assert_eq!(f["properties"]["kind"], "back_alley");
            assert!(
                ids.insert(f["id"].as_str().unwrap().to_string()),
                "repeated {}",
                f["id"]
            );
        }
        let next = reply.body["links"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["rel"] == "next")
            .map(|l| l["href"].as_str().unwrap().to_string());
        match next {
            Some(href) => uri = href.trim_start_matches("http://civmap.test").to_string(),
            None => break,
        }
    }
    assert_eq!(Some(ids.len() as u64), matched);
    assert!(ids.len() >= 150);
}

#[tokio::test]
async fn bbox_district_unit_and_name_filters_narrow_a_layer() {
    let city = demo_city().await;
    let bbox = "116.69,39.505,116.71,39.52";
    let reply = get(
        &city.router,
        &format!("/api/layers/intersection?bbox={bbox}"),
    )
    .await;
    let inside = features(&reply.body);
    assert!(!inside.is_empty());
    for f in inside {
        let c = &f["geometry"]["coordinates"];
        let (lon, lat) = (c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
        assert!((116.69..=116.71).contains(&lon) && (39.505..=39.52).contains(&lat));
    }
    let all = get(&city.router, "/api/layers/intersection").await;
    assert!(features(&all.body).len() > inside.len());

    let reply = get(&city.router, "/api/layers/road?q=光明").await;
    let names: Vec<&str> = features(&reply.body)
        .iter()
        .map(|f| f["properties"]["name"].as_str().unwrap())
        .collect();
    assert!(
        !names.is_empty() && names.iter().all(|n| n.contains("光明")),
        "{names:?}"
    );

    let reply = get(&city.router, "/api/layers/market?district=安次区").await;
    assert!(
        features(&reply.body)
            .iter()
            .all(|f| f["properties"]["district"] == "安次区")
    );
    let some_unit = features(&all.body)[0]["properties"]["unit"]
        .as_str()
        .unwrap()
        .to_string();
    let reply = get(
        &city.router,
        &format!("/api/layers/intersection?unit={some_unit}"),
    )
    .await;
    assert!(!features(&reply.body).is_empty());
    assert!(
        features(&reply.body)
            .iter()
            .all(|f| f["properties"]["unit"] == some_unit.as_str())
    );
}

#[tokio::test]
async fn an_asset_is_fetched_by_its_stable_id() {
    let city = demo_city().await;
    let reply = get(&city.router, "/api/layers/market?q=椿树市场").await;
    let market = &features(&reply.body)[0];
    let id = market["id"].as_str().unwrap();
    let reply = get(&city.router, &format!("/api/assets/{id}")).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body["type"], "Feature");
    assert_eq!(reply.body["properties"]["name"], "椿树市场");
    assert!(reply.body["properties"]["unit"].is_string());
}

#[tokio::test]
async fn nearest_answers_k_features_nearest_first_with_distances() {
    let city = demo_city().await;
    let reply = get(
        &city.router,
        "/api/nearest?lon=116.6790&lat=39.5119&kind=intersection&k=5",
    )
    .await;
    assert_eq!(reply.status, 200);
    let found = features(&reply.body);
    assert_eq!(found.len(), 5);
    assert_eq!(found[0]["properties"]["name"], "永兴路与光明道交口");
    let distances: Vec<f64> = found
        .iter()
        .map(|f| f["properties"]["distance_m"].as_f64().unwrap())
        .collect();
    assert!(distances.windows(2).all(|w| w[0] <= w[1]), "{distances:?}");
    assert!(distances[0] < 30.0);

    let reply = get(
        &city.router,
        "/api/nearest?lon=116.70&lat=39.52&kind=road,market&k=10",
    )
    .await;
    assert!(
        features(&reply.body)
            .iter()
            .all(|f| f["properties"]["kind"] == "road" || f["properties"]["kind"] == "market")
    );
}

#[tokio::test]
async fn a_point_inside_a_market_is_zero_metres_from_it() {
    let city = demo_city().await;
    let reply = get(&city.router, "/api/layers/market?q=椿树市场").await;
    let (lon, lat) = centre_of_ring(&features(&reply.body)[0]);
    let reply = get(
        &city.router,
        &format!("/api/nearest?lon={lon}&lat={lat}&kind=market"),
    )
    .await;
    let hit = &features(&reply.body)[0];
    assert_eq!(hit["properties"]["name"], "椿树市场");
    assert_eq!(hit["properties"]["distance_m"].as_f64(), Some(0.0));
}

#[tokio::test]
async fn within_answers_everything_in_reach_and_nothing_beyond() {
    let city = demo_city().await;
    let base = "lon=116.7018&lat=39.5211";
    let reply = get(&city.router, &format!("/api/within?{base}&radius_m=400")).await;
    assert_eq!(reply.status, 200);
    let found = features(&reply.body);
    assert!(!found.is_empty());
    let distances: Vec<f64> = found
        .iter()
        .map(|f| f["properties"]["distance_m"].as_f64().unwrap())
        .collect();
    assert!(distances.iter().all(|&d| d <= 400.0));
    assert!(distances.windows(2).all(|w| w[0] <= w[1]));
    // everything nearest reports within 400 m is in the within answer too
    let nearest = get(&city.router, &format!("/api/nearest?{base}&k=1000")).await;
    let in_reach = features(&nearest.body)
        .iter()
        .filter(|f| f["properties"]["distance_m"].as_f64().unwrap() <= 400.0)
        .count();
    assert_eq!(in_reach, found.len());
    let parking = get(
        &city.router,
        &format!("/api/within?{base}&radius_m=400&kind=parking_zone"),
    )
    .await;
    assert!(
        features(&parking.body)
            .iter()
            .all(|f| f["properties"]["kind"] == "parking_zone")
    );
}

#[tokio::test]
async fn bad_parameters_are_400_problems_that_name_what_is_wrong() {
    let city = demo_city().await;
    let cases = [
        ("/api/layers/road?bbox=116.8,39.5,116.6,39.6", "reversed"),
        ("/api/layers/road?bbox=116.6,39.5,196.7,39.6", "outside"),
        ("/api/layers/road?bbox=116.6,39.5,116.7", "four numbers"),
        ("/api/layers/road?limit=0", "limit"),
        ("/api/layers/road?limit=abc", "limit"),
        ("/api/nearest?lon=NaN&lat=39.5", "lon"),
        ("/api/nearest?lon=116.7&lat=91", "lat"),
        ("/api/nearest?lon=116.7", "lat"),
        ("/api/nearest?lon=116.7&lat=39.5&k=1001", "k"),
        ("/api/nearest?lon=116.7&lat=39.5&k=-1", "k"),
        ("/api/nearest?lon=116.7&lat=39.5&kind=volcano", "volcano"),
        ("/api/within?lon=116.7&lat=39.5&radius_m=-5", "radius_m"),
        ("/api/within?lon=116.7&lat=39.5&radius_m=1e9", "radius_m"),
        ("/api/within?lon=116.7&lat=39.5", "radius_m"),
        ("/api/within?lon=inf&lat=39.5&radius_m=10", "lon"),
    ];
    for (uri, needle) in cases {
        let reply = get(&city.router, uri).await;
        assert_problem(&reply, 400, needle);
    }
}

#[tokio::test]
async fn unknown_kinds_ids_routes_and_methods_are_problems_too() {
    let city = demo_city().await;
    assert_problem(
        &get(&city.router, "/api/layers/volcano").await,
        404,
        "volcano",
    );
    assert_problem(
        &get(&city.router, "/api/assets/no-such-asset").await,
        404,
        "no-such-asset",
    );
    assert_problem(
        &get(&city.router, "/api/nothing-here").await,
        404,
        "no such",
    );
    assert_problem(
        &send(&city.router, "DELETE", "/api/layers").await,
        405,
        "method",
    );
}
