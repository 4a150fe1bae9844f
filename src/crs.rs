//! Coordinates from Chinese map SDKs: GCJ-02 (AMap, Tencent; the state-mandated offset of WGS84)
//! and BD-09 (Baidu; a further offset of GCJ-02) converted to WGS84 lon/lat, in degrees.
//!
//! The forward GCJ-02 offset is the published polynomial on the Krasovsky ellipsoid; the inverse
//! is found by fixed-point iteration to better than 1e-7° (≈ 1 cm). Outside China no offset is
//! applied, as the SDKs do.

use std::f64::consts::PI;

use serde::{Deserialize, Serialize};

/// The datum a client's coordinates are in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum InputCrs {
    #[default]
    Wgs84,
    Gcj02,
    Bd09,
}

impl InputCrs {
    /// Parses `wgs84`, `gcj02` or `bd09` (any case).
    ///
    /// # Examples
    /// ```
    /// use civmap::crs::InputCrs;
    /// assert_eq!(InputCrs::parse("GCJ02"), Some(InputCrs::Gcj02));
    /// assert_eq!(InputCrs::parse("epsg:3857"), None);
    /// ```
    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().as_str() {
            "wgs84" | "epsg:4326" => Some(Self::Wgs84),
            "gcj02" | "gcj-02" => Some(Self::Gcj02),
            "bd09" | "bd-09" => Some(Self::Bd09),
            _ => None,
        }
    }

    /// Converts (lon, lat) in this datum to WGS84.
    pub fn to_wgs84(self, lon: f64, lat: f64) -> (f64, f64) {
        match self {
            Self::Wgs84 => (lon, lat),
            Self::Gcj02 => gcj02_to_wgs84(lon, lat),
            Self::Bd09 => {
                let (glon, glat) = bd09_to_gcj02(lon, lat);
                gcj02_to_wgs84(glon, glat)
            }
        }
    }
}

const KRASOVSKY_A: f64 = 6_378_245.0;
const KRASOVSKY_E2: f64 = 0.006_693_421_622_965_943;
const BD_FACTOR: f64 = PI * 3000.0 / 180.0;

fn outside_china(lon: f64, lat: f64) -> bool {
    !(72.004..=137.8347).contains(&lon) || !(0.8293..=55.8271).contains(&lat)
}

fn offset_lat(x: f64, y: f64) -> f64 {
    -100.0
        + 2.0 * x
        + 3.0 * y
        + 0.2 * y * y
        + 0.1 * x * y
        + 0.2 * x.abs().sqrt()
        + (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0
        + (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0
        + (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0
}

fn offset_lon(x: f64, y: f64) -> f64 {
    300.0
        + x
        + 2.0 * y
        + 0.1 * x * x
        + 0.1 * x * y
        + 0.1 * x.abs().sqrt()
        + (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0
        + (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0
        + (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0
}

/// WGS84 → GCJ-02.
///
/// # Examples
/// ```
/// use civmap::crs::{gcj02_to_wgs84, wgs84_to_gcj02};
/// let (glon, glat) = wgs84_to_gcj02(116.7000, 39.5200);
/// assert!((glon - 116.7000).abs() > 0.004); // a few hundred metres off
/// let (lon, lat) = gcj02_to_wgs84(glon, glat);
/// assert!((lon - 116.7).abs() < 1e-7 && (lat - 39.52).abs() < 1e-7);
/// ```
pub fn wgs84_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    if outside_china(lon, lat) {
        return (lon, lat);
    }
    let (x, y) = (lon - 105.0, lat - 35.0);
    let rad_lat = lat.to_radians();
    let magic = 1.0 - KRASOVSKY_E2 * rad_lat.sin().powi(2);
    let sqrt_magic = magic.sqrt();
    let d_lat = offset_lat(x, y) * 180.0
        / ((KRASOVSKY_A * (1.0 - KRASOVSKY_E2)) / (magic * sqrt_magic) * PI);
    let d_lon = offset_lon(x, y) * 180.0 / (KRASOVSKY_A / sqrt_magic * rad_lat.cos() * PI);
    (lon + d_lon, lat + d_lat)
}

/// GCJ-02 → WGS84 by iterating the forward offset.
pub fn gcj02_to_wgs84(lon: f64, lat: f64) -> (f64, f64) {
    if outside_china(lon, lat) {
        return (lon, lat);
    }
    let (mut wlon, mut wlat) = (lon, lat);
    for _ in 0..30 {
        let (glon, glat) = wgs84_to_gcj02(wlon, wlat);
        let (dlon, dlat) = (glon - lon, glat - lat);
        wlon -= dlon;
        wlat -= dlat;
        if dlon.abs() < 1e-9 && dlat.abs() < 1e-9 {
            break;
        }
    }
    (wlon, wlat)
}

/// GCJ-02 → BD-09.
pub fn gcj02_to_bd09(lon: f64, lat: f64) -> (f64, f64) {
    let z = (lon * lon + lat * lat).sqrt() + 0.00002 * (lat * BD_FACTOR).sin();
    let theta = lat.atan2(lon) + 0.000003 * (lon * BD_FACTOR).cos();
    (z * theta.cos() + 0.0065, z * theta.sin() + 0.006)
}

/// BD-09 → GCJ-02: the usual closed-form approximation (≈ 10 cm off), refined by iterating the
/// forward formula to the centimetre.
pub fn bd09_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    let (x, y) = (lon - 0.0065, lat - 0.006);
    let z = (x * x + y * y).sqrt() - 0.00002 * (y * BD_FACTOR).sin();
    let theta = y.atan2(x) - 0.000003 * (x * BD_FACTOR).cos();
    let (mut glon, mut glat) = (z * theta.cos(), z * theta.sin());
    for _ in 0..10 {
        let (blon, blat) = gcj02_to_bd09(glon, glat);
        let (dlon, dlat) = (blon - lon, blat - lat);
        glon -= dlon;
        glat -= dlat;
        if dlon.abs() < 1e-10 && dlat.abs() < 1e-10 {
            break;
        }
    }
    (glon, glat)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::distance_m;

    #[test]
    fn gcj02_in_langfang_is_a_few_hundred_metres_off_and_inverts_to_the_centimetre() {
        for (lon, lat) in [
            (116.6790, 39.5119),
            (116.7018, 39.5211),
            (116.7544, 39.5666),
        ] {
            let gcj = wgs84_to_gcj02(lon, lat);
            let offset = distance_m((lon, lat), gcj);
            assert!((200.0..800.0).contains(&offset), "offset {offset} m");
            let back = InputCrs::Gcj02.to_wgs84(gcj.0, gcj.1);
            assert!(distance_m((lon, lat), back) < 0.01);
        }
    }

    #[test]
    fn bd09_round_trips_through_gcj02() {
        let (lon, lat) = (116.7018, 39.5211);
        let gcj = wgs84_to_gcj02(lon, lat);
        let bd = gcj02_to_bd09(gcj.0, gcj.1);
        assert!(distance_m(gcj, bd) > 500.0);
        let back = InputCrs::Bd09.to_wgs84(bd.0, bd.1);
        assert!(distance_m((lon, lat), back) < 0.05, "{back:?}");
    }

    #[test]
    fn outside_china_nothing_is_shifted() {
        assert_eq!(wgs84_to_gcj02(2.35, 48.85), (2.35, 48.85));
        assert_eq!(InputCrs::Gcj02.to_wgs84(2.35, 48.85), (2.35, 48.85));
    }
}
