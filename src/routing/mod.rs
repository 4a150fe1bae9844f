//! Routes and patrol plans over the road network: the `road` and `back_alley` layers noded
//! into a graph ([`RoadGraph`]), a contraction hierarchy per travel mode, point-to-point routes,
//! patrol orders (晨巡) and reproducible random inspection samples (随机点位).
//!
//! Units and CRS: WGS84 lon/lat in and out (RFC 7946); lengths in metres on the WGS84
//! ellipsoid ([`crate::index::distance_m`]); durations in seconds. Noding and snapping work in
//! a [`crate::index::LocalProjection`] (metres). Search weights are whole millimetres (walking)
//! or milliseconds (driving), so every engine — hierarchy, plain Dijkstra, pgRouting — sums a
//! path's weights to exactly the same cost.

mod ch;
mod dijkstra;
mod graph;
mod patrol;
mod route;
mod samples;

pub use graph::{Edge, NETWORK_KINDS, Road, RoadClass, RoadGraph, Snap};
pub use patrol::{
    EXACT_UP_TO, MAX_STOPS, Method, PatrolPlan, StopPoint, StopRef, UNREACHABLE, Visit,
    exact_order, heuristic_order, representative_point, resolve_stops, tour_cost,
};
pub use route::{Engine, Leg, MAX_SNAP_M, Route, Snapped};
pub use samples::{MAX_SAMPLE, Sample, SampleQuery, sample};

/// How the patrol travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Mode {
    /// 5 km/h on every road and alley, both ways.
    #[default]
    Walk,
    /// By class: main 40, secondary 30, alley 15 km/h; one-way roads only as digitised.
    Drive,
}

/// Walking speed, km/h.
pub const WALK_KMH: f64 = 5.0;
/// Driving speeds by road class, km/h.
pub const DRIVE_MAIN_KMH: f64 = 40.0;
pub const DRIVE_SECONDARY_KMH: f64 = 30.0;
pub const DRIVE_ALLEY_KMH: f64 = 15.0;

impl Mode {
    /// Parses `walk` or `drive` (any case).
    ///
    /// # Examples
    /// ```
    /// use civmap::routing::Mode;
    /// assert_eq!(Mode::parse("Drive"), Some(Mode::Drive));
    /// assert_eq!(Mode::parse("fly"), None);
    /// ```
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "walk" => Some(Self::Walk),
            "drive" => Some(Self::Drive),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Walk => "walk",
            Self::Drive => "drive",
        }
    }

    /// Travel speed on a road of `class`, km/h.
    ///
    /// # Examples
    /// ```
    /// use civmap::routing::{Mode, RoadClass};
    /// assert_eq!(Mode::Walk.speed_kmh(RoadClass::Main), 5.0);
    /// assert_eq!(Mode::Drive.speed_kmh(RoadClass::Alley), 15.0);
    /// ```
    pub fn speed_kmh(self, class: RoadClass) -> f64 {
        match (self, class) {
            (Self::Walk, _) => WALK_KMH,
            (Self::Drive, RoadClass::Main) => DRIVE_MAIN_KMH,
            (Self::Drive, RoadClass::Secondary) => DRIVE_SECONDARY_KMH,
            (Self::Drive, RoadClass::Alley) => DRIVE_ALLEY_KMH,
        }
    }

    /// The unit of this mode's search weights and costs.
    pub fn cost_unit(self) -> &'static str {
        match self {
            Self::Walk => "mm",
            Self::Drive => "ms",
        }
    }

    fn index(self) -> usize {
        match self {
            Self::Walk => 0,
            Self::Drive => 1,
        }
    }
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a route, plan or sample cannot be given.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RoutingError {
    #[error("the city has no roads or alleys to route on")]
    NoRoads,
    #[error(
        "{what} ({lon}, {lat}) is {distance_m:.0} m from the nearest road or alley; points must be within {limit_m:.0} m"
    )]
    TooFarFromRoad {
        what: String,
        lon: f64,
        lat: f64,
        distance_m: f64,
        limit_m: f64,
    },
    #[error("no {mode} route from {from} to {to} (one-way roads or a disconnected network)")]
    Unreachable {
        mode: Mode,
        from: String,
        to: String,
    },
    #[error("unknown asset id {0:?}")]
    UnknownAsset(String),
    #[error("a patrol takes at most {max} stops; {given} were given")]
    TooManyStops { given: usize, max: usize },
    #[error("a patrol needs at least one stop")]
    NoStops,
    #[error("unknown asset kind {0:?}")]
    UnknownKind(String),
    #[error("no assets in a district named {0:?}")]
    UnknownDistrict(String),
    #[error("{0}")]
    Invalid(String),
}

/// Whether `p` is a finite lon in [-180, 180] and lat in [-90, 90].
fn valid_lon_lat(p: [f64; 2]) -> bool {
    p[0].is_finite()
        && p[1].is_finite()
        && (-180.0..=180.0).contains(&p[0])
        && (-90.0..=90.0).contains(&p[1])
}

/// splitmix64: small, fast, reproducible (samples and the patrol heuristic's restarts).
struct SplitMix64(u64);

impl SplitMix64 {
    fn new(seed: u64) -> Self {
        Self(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }
}
