//! Inspection reports through the HTTP API on the demo city: filing and matching, coordinates
//! from Chinese SDKs, permitted zones, duplicates, the lifecycle with its audit trail, overdue
//! problems, bulletins, photos, CSV import, re-matching, and every kind of bad input.

mod common;

use common::{
    PNG_1X1, TestCity, assert_problem, demo_city, demo_city_with, get, multipart, post_json,
    send_body,
};
use serde_json::{Value, json};

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

async fn first_feature(city: &TestCity, uri: &str) -> Value {
    get(&city.router, uri).await.body["features"][0].clone()
}

/// The centre of 椿树市场 and the market's feature.
async fn chunshu(city: &TestCity) -> ((f64, f64), Value) {
    let market = first_feature(city, "/api/layers/market?q=椿树市场").await;
    (centre_of_ring(&market), market)
}

fn report(category: &str, (lon, lat): (f64, f64)) -> Value {
    json!({"lon": lon, "lat": lat, "category": category, "reporter": "暗访组 王", "description": "测试"})
}

async fn file(city: &TestCity, body: Value) -> Value {
    let reply = post_json(&city.router, "/api/reports", &body).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.body
}

async fn change(city: &TestCity, id: i64, body: Value) -> common::Reply {
    post_json(
        &city.router,
        &format!("/api/reports/{id}/transitions"),
        &body,
    )
    .await
}

async fn report_count(city: &TestCity) -> u64 {
    get(&city.router, "/api/reports?limit=1").await.body["numberMatched"]
        .as_u64()
        .unwrap()
}

#[tokio::test]
async fn the_categories_are_listed_with_their_eligible_kinds() {
    let city = demo_city().await;
    let reply = get(&city.router, "/api/categories").await;
    let categories = reply.body["categories"].as_array().unwrap();
    assert_eq!(categories.len(), 12);
    let parking = categories
        .iter()
        .find(|c| c["code"] == "illegal_parking")
        .unwrap();
    assert_eq!(parking["name_zh"], "违章停车");
    assert!(
        parking["eligible_kinds"]
            .as_array()
            .unwrap()
            .contains(&json!("parking_zone"))
    );
}

#[tokio::test]
async fn a_report_inside_a_market_matches_the_market_and_names_its_unit() {
    let city = demo_city().await;
    let (centre, market) = chunshu(&city).await;
    let receipt = file(&city, report("street_occupation", centre)).await;
    assert_eq!(receipt["asset"]["id"], market["id"]);
    assert_eq!(receipt["asset"]["kind"], "market");
    assert_eq!(receipt["asset"]["distance_m"], 0.0);
    assert_eq!(receipt["unit"], market["properties"]["unit"]);
    assert!(receipt["district"].is_string());
    // a stall inside a market is not street occupation: flagged
    assert_eq!(receipt["permitted_zone"]["id"], market["id"]);
    let stored = get(&city.router, &format!("/api/reports/{}", receipt["id"])).await;
    assert_eq!(stored.body["properties"]["status"], "reported");
}

#[tokio::test]
async fn a_report_near_an_intersection_matches_it() {
    let city = demo_city().await;
    let crossing = first_feature(&city, "/api/layers/intersection?q=永兴路与光明道交口").await;
    let c = &crossing["geometry"]["coordinates"];
    let (lon, lat) = (c[0].as_f64().unwrap() + 0.0001, c[1].as_f64().unwrap());
    let receipt = file(&city, report("traffic_disorder", (lon, lat))).await;
    assert_eq!(receipt["asset"]["name"], "永兴路与光明道交口");
    assert!(receipt["asset"]["distance_m"].as_f64().unwrap() < 15.0);
}

#[tokio::test]
async fn gcj02_and_bd09_positions_are_converted_to_wgs84_before_matching() {
    let city = demo_city().await;
    let (wgs, market) = chunshu(&city).await;
    let gcj = civmap::crs::wgs84_to_gcj02(wgs.0, wgs.1);
    let bd = civmap::crs::gcj02_to_bd09(gcj.0, gcj.1);
    for (crs, (lon, lat)) in [("gcj02", gcj), ("bd09", bd)] {
        let mut body = report("litter", (lon, lat));
        body["crs"] = json!(crs);
        let receipt = file(&city, body).await;
        assert_eq!(receipt["asset"]["id"], market["id"], "{crs}");
        let p = &receipt["position"];
        let moved = civmap::index::distance_m(
            wgs,
            (p["lon"].as_f64().unwrap(), p["lat"].as_f64().unwrap()),
        );
        assert!(moved < 0.05, "{crs}: {moved} m from the WGS84 point");
        assert_eq!(receipt["input"]["crs"], crs);
    }
}

#[tokio::test]
async fn a_report_with_nothing_eligible_in_reach_is_kept_unmatched() {
    let city = demo_city().await;
    let (centre, _) = chunshu(&city).await;
    // the demo city has no public toilets
    let receipt = file(&city, report("toilet_hygiene", centre)).await;
    assert_eq!(receipt["matched"], false);
    assert!(receipt["asset"].is_null() && receipt["unit"].is_null());
    let listed = get(&city.router, "/api/reports?status=reported").await;
    assert_eq!(listed.body["numberMatched"], 1);
    // assignment then needs a unit
    let id = receipt["id"].as_i64().unwrap();
    let refused = change(&city, id, json!({"to": "assigned", "actor": "创城办"})).await;
    assert_problem(&refused, 422, "unit");
    let assigned = change(
        &city,
        id,
        json!({"to": "assigned", "actor": "创城办", "unit": "广阳区城管局"}),
    )
    .await;
    assert_eq!(assigned.status, 200);
    assert_eq!(assigned.body["properties"]["unit"], "广阳区城管局");
}

#[tokio::test]
async fn parking_in_a_marked_bay_is_refused_when_the_city_says_so() {
    let city = demo_city_with(|o| o.reports.reject_permitted = true).await;
    let bay = first_feature(&city, "/api/layers/parking_zone?q=停车场").await;
    let reply = post_json(
        &city.router,
        "/api/reports",
        &report("illegal_parking", centre_of_ring(&bay)),
    )
    .await;
    assert_problem(&reply, 422, "permitted");
    assert_eq!(report_count(&city).await, 0);
}

#[tokio::test]
async fn a_second_report_at_the_same_spot_lists_the_first_and_can_close_as_its_duplicate() {
    let city = demo_city().await;
    let (centre, _) = chunshu(&city).await;
    let first = file(&city, report("litter", centre)).await;
    let second = file(&city, report("litter", (centre.0 + 0.0001, centre.1))).await;
    let candidates = second["possible_duplicates"].as_array().unwrap();
    assert_eq!(candidates.len(), 1);
    assert_eq!(candidates[0]["id"], first["id"]);
    assert!(candidates[0]["distance_m"].as_f64().unwrap() < 30.0);
    let other_category = file(&city, report("flying_wires", centre)).await;
    assert!(
        other_category["possible_duplicates"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    let id = second["id"].as_i64().unwrap();
    let closed = change(&city, id, json!({"to": "closed", "actor": "创城办", "reason": "duplicate", "duplicate_of": first["id"]})).await;
    assert_eq!(closed.status, 200, "{}", closed.body);
    assert_eq!(closed.body["properties"]["duplicate_of"], first["id"]);
    assert_eq!(closed.body["properties"]["close_reason"], "duplicate");
    // closed reports are no longer candidates
    let third = file(&city, report("litter", centre)).await;
    let ids: Vec<&Value> = third["possible_duplicates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["id"])
        .collect();
    assert_eq!(ids, vec![&first["id"]]);
}

#[tokio::test]
async fn a_problem_goes_from_reported_to_closed_with_every_step_in_its_audit_trail() {
    let city = demo_city().await;
    let (centre, market) = chunshu(&city).await;
    let id = file(&city, report("litter", centre)).await["id"]
        .as_i64()
        .unwrap();
    let steps = [
        json!({"to": "assigned", "actor": "创城办 李"}),
        json!({"to": "rectified", "actor": "市场监管所 张", "note": "已清理垃圾"}),
        json!({"to": "assigned", "actor": "暗访组 王", "note": "复查不通过：仍有杂物"}),
        json!({"to": "rectified", "actor": "市场监管所 张", "note": "二次清理"}),
        json!({"to": "verified", "actor": "暗访组 王"}),
        json!({"to": "closed", "actor": "创城办 李"}),
    ];
    for step in &steps {
        let reply = change(&city, id, step.clone()).await;
        assert_eq!(reply.status, 200, "{step}: {}", reply.body);
        assert_eq!(reply.body["properties"]["status"], step["to"]);
    }
    let stored = get(&city.router, &format!("/api/reports/{id}")).await.body;
    let history = stored["properties"]["history"].as_array().unwrap();
    assert_eq!(history.len(), steps.len());
    assert_eq!(history[0]["from"], "reported");
    assert_eq!(history[0]["unit"], market["properties"]["unit"]);
    assert!(history[0]["deadline_at"].is_string());
    assert_eq!(history[2]["note"], "复查不通过：仍有杂物");
    assert_eq!(history[5]["reason"], "resolved");
    assert!(
        history
            .iter()
            .all(|h| h["actor"].is_string() && h["at"].is_string())
    );
    assert_eq!(stored["properties"]["close_reason"], "resolved");

    // closed is final: an illegal change is a 409 that changes nothing
    let reply = change(&city, id, json!({"to": "assigned", "actor": "x"})).await;
    assert_problem(&reply, 409, "closed");
    let after = get(&city.router, &format!("/api/reports/{id}")).await.body;
    assert_eq!(
        after["properties"]["history"].as_array().unwrap().len(),
        steps.len()
    );
    assert_eq!(after["properties"]["status"], "closed");
}

#[tokio::test]
async fn a_reassigned_problem_moves_to_the_new_unit() {
    let city = demo_city().await;
    let (centre, _) = chunshu(&city).await;
    let id = file(&city, report("litter", centre)).await["id"]
        .as_i64()
        .unwrap();
    change(&city, id, json!({"to": "assigned", "actor": "创城办"})).await;
    let moved = change(
        &city,
        id,
        json!({"to": "assigned", "actor": "创城办", "unit": "广阳区住建局", "note": "属住建管辖"}),
    )
    .await;
    assert_eq!(moved.status, 200);
    let listed = get(&city.router, "/api/reports?unit=广阳区住建局").await;
    assert_eq!(listed.body["numberMatched"], 1);
}

#[tokio::test]
async fn past_its_deadline_an_assigned_problem_is_overdue_and_its_unit_gets_a_supervision_notice() {
    let city = demo_city().await;
    let (centre, market) = chunshu(&city).await;
    let unit = market["properties"]["unit"].as_str().unwrap().to_string();
    let late = file(&city, report("litter", centre)).await["id"]
        .as_i64()
        .unwrap();
    let fixed = file(&city, report("flying_wires", centre)).await["id"]
        .as_i64()
        .unwrap();
    for id in [late, fixed] {
        let r = change(&city, id, json!({"to": "assigned", "actor": "创城办"})).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    change(
        &city,
        fixed,
        json!({"to": "rectified", "actor": "u", "note": "已整改"}),
    )
    .await;
    assert_eq!(
        get(&city.router, "/api/reports?overdue=true").await.body["numberMatched"],
        0
    );

    city.city.clock.advance(chrono::Duration::hours(80));
    let overdue = get(&city.router, "/api/reports?overdue=true").await;
    assert_eq!(overdue.body["numberMatched"], 1);
    assert_eq!(overdue.body["features"][0]["id"], late);
    assert_eq!(overdue.body["features"][0]["properties"]["overdue"], true);

    let notices = get(&city.router, "/api/supervision").await.body;
    let notice = &notices["notices"][0];
    assert_eq!(notice["unit"], unit.as_str());
    assert_eq!(notice["overdue"], 1);
    assert!(notice["problems"][0]["overdue_hours"].as_f64().unwrap() > 50.0);

    let stats = get(&city.router, "/api/stats").await.body;
    assert_eq!(stats["total"], 2);
    assert_eq!(stats["overdue"], 1);
    assert_eq!(stats["by_status"]["assigned"], 1);
    assert_eq!(stats["by_status"]["rectified"], 1);
    assert_eq!(stats["by_unit"][unit.as_str()], 2);
}

#[tokio::test]
async fn the_weekly_bulletin_ranks_units_in_json_and_csv() {
    let city = demo_city().await;
    let (centre, market) = chunshu(&city).await;
    let unit = market["properties"]["unit"].as_str().unwrap().to_string();
    let crossing = first_feature(&city, "/api/layers/intersection?q=永兴路与光明道交口").await;
    let c = &crossing["geometry"]["coordinates"];
    let at_crossing = (c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
    let a = file(&city, report("litter", centre)).await["id"]
        .as_i64()
        .unwrap();
    file(&city, report("traffic_disorder", at_crossing)).await;
    for step in [
        json!({"to": "assigned", "actor": "a"}),
        json!({"to": "rectified", "actor": "a", "note": "n"}),
        json!({"to": "verified", "actor": "a"}),
        json!({"to": "closed", "actor": "a"}),
    ] {
        change(&city, a, step).await;
    }
    let week = city
        .city
        .now()
        .with_timezone(&civmap::reports::book::shanghai())
        .format("%G-W%V")
        .to_string();
    let bulletin = get(&city.router, &format!("/api/bulletins/weekly?week={week}"))
        .await
        .body;
    let units = bulletin["units"].as_array().unwrap();
    assert_eq!(units[0]["name"], unit.as_str());
    assert_eq!(units[0]["rank"], 1);
    assert_eq!(
        (units[0]["opened"].as_u64(), units[0]["closed"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(units[0]["closure_rate"], 1.0);
    assert_eq!(units[1]["closure_rate"], 0.0);

    let csv = get(
        &city.router,
        &format!("/api/bulletins/weekly?week={week}&format=csv"),
    )
    .await;
    assert!(csv.content_type.starts_with("text/csv"));
    let text = csv.body.as_str().unwrap_or_default().to_string();
    assert!(
        text.starts_with("section,rank,name,opened,closed,overdue,closure_rate"),
        "{text}"
    );
    assert!(
        text.contains(&format!("unit,1,{unit},1,1,0,100.0%")),
        "{text}"
    );
    assert_problem(
        &get(&city.router, "/api/bulletins/weekly?week=2026-W60").await,
        400,
        "week",
    );
}

#[tokio::test]
async fn photos_come_with_the_report_are_checked_and_served_back() {
    let city = demo_city().await;
    let (centre, _) = chunshu(&city).await;
    let json = report("litter", centre).to_string();
    let (content_type, body) = multipart(&[
        ("report", None, json.as_bytes()),
        ("photo", Some(("scene.png", "image/png")), PNG_1X1),
    ]);
    let reply = send_body(&city.router, "POST", "/api/reports", &content_type, body).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let hash = reply.body["photos"][0].as_str().unwrap().to_string();
    assert_eq!(hash.len(), 64);
    let photo = get(&city.router, &format!("/api/photos/{hash}")).await;
    assert_eq!(photo.status, 200);
    assert_eq!(photo.content_type, "image/png");

    // evidence photo with a rectification, uploaded first then referenced by hash
    let id = reply.body["id"].as_i64().unwrap();
    change(&city, id, json!({"to": "assigned", "actor": "a"})).await;
    let uploaded = send_body(
        &city.router,
        "POST",
        "/api/photos",
        "image/png",
        PNG_1X1.to_vec(),
    )
    .await;
    assert_eq!(uploaded.status, 201);
    let done = change(
        &city,
        id,
        json!({"to": "rectified", "actor": "a", "note": "已清理", "photos": [hash]}),
    )
    .await;
    assert_eq!(done.status, 200);
    assert_eq!(
        done.body["properties"]["history"][1]["photos"][0],
        hash.as_str()
    );

    // a photo that is too big, not an image, or mislabelled is refused and files nothing
    let before = report_count(&city).await;
    let big = [PNG_1X1, &vec![0u8; 70 << 10]].concat();
    let (ct, body) = multipart(&[
        ("report", None, json.as_bytes()),
        ("photo", Some(("big.png", "image/png")), &big),
    ]);
    assert_problem(
        &send_body(&city.router, "POST", "/api/reports", &ct, body).await,
        413,
        "limit",
    );
    let (ct, body) = multipart(&[
        ("report", None, json.as_bytes()),
        ("photo", Some(("x.pdf", "application/pdf")), b"%PDF-1.7"),
    ]);
    assert_problem(
        &send_body(&city.router, "POST", "/api/reports", &ct, body).await,
        415,
        "JPEG",
    );
    let (ct, body) = multipart(&[
        ("report", None, json.as_bytes()),
        ("photo", Some(("x.jpg", "image/jpeg")), PNG_1X1),
    ]);
    assert_problem(
        &send_body(&city.router, "POST", "/api/reports", &ct, body).await,
        415,
        "image/jpeg",
    );
    assert_eq!(report_count(&city).await, before);
    assert_problem(
        &get(&city.router, &format!("/api/photos/{}", "0".repeat(64))).await,
        404,
        "photo",
    );
}

#[tokio::test]
async fn a_csv_imports_all_rows_or_names_the_bad_line_and_imports_nothing() {
    let city = demo_city().await;
    let (c, _) = chunshu(&city).await;
    let good = format!(
        "lon,lat,crs,category,description,reporter,observed_at\n{},{},wgs84,litter,垃圾,王,2026-11-20T08:00:00+08:00\n{},{},,flying_wires,飞线,李,\n",
        c.0, c.1, c.0, c.1
    );
    let reply = send_body(
        &city.router,
        "POST",
        "/api/reports/import",
        "text/csv",
        good.into_bytes(),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.body["imported"], 2);
    let bad = format!(
        "lon,lat,category,reporter\n{},{},litter,王\n{},{},no_such_category,李\n",
        c.0, c.1, c.0, c.1
    );
    let reply = send_body(
        &city.router,
        "POST",
        "/api/reports/import",
        "text/csv",
        bad.into_bytes(),
    )
    .await;
    assert_problem(&reply, 400, "line 3");
    assert_eq!(report_count(&city).await, 2);
    let reply = send_body(
        &city.router,
        "POST",
        "/api/reports/import",
        "text/csv",
        b"lat,category\n1,x\n".to_vec(),
    )
    .await;
    assert_problem(&reply, 400, "lon");
}

#[tokio::test]
async fn open_reports_are_matched_again_after_assets_change() {
    let city = demo_city().await;
    let (centre, _) = chunshu(&city).await;
    let receipt = file(&city, report("toilet_hygiene", centre)).await;
    assert_eq!(receipt["matched"], false);
    let spec = city
        .city
        .layers()
        .catalogue()
        .require("public_toilet")
        .unwrap()
        .clone();
    let toilet = civmap::import::assets_from_geojson(
        &json!({"type": "FeatureCollection", "features": [{"type": "Feature", "id": "wc-chunshu",
            "properties": {"name": "椿树市场公厕", "unit": "广阳区城管局"},
            "geometry": {"type": "Point", "coordinates": [centre.0, centre.1 + 0.0002]}}]})
        .to_string(),
        &spec,
    )
    .unwrap();
    city.city.upsert("public_toilet", &toilet).await.unwrap();
    let reply = post_json(&city.router, "/api/reports/rematch", &json!({})).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body["changed"], 1);
    let stored = get(&city.router, &format!("/api/reports/{}", receipt["id"]))
        .await
        .body;
    assert_eq!(stored["properties"]["asset"]["id"], "wc-chunshu");
    assert_eq!(stored["properties"]["unit"], "广阳区城管局");
    assert!(
        stored["properties"]["history"][0]["note"]
            .as_str()
            .unwrap()
            .contains("re-matched")
    );
}

#[tokio::test]
async fn bad_reports_and_bad_changes_are_4xx_problems_that_change_nothing() {
    let city = demo_city().await;
    let (centre, _) = chunshu(&city).await;
    let r = &city.router;
    let with = |patch: Value| {
        let mut body = report("litter", centre);
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let cases: Vec<(Value, u16, &str)> = vec![
        (
            with(json!({"category": "volcano"})),
            422,
            "unknown category",
        ),
        (
            with(json!({"lon": 121.47, "lat": 31.23})),
            422,
            "outside the city",
        ),
        (with(json!({"crs": "epsg:3857"})), 400, "crs"),
        (with(json!({"lon": 200.0})), 400, "lon"),
        (with(json!({"lat": -95.0})), 400, "lat"),
        (with(json!({"reporter": ""})), 400, "reporter"),
        (
            with(json!({"observed_at": "yesterday"})),
            400,
            "observed_at",
        ),
        (
            with(json!({"observed_at": "2099-01-01T00:00:00Z"})),
            400,
            "future",
        ),
        (with(json!({"photos": ["ab".repeat(32)]})), 422, "photo"),
        (with(json!({"colour": "red"})), 400, "unknown field"),
        (
            with(json!({"description": "a\u{0}b"})),
            400,
            "control characters",
        ),
        (
            json!({"lat": 39.5, "category": "litter", "reporter": "x"}),
            400,
            "lon",
        ),
    ];
    for (body, status, needle) in cases {
        let reply = post_json(r, "/api/reports", &body).await;
        assert_problem(&reply, status, needle);
    }
    assert_problem(
        &send_body(
            r,
            "POST",
            "/api/reports",
            "application/json",
            b"{\"lon\": 116.7,".to_vec(),
        )
        .await,
        400,
        "malformed JSON",
    );
    assert_problem(
        &send_body(r, "POST", "/api/reports", "text/plain", b"hello".to_vec()).await,
        415,
        "Content-Type",
    );
    assert_problem(
        &send_body(
            r,
            "POST",
            "/api/reports",
            "application/json",
            vec![b' '; 100 << 10],
        )
        .await,
        413,
        "larger",
    );
    assert_eq!(report_count(&city).await, 0);

    assert_problem(&get(r, "/api/reports/999999").await, 404, "999999");
    assert_problem(&get(r, "/api/reports/abc").await, 404, "abc");
    assert_problem(
        &post_json(
            r,
            "/api/reports/424242/transitions",
            &json!({"to": "assigned", "actor": "a"}),
        )
        .await,
        404,
        "424242",
    );
    let id = file(&city, report("litter", centre)).await["id"]
        .as_i64()
        .unwrap();
    let path = format!("/api/reports/{id}/transitions");
    let transitions: Vec<(Value, u16, &str)> = vec![
        (json!({"to": "verified", "actor": "a"}), 409, "cannot move"),
        (json!({"to": "flying", "actor": "a"}), 400, "status"),
        (json!({"to": "assigned"}), 400, "actor"),
        (
            json!({"to": "assigned", "actor": "a", "deadline": "2001-01-01T00:00:00Z"}),
            422,
            "future",
        ),
        (
            json!({"to": "assigned", "actor": "a", "deadline": "soon"}),
            400,
            "deadline",
        ),
        (json!({"to": "closed", "actor": "a"}), 422, "reason"),
        (
            json!({"to": "closed", "actor": "a", "reason": "bored"}),
            400,
            "reason",
        ),
        (
            json!({"to": "closed", "actor": "a", "reason": "duplicate", "duplicate_of": 999}),
            422,
            "999",
        ),
    ];
    for (body, status, needle) in transitions {
        assert_problem(&post_json(r, &path, &body).await, status, needle);
    }
    let stored = get(r, &format!("/api/reports/{id}")).await.body;
    assert_eq!(stored["properties"]["status"], "reported");
    assert!(
        stored["properties"]["history"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    for (uri, needle) in [
        ("/api/reports?status=lost", "status"),
        ("/api/reports?overdue=maybe", "overdue"),
        ("/api/reports?from=last-week", "from"),
        ("/api/reports?from=2026-11-20&to=2026-11-01", "after"),
        ("/api/reports?bbox=1,2,3", "bbox"),
        ("/api/stats?status=lost", "status"),
    ] {
        assert_problem(&get(r, uri).await, 400, needle);
    }
}
