//! Random inspection points (随机点位): `n` assets of chosen kinds, optionally in one district,
//! drawn without replacement from a seed, so the same seed on the same data gives the same
//! sample. The drawn assets' ids can be posted as patrol stops as they are.

use super::{RoutingError, SplitMix64};
use crate::layers::Layers;

/// The most assets one sample draws.
pub const MAX_SAMPLE: usize = 200;
/// The kind never drawn unless asked for: districts are areas, not inspection points.
const AREA_KIND: &str = "district";

/// What to draw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleQuery {
    /// Kinds to draw from; every kind but `district` when empty.
    pub kinds: Vec<String>,
    /// Only assets of this district (the `district` property of assets).
    pub district: Option<String>,
    pub n: usize,
    pub seed: u64,
}

/// The drawn assets (positions in [`Layers::assets`], in draw order) and how many could have
/// been drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    pub assets: Vec<usize>,
    pub number_matched: usize,
}

/// Draws a sample of `query.n` assets (fewer when fewer match).
///
/// # Examples
/// ```
/// use civmap::layers::Layers;
/// use civmap::model::{Asset, Catalogue};
/// use civmap::routing::{SampleQuery, sample};
/// use geo::{Geometry, Point};
///
/// let stops: Vec<Asset> = (0..20)
///     .map(|i| Asset {
///         id: format!("stop-{i}"),
///         kind: "bus_stop".into(),
///         name: format!("站{i}"),
///         district: Some("广阳区".into()),
///         unit: None,
///         properties: Default::default(),
///         geometry: Geometry::Point(Point::new(116.7 + i as f64 * 0.001, 39.52)),
///     })
///     .collect();
/// let layers = Layers::build(Catalogue::builtin(), stops);
/// let query = SampleQuery { kinds: vec!["bus_stop".into()], district: None, n: 5, seed: 42 };
/// let first = sample(&layers, &query).unwrap();
/// assert_eq!(first.assets.len(), 5);
/// assert_eq!(first, sample(&layers, &query).unwrap()); // same seed, same sample
/// ```
pub fn sample(layers: &Layers, query: &SampleQuery) -> Result<Sample, RoutingError> {
    let catalogue = layers.catalogue();
    let kinds: Vec<&str> = if query.kinds.is_empty() {
        catalogue
            .kinds
            .iter()
            .map(|k| k.kind.as_str())
            .filter(|k| *k != AREA_KIND)
            .collect()
    } else {
        query
            .kinds
            .iter()
            .map(|k| {
                catalogue
                    .get(k)
                    .map(|spec| spec.kind.as_str())
                    .ok_or_else(|| RoutingError::UnknownKind(k.clone()))
            })
            .collect::<Result<_, _>>()?
    };
    if let Some(district) = &query.district {
        let known = layers.assets().iter().any(|a| {
            a.district.as_ref() == Some(district) || (a.kind == AREA_KIND && &a.name == district)
        });
        if !known {
            return Err(RoutingError::UnknownDistrict(district.clone()));
        }
    }
    let mut pool: Vec<usize> = layers
        .assets()
        .iter()
        .enumerate()
        .filter(|(_, a)| {
            kinds.contains(&a.kind.as_str())
                && query
                    .district
                    .as_ref()
                    .is_none_or(|d| a.district.as_ref() == Some(d))
        })
        .map(|(i, _)| i)
        .collect();
    let number_matched = pool.len();
    let n = query.n.min(pool.len());
    let mut rng = SplitMix64::new(query.seed);
    for i in 0..n {
        let j = i + rng.below(pool.len() - i);
        pool.swap(i, j);
    }
    pool.truncate(n);
    Ok(Sample {
        assets: pool,
        number_matched,
    })
}
