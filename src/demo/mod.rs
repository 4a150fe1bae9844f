//! Owns the deterministic Langfang (廊坊) demo city: one GeoJSON FeatureCollection per asset
//! kind in WGS84 lon/lat degrees (RFC 7946, 6 decimals; lengths in metres) plus the list of
//! responsible units. The same bytes come out on every run.
//!
//! Pipeline: hand-authored facts (`facts`) → road network with crossings (`network`) → back
//! alleys (`alleys`) → markets and parking lots (`sites`) → bus stops (`bus`) → on-street
//! parking bays (`parking`) → features. A real city imports its own data instead.

mod admin;
mod alleys;
mod bus;
mod facts;
mod feature;
mod geom;
mod network;
mod parking;
mod rng;
mod sites;

use admin::Districts;
use bus::Landmark;
use feature::{collection_text, feature_collection};
use geom::{Xy, ring_centroid};
use rng::SplitMix64;
use serde_json::Value;
use sites::{Market, Obstacles};
use std::collections::BTreeMap;
use std::path::Path;

/// The asset kinds the demo writes, one `<kind>.geojson` file each.
pub const KINDS: [&str; 7] = [
    "road",
    "intersection",
    "back_alley",
    "market",
    "parking_zone",
    "district",
    "bus_stop",
];

/// Seed of the one generator every random choice is drawn from, in a fixed order.
const SEED: u64 = 0x4C46_0131_0030_2024;

/// The demo city in memory.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoCity {
    /// kind → GeoJSON FeatureCollection.
    pub layers: BTreeMap<String, Value>,
    /// Responsible units (包联单位): `{"id","name","kind","district"}` (+ `communities` for 街道).
    pub units: Vec<Value>,
}

impl DemoCity {
    /// The features of one kind (empty for an unknown kind).
    pub fn features(&self, kind: &str) -> &[Value] {
        self.layers
            .get(kind)
            .and_then(|fc| fc.get("features"))
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice)
    }
}

/// Builds the whole demo city in memory.
pub fn generate() -> DemoCity {
    let mut rng = SplitMix64::new(SEED);
    let districts = Districts::new();
    let mut net = network::build();
    let alleys = alleys::generate(&mut net, &mut rng);
    let mut obstacles = Obstacles::new(&net, &alleys);
    let markets = sites::place_markets(&mut obstacles, &mut rng);
    let lots = sites::place_lots(&mut obstacles, &markets, &mut rng);
    let landmarks = landmarks(&markets);
    let stops = bus::generate(&net, &landmarks, &mut rng);
    let bays = parking::place_bays(&net, &alleys, &stops, &obstacles, &landmarks, &mut rng);

    let mut parking_zones = sites::lot_features(&lots, &districts, 1);
    parking_zones.extend(parking::features(&bays, &net, &districts, lots.len() + 1));

    let layers = [
        ("road", network::road_features(&net, &districts)),
        (
            "intersection",
            network::intersection_features(&net, &districts),
        ),
        ("back_alley", alleys::features(&alleys, &net, &districts)),
        ("market", sites::market_features(&markets, &districts)),
        ("parking_zone", parking_zones),
        ("district", admin::district_features()),
        ("bus_stop", bus::features(&stops, &net, &districts)),
    ]
    .into_iter()
    .map(|(kind, features)| (kind.to_string(), feature_collection(features)))
    .collect();
    DemoCity {
        layers,
        units: admin::unit_records(),
    }
}

/// Places and markets that bus stops and parking bays may be named after.
fn landmarks(markets: &[Market]) -> Vec<Landmark> {
    let places = facts::PLACES.iter().map(|p| Landmark {
        label: p.label,
        at: Xy::from_lonlat(p.lon, p.lat),
    });
    let market_points = markets.iter().map(|m| Landmark {
        label: m.fact.name,
        at: ring_centroid(&m.ring),
    });
    places.chain(market_points).collect()
}

/// Writes one GeoJSON FeatureCollection file per asset kind into `dir` (road.geojson,
/// intersection.geojson, back_alley.geojson, market.geojson, parking_zone.geojson,
/// district.geojson, bus_stop.geojson) plus units.json; returns how many features each kind got.
pub fn write_demo(dir: &Path) -> std::io::Result<BTreeMap<String, usize>> {
    std::fs::create_dir_all(dir)?;
    let city = generate();
    let mut counts = BTreeMap::new();
    for kind in KINDS {
        let Some(collection) = city.layers.get(kind) else {
            continue;
        };
        std::fs::write(
            dir.join(format!("{kind}.geojson")),
            collection_text(collection),
        )?;
        counts.insert(kind.to_string(), city.features(kind).len());
    }
    std::fs::write(dir.join("units.json"), units_text(&city.units))?;
    Ok(counts)
}

/// units.json: a JSON array with one unit per line.
fn units_text(units: &[Value]) -> String {
    let lines: Vec<String> = units.iter().map(Value::to_string).collect();
    format!("[\n{}\n]\n", lines.join(",\n"))
}

#[cfg(test)]
mod tests {
    use super::geom::{lonlat_distance_m, lonlat_point_line_distance_m};
    use super::*;
    use std::collections::{BTreeSet, HashMap};
    use std::sync::OnceLock;

    const DISTRICT_NAMES: [&str; 3] = ["广阳区", "安次区", "廊坊经济技术开发区"];

    /// The 19 crossings of the nine main roads named in the reference notes.
    const REFERENCE_INTERSECTIONS: [&str; 19] = [
        "永兴路与光明道交口",
        "永兴路与金光道交口",
        "永兴路与爱民道交口",
        "永兴路与广阳道交口",
        "银河路与光明道交口",
        "银河路与金光道交口",
        "银河路与爱民道交口",
        "银河路与广阳道交口",
        "新华路与金光道交口",
        "新华路与爱民道交口",
        "新华路与广阳道交口",
        "新开路与光明道交口",
        "新开路与金光道交口",
        "新开路与爱民道交口",
        "新开路与广阳道交口",
        "和平路与光明道交口",
        "和平路与金光道交口",
        "和平路与爱民道交口",
        "和平路与广阳道交口",
    ];

    fn city() -> &'static DemoCity {
        static CITY: OnceLock<DemoCity> = OnceLock::new();
        CITY.get_or_init(generate)
    }

    fn prop<'a>(f: &'a Value, key: &str) -> &'a Value {
        &f["properties"][key]
    }

    fn text<'a>(f: &'a Value, key: &str) -> &'a str {
        prop(f, key).as_str().unwrap_or("")
    }

    fn coords_of(v: &Value) -> Vec<[f64; 2]> {
        v.as_array()
            .into_iter()
            .flatten()
            .map(|c| {
                [
                    c[0].as_f64().unwrap_or(f64::NAN),
                    c[1].as_f64().unwrap_or(f64::NAN),
                ]
            })
            .collect()
    }

    fn point_coords(f: &Value) -> [f64; 2] {
        let c = &f["geometry"]["coordinates"];
        [
            c[0].as_f64().unwrap_or(f64::NAN),
            c[1].as_f64().unwrap_or(f64::NAN),
        ]
    }

    fn line_coords(f: &Value) -> Vec<[f64; 2]> {
        coords_of(&f["geometry"]["coordinates"])
    }

    /// The exterior ring without its closing vertex.
    fn ring_coords(f: &Value) -> Vec<[f64; 2]> {
        let mut ring = coords_of(&f["geometry"]["coordinates"][0]);
        ring.pop();
        ring
    }

    fn roads_by_name() -> HashMap<&'static str, Vec<[f64; 2]>> {
        city()
            .features("road")
            .iter()
            .map(|f| (text(f, "name"), line_coords(f)))
            .collect()
    }

    #[test]
    fn the_demo_city_meets_the_minimum_counts() {
        let c = city();
        assert!(c.features("road").len() >= 40);
        assert!(c.features("back_alley").len() >= 150);
        assert!(c.features("market").len() >= 15);
        assert!(c.features("parking_zone").len() >= 200);
        assert_eq!(c.features("district").len(), 3);
        assert!(c.features("bus_stop").len() >= 100);
        assert!((25..=35).contains(&c.units.len()));
    }

    #[test]
    fn the_nine_main_roads_are_class_main() {
        let mains: BTreeSet<&str> = city()
            .features("road")
            .iter()
            .filter(|f| text(f, "class") == "main")
            .map(|f| text(f, "name"))
            .collect();
        let expected: BTreeSet<&str> = [
            "永兴路",
            "银河路",
            "新华路",
            "新开路",
            "和平路",
            "光明道",
            "金光道",
            "爱民道",
            "广阳道",
        ]
        .into_iter()
        .collect();
        assert_eq!(mains, expected);
    }

    #[test]
    fn the_markets_include_chunshu_market_and_the_twelve_reference_markets() {
        let names: BTreeSet<&str> = city()
            .features("market")
            .iter()
            .map(|f| text(f, "name"))
            .collect();
        for name in facts::MARKETS.iter().map(|m| m.name) {
            assert!(names.contains(name), "{name} missing");
        }
        assert!(names.contains("椿树市场"));
    }

    #[test]
    fn every_reference_intersection_name_is_present() {
        let names: BTreeSet<&str> = city()
            .features("intersection")
            .iter()
            .map(|f| text(f, "name"))
            .collect();
        for name in REFERENCE_INTERSECTIONS {
            assert!(names.contains(name), "{name} missing");
        }
    }

    #[test]
    fn every_intersection_lies_on_both_of_its_roads_within_one_metre() {
        let roads = roads_by_name();
        for f in city().features("intersection") {
            let p = point_coords(f);
            for road in prop(f, "roads").as_array().into_iter().flatten() {
                let line = &roads[road.as_str().unwrap_or("")];
                let d = lonlat_point_line_distance_m(p, line);
                assert!(d <= 1.0, "{} is {d} m off {road}", text(f, "name"));
            }
        }
    }

    #[test]
    fn every_alley_has_an_endpoint_on_a_road_within_one_metre() {
        let roads = roads_by_name();
        for f in city().features("back_alley") {
            let coords = line_coords(f);
            let ends = [coords[0], coords[coords.len() - 1]];
            let on_road = ends.iter().any(|end| {
                roads
                    .values()
                    .any(|line| lonlat_point_line_distance_m(*end, line) <= 1.0)
            });
            assert!(on_road, "{} does not reach a road", text(f, "name"));
        }
    }

    #[test]
    fn alley_mouths_are_vertices_of_their_road() {
        let roads = roads_by_name();
        for f in city().features("back_alley") {
            let mouth = line_coords(f)[0];
            assert!(
                roads[text(f, "road")].contains(&mouth),
                "{}",
                text(f, "name")
            );
        }
    }

    #[test]
    fn alleys_are_100_to_400_metres_long() {
        for f in city().features("back_alley") {
            let length_m = prop(f, "length_m").as_f64().unwrap_or(0.0);
            assert!(
                (99.0..=401.0).contains(&length_m),
                "{} is {length_m} m",
                text(f, "name")
            );
        }
    }

    #[test]
    fn markets_are_60_to_150_metres_across_with_5_to_8_vertices() {
        for f in city().features("market") {
            let ring = ring_coords(f);
            assert!((5..=8).contains(&ring.len()), "{}", text(f, "name"));
            let span_m = ring
                .iter()
                .flat_map(|a| ring.iter().map(move |b| lonlat_distance_m(*a, *b)))
                .fold(0.0, f64::max);
            assert!(
                (60.0..=150.0).contains(&span_m),
                "{} spans {span_m} m",
                text(f, "name")
            );
        }
    }

    #[test]
    fn markets_and_lots_keep_clear_of_road_centrelines() {
        let roads = roads_by_name();
        let lots = city()
            .features("parking_zone")
            .iter()
            .filter(|f| text(f, "parking_kind") == "lot");
        for f in city().features("market").iter().chain(lots) {
            for corner in ring_coords(f) {
                let nearest_m = roads
                    .values()
                    .map(|line| lonlat_point_line_distance_m(corner, line))
                    .fold(f64::INFINITY, f64::min);
                assert!(
                    nearest_m > 15.0,
                    "{} is {nearest_m} m from a road",
                    text(f, "name")
                );
            }
        }
    }

    #[test]
    fn on_street_bays_sit_8_to_12_metres_beside_their_road() {
        let roads = roads_by_name();
        for f in city()
            .features("parking_zone")
            .iter()
            .filter(|f| text(f, "parking_kind") == "on_street")
        {
            let ring = ring_coords(f);
            let centre = [
                ring.iter().map(|c| c[0]).sum::<f64>() / 4.0,
                ring.iter().map(|c| c[1]).sum::<f64>() / 4.0,
            ];
            let offset_m = lonlat_point_line_distance_m(centre, &roads[text(f, "road")]);
            assert!(
                (7.5..=12.5).contains(&offset_m),
                "{} is {offset_m} m off",
                text(f, "name")
            );
        }
    }

    #[test]
    fn all_ids_are_unique() {
        let mut seen = BTreeSet::new();
        for kind in KINDS {
            for f in city().features(kind) {
                let id = text(f, "id");
                assert!(!id.is_empty());
                assert!(seen.insert(id.to_string()), "duplicate id {id}");
            }
        }
    }

    #[test]
    fn every_feature_has_a_name_district_and_unit() {
        for kind in KINDS {
            for f in city().features(kind) {
                assert!(!text(f, "name").is_empty(), "{kind} {}", text(f, "id"));
                assert!(!text(f, "unit").is_empty(), "{kind} {}", text(f, "id"));
                assert!(
                    DISTRICT_NAMES.contains(&text(f, "district")),
                    "{kind} {}",
                    text(f, "id")
                );
            }
        }
    }

    #[test]
    fn every_district_gets_some_assets() {
        for name in DISTRICT_NAMES {
            let count = [
                "road",
                "intersection",
                "back_alley",
                "market",
                "parking_zone",
                "bus_stop",
            ]
            .iter()
            .flat_map(|kind| city().features(kind))
            .filter(|f| text(f, "district") == name)
            .count();
            assert!(count > 0, "{name} has no assets");
        }
    }

    #[test]
    fn every_unit_owns_at_least_one_asset() {
        let owners: BTreeSet<&str> = KINDS
            .iter()
            .flat_map(|kind| city().features(kind))
            .map(|f| text(f, "unit"))
            .collect();
        for unit in &city().units {
            let name = unit["name"].as_str().unwrap_or("");
            assert!(owners.contains(name), "{name} owns nothing");
        }
    }

    #[test]
    fn roads_running_the_same_way_never_cross() {
        assert_eq!(network::same_axis_crossings(), vec![]);
    }

    #[test]
    fn the_road_grid_is_connected() {
        let roads = city().features("road");
        let index: HashMap<&str, usize> = roads
            .iter()
            .enumerate()
            .map(|(i, f)| (text(f, "name"), i))
            .collect();
        let mut parent: Vec<usize> = (0..roads.len()).collect();
        fn root(parent: &mut [usize], mut i: usize) -> usize {
            while parent[i] != i {
                i = parent[i];
            }
            i
        }
        for f in city().features("intersection") {
            let pair: Vec<usize> = prop(f, "roads")
                .as_array()
                .into_iter()
                .flatten()
                .map(|r| index[r.as_str().unwrap_or("")])
                .collect();
            let (a, b) = (root(&mut parent, pair[0]), root(&mut parent, pair[1]));
            parent[a] = b;
        }
        let roots: BTreeSet<usize> = (0..roads.len()).map(|i| root(&mut parent, i)).collect();
        assert_eq!(roots.len(), 1);
    }

    #[test]
    fn generation_is_deterministic() {
        let (a, b) = (generate(), generate());
        assert_eq!(a, b);
        for kind in KINDS {
            assert_eq!(
                collection_text(&a.layers[kind]),
                collection_text(&b.layers[kind])
            );
        }
    }

    #[test]
    fn write_demo_writes_one_file_per_kind_plus_units() {
        let dir = std::env::temp_dir().join(format!("civmap-demo-test-{}", std::process::id()));
        let counts = write_demo(&dir).expect("demo written");
        for kind in KINDS {
            let text = std::fs::read_to_string(dir.join(format!("{kind}.geojson"))).expect("file");
            let parsed: Value = serde_json::from_str(&text).expect("valid JSON");
            assert_eq!(
                parsed["features"].as_array().map(Vec::len),
                Some(counts[kind])
            );
        }
        let units: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("units.json")).expect("units"))
                .expect("valid JSON");
        assert_eq!(units.as_array().map(Vec::len), Some(city().units.len()));
        std::fs::remove_dir_all(&dir).ok();
    }

    /// The files in geodata/demo are exactly what the generator writes (rebuild them with
    /// `cargo run --release -- generate-demo` after changing the facts or the generator).
    #[test]
    fn the_checked_in_demo_files_are_what_the_generator_writes() {
        let fresh = std::env::temp_dir().join(format!("civmap-demo-check-{}", std::process::id()));
        write_demo(&fresh).expect("demo written");
        let checked_in = Path::new(env!("CARGO_MANIFEST_DIR")).join("geodata/demo");
        for name in KINDS
            .iter()
            .map(|k| format!("{k}.geojson"))
            .chain(["units.json".to_string()])
        {
            let expected = std::fs::read(fresh.join(&name)).expect("generated file");
            let actual = std::fs::read(checked_in.join(&name)).unwrap_or_default();
            assert!(
                expected == actual,
                "geodata/demo/{name} is stale: run `cargo run --release -- generate-demo`"
            );
        }
        std::fs::remove_dir_all(&fresh).ok();
    }
}
