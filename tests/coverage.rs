//! Intersection duty coverage on the demo city with fixed posts: held intersections inside and
//! outside their windows, nearby posts, time zones, the day profile, suggestions, the audit
//! trail, CSV import and bad input.

mod common;

use common::{TestCity, assert_problem, demo_city, get, post_json, send, send_body};
use serde_json::{Value, json};

async fn crossing(city: &TestCity, name: &str) -> Value {
    get(&city.router, &format!("/api/layers/intersection?q={name}"))
        .await
        .body["features"][0]
        .clone()
}

async fn post(city: &TestCity, body: Value) -> Value {
    let reply = post_json(&city.router, "/api/duty-posts", &body).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.body
}

fn state<'a>(coverage: &'a Value, id: &Value) -> &'a Value {
    coverage["intersections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| &i["id"] == id)
        .unwrap_or_else(|| panic!("{id} is not a main intersection"))
}

fn morning_post(id: &Value) -> Value {
    json!({"unit": "交警一大队光明岗", "intersections": [id],
        "windows": [{"start": "07:00", "end": "09:00", "days": "weekdays"},
                    {"start": "17:00", "end": "19:00", "days": "weekdays"}],
        "from": "2026-11-01", "actor": "交警支队"})
}

#[tokio::test]
async fn a_post_holds_its_intersection_in_its_windows_and_not_outside_them() {
    let city = demo_city().await;
    let a = crossing(&city, "永兴路与光明道交口").await;
    post(&city, morning_post(&a["id"])).await;
    for (at, covered) in [
        ("2026-11-23T07:30", true), // Monday morning peak, local time
        ("2026-11-23T17:45", true), // evening peak
        ("2026-11-23T12:00", false),
        ("2026-11-28T07:30", false),          // Saturday
        ("2026-11-22T23:30:00Z", true),       // = Monday 07:30 in Shanghai
        ("2026-11-23T07:30:00+09:00", false), // = 06:30 in Shanghai
        ("2026-10-30T07:30", false),          // before the post's first day
    ] {
        let c = get(
            &city.router,
            &format!("/api/coverage?at={}", at.replace('+', "%2B")),
        )
        .await;
        assert_eq!(c.status, 200, "{}", c.body);
        assert_eq!(state(&c.body, &a["id"])["covered"], covered, "{at}");
    }
    let c = get(&city.router, "/api/coverage?at=2026-11-23T07:30&nearby_m=0")
        .await
        .body;
    assert_eq!(state(&c, &a["id"])["cover"]["how"], "held");
    assert_eq!(state(&c, &a["id"])["cover"]["units"][0], "交警一大队光明岗");
    let district = a["properties"]["district"].as_str().unwrap();
    let row = c["districts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["district"] == district)
        .unwrap();
    assert_eq!(row["covered"], 1);
    assert!(row["ratio"].as_f64().unwrap() > 0.0 && row["ratio"].as_f64().unwrap() < 1.0);
}

#[tokio::test]
async fn nearby_intersections_are_covered_within_reach_and_formats_agree() {
    let city = demo_city().await;
    let a = crossing(&city, "永兴路与光明道交口").await;
    post(&city, morning_post(&a["id"])).await;
    let held_only = get(&city.router, "/api/coverage?at=2026-11-23T07:30&nearby_m=0")
        .await
        .body;
    let wide = get(
        &city.router,
        "/api/coverage?at=2026-11-23T07:30&nearby_m=1000",
    )
    .await
    .body;
    let count = |c: &Value| {
        c["intersections"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["covered"] == true)
            .count()
    };
    assert_eq!(count(&held_only), 1);
    assert!(count(&wide) > 1);
    let nearby = wide["intersections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["cover"]["how"] == "nearby_post")
        .unwrap();
    assert_eq!(nearby["cover"]["via_intersection"], a["id"]);
    assert!(nearby["cover"]["distance_m"].as_f64().unwrap() <= 1000.0);

    let geo = get(
        &city.router,
        "/api/coverage?at=2026-11-23T07:30&nearby_m=0&format=geojson",
    )
    .await;
    assert_eq!(geo.content_type, "application/geo+json");
    assert_eq!(
        geo.body["features"].as_array().unwrap().len(),
        held_only["intersections"].as_array().unwrap().len()
    );
    let csv = get(
        &city.router,
        "/api/coverage?at=2026-11-23T07:30&nearby_m=0&format=csv",
    )
    .await;
    let text = csv.body.as_str().unwrap().to_string();
    assert!(text.starts_with("id,name,district,covered,how,by,distance_m"));
    assert!(text.contains(&format!(
        "{},永兴路与光明道交口,",
        a["id"].as_str().unwrap()
    )));
    assert_eq!(text.lines().filter(|l| l.contains(",yes,held,")).count(), 1);
}

#[tokio::test]
async fn the_day_profile_counts_held_intersections_per_hour() {
    let city = demo_city().await;
    let a = crossing(&city, "永兴路与光明道交口").await;
    let b = crossing(&city, "银河路与光明道交口").await;
    post(&city, morning_post(&a["id"])).await;
    post(
        &city,
        json!({"unit": "夜巡队", "intersections": [b["id"]],
        "windows": [{"start": "22:00", "end": "02:00", "days": "daily"}], "from": "2026-11-01"}),
    )
    .await;
    let day = get(&city.router, "/api/coverage/day?date=2026-11-23")
        .await
        .body;
    let held: Vec<u64> = day["hours"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["held"].as_u64().unwrap())
        .collect();
    assert_eq!(held[7], 1);
    assert_eq!(held[8], 1);
    assert_eq!(held[9], 0);
    assert_eq!(held[12], 0);
    assert_eq!(held[17], 1);
    assert_eq!(held[1], 1, "Sunday night's shift runs to 02:00 Monday");
    assert_eq!(held[23], 1);
}

#[tokio::test]
async fn a_post_is_changed_and_ended_with_every_change_audited() {
    let city = demo_city().await;
    let a = crossing(&city, "永兴路与光明道交口").await;
    let id = post(&city, morning_post(&a["id"])).await["id"]
        .as_i64()
        .unwrap();
    let path = format!("/api/duty-posts/{id}");
    let patch = send_body(
        &city.router,
        "PATCH",
        &path,
        "application/json",
        json!({"unit": "交警二大队", "actor": "支队"})
            .to_string()
            .into_bytes(),
    )
    .await;
    assert_eq!(patch.status, 200, "{}", patch.body);
    assert_eq!(patch.body["unit"], "交警二大队");
    let ended = send(&city.router, "DELETE", &format!("{path}?actor=支队")).await;
    assert_eq!(ended.status, 200);
    assert!(ended.body["ended_at"].is_string());
    let c = get(&city.router, "/api/coverage?at=2026-11-23T07:30")
        .await
        .body;
    assert_eq!(state(&c, &a["id"])["covered"], false);
    assert_problem(&send(&city.router, "DELETE", &path).await, 409, "ended");
    let one = get(&city.router, &path).await.body;
    let actions: Vec<&str> = one["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["created", "changed", "ended"]);
    assert_eq!(one["history"][0]["actor"], "交警支队");
    assert_eq!(one["history"][1]["post"]["unit"], "交警二大队");
}

#[tokio::test]
async fn suggestions_rank_uncovered_intersections_by_nearby_traffic_problems() {
    let city = demo_city().await;
    let b = crossing(&city, "银河路与光明道交口").await;
    let c = &b["geometry"]["coordinates"];
    for _ in 0..2 {
        let body =
            json!({"lon": c[0], "lat": c[1], "category": "traffic_disorder", "reporter": "交警"});
        assert_eq!(
            post_json(&city.router, "/api/reports", &body).await.status,
            201
        );
    }
    let s = get(
        &city.router,
        "/api/coverage/suggestions?at=2026-11-23T07:30&limit=3",
    )
    .await
    .body;
    assert_eq!(s["suggestions"][0]["id"], b["id"]);
    assert_eq!(s["suggestions"][0]["open_traffic_disorder"], 2);
}

#[tokio::test]
async fn posts_import_from_csv_all_or_nothing() {
    let city = demo_city().await;
    let a = crossing(&city, "永兴路与光明道交口").await;
    let b = crossing(&city, "银河路与光明道交口").await;
    let (a, b) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());
    let good = format!(
        "unit,intersections,windows,from,to\n一中队,{a};{b},07:00-09:00 weekdays;17:00-19:00 weekdays,2026-11-01,2026-12-31\n二中队,{b},22:00-02:00,2026-11-01,\n"
    );
    let reply = send_body(
        &city.router,
        "POST",
        "/api/duty-posts/import",
        "text/csv",
        good.into_bytes(),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.body["imported"], 2);
    let bad = format!(
        "unit,intersections,windows,from\n三中队,{a},07:00-09:00,2026-11-01\n四中队,nowhere,07:00-09:00,2026-11-01\n"
    );
    let reply = send_body(
        &city.router,
        "POST",
        "/api/duty-posts/import",
        "text/csv",
        bad.into_bytes(),
    )
    .await;
    assert_problem(&reply, 422, "row 3");
    assert_eq!(
        get(&city.router, "/api/duty-posts").await.body["posts"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn bad_posts_and_bad_coverage_queries_are_4xx_problems() {
    let city = demo_city().await;
    let a = crossing(&city, "永兴路与光明道交口").await;
    let road =
        get(&city.router, "/api/layers/road?limit=1").await.body["features"][0]["id"].clone();
    let with = |patch: Value| {
        let mut body = morning_post(&a["id"]);
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let cases: Vec<(Value, u16, &str)> = vec![
        (
            with(
                json!({"windows": [{"start": "07:00", "end": "09:00"}, {"start": "08:00", "end": "10:00"}]}),
            ),
            422,
            "overlap",
        ),
        (
            with(json!({"windows": [{"start": "7am", "end": "09:00"}]})),
            400,
            "HH:MM",
        ),
        (
            with(json!({"windows": [{"start": "07:00", "end": "07:00"}]})),
            400,
            "empty",
        ),
        (
            with(json!({"windows": [{"start": "07:00", "end": "09:00", "days": "someday"}]})),
            400,
            "days",
        ),
        (with(json!({"windows": []})), 400, "at least one"),
        (with(json!({"intersections": ["nowhere"]})), 422, "nowhere"),
        (
            with(json!({"intersections": [road]})),
            422,
            "not an intersection",
        ),
        (
            with(json!({"from": "2026-12-01", "to": "2026-11-01"})),
            400,
            "before",
        ),
        (with(json!({"from": "next week"})), 400, "from"),
        (with(json!({"colour": "blue"})), 400, "unknown field"),
        (
            json!({"intersections": [a["id"]], "windows": [{"start": "07:00", "end": "09:00"}], "from": "2026-11-01"}),
            400,
            "unit",
        ),
    ];
    for (body, status, needle) in cases {
        assert_problem(
            &post_json(&city.router, "/api/duty-posts", &body).await,
            status,
            needle,
        );
    }
    assert!(
        get(&city.router, "/api/duty-posts").await.body["posts"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_problem(&get(&city.router, "/api/duty-posts/77").await, 404, "77");
    assert_problem(
        &send(&city.router, "DELETE", "/api/duty-posts/77").await,
        404,
        "77",
    );
    assert_problem(
        &get(&city.router, "/api/coverage?at=tomorrow").await,
        400,
        "at",
    );
    assert_problem(
        &get(&city.router, "/api/coverage?nearby_m=-1").await,
        400,
        "nearby_m",
    );
    assert_problem(
        &get(&city.router, "/api/coverage?format=pdf").await,
        400,
        "format",
    );
    assert_problem(
        &get(&city.router, "/api/coverage/day?date=23/11/2026").await,
        400,
        "date",
    );
}
