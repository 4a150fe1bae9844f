//! The GeoPackage civmap writes is read by GDAL: `ogrinfo` lists every layer with the same
//! feature counts civmap holds.

mod common;

use std::process::Command;

#[tokio::test]
async fn ogrinfo_lists_every_layer_of_the_file_civmap_wrote_with_its_feature_count() {
    let city = common::demo_city().await;
    if !common::require_tool("ogrinfo") {
        return;
    }
    let path = city.store_path();
    let listing = Command::new("ogrinfo")
        .arg("-ro")
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        listing.status.success(),
        "{}",
        String::from_utf8_lossy(&listing.stderr)
    );
    let listing = String::from_utf8_lossy(&listing.stdout).to_string();
    for table in ["civmap_reports", "civmap_report_transitions"] {
        assert!(listing.contains(table), "{table} missing:\n{listing}");
    }
    let catalogue = city.city.store().catalogue().await.unwrap();
    for spec in &catalogue.kinds {
        let listed = listing.lines().any(|l| {
            l.split_once(": ")
                .and_then(|(_, rest)| rest.split_whitespace().next())
                == Some(spec.kind.as_str())
        });
        assert!(listed, "{} missing:\n{listing}", spec.kind);
        let summary = Command::new("ogrinfo")
            .args(["-ro", "-so"])
            .arg(&path)
            .arg(&spec.kind)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&summary.stdout);
        let count: usize = text
            .lines()
            .find_map(|l| l.strip_prefix("Feature Count: "))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("no feature count for {}:\n{text}", spec.kind));
        let held = city
            .city
            .layers()
            .summaries()
            .into_iter()
            .find(|s| s.kind == spec.kind)
            .unwrap()
            .count;
        assert_eq!(count, held, "{}", spec.kind);
    }
    // GDAL's own validity checks, including the R-tree extension, report nothing wrong.
    let check = Command::new("ogrinfo")
        .args(["-ro", "-q", "-sql", "SELECT count(*) FROM rtree_road_geom"])
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&check.stderr);
    assert!(
        check.status.success() && !stderr.contains("ERROR"),
        "{stderr}"
    );
}
