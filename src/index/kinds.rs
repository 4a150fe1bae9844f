//! Kind masks and the tree's envelope: a plane AABB (metres) plus the set of kinds below it.
//!
//! rstar merges child envelopes into their parent's when it bulk-loads, so giving the envelope a
//! kind mask makes every node of the one combined tree know which kinds its subtree holds, and a
//! query for some kinds skips whole subtrees without them, with no structure beside the tree.

use rstar::{AABB, Envelope, RTreeObject};

/// Kinds at positions from this one up share the last bit: their subtrees are pruned less
/// sharply, and their leaves are checked against the exact list ([`KindFilter::admits`]).
const SHARED_BIT: usize = 63;

/// A set of kind positions, one bit each (positions ≥ 63 share bit 63).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KindMask(u64);

impl KindMask {
    pub fn of(kind: usize) -> Self {
        Self(1 << kind.min(SHARED_BIT))
    }

    fn meets(self, other: Self) -> bool {
        self.0 & other.0 != 0
    }
}

/// The kinds a query looks at, as a mask for pruning plus the exact list for leaves.
pub struct KindFilter<'a> {
    mask: KindMask,
    exact: &'a [usize],
}

impl<'a> KindFilter<'a> {
    pub fn new(kinds: &'a [usize]) -> Self {
        let mask = kinds.iter().fold(KindMask::default(), |m, &k| {
            KindMask(m.0 | KindMask::of(k).0)
        });
        Self { mask, exact: kinds }
    }

    /// Whether a subtree holding `kinds` may hold something of interest.
    pub fn meets(&self, kinds: KindMask) -> bool {
        self.mask.meets(kinds)
    }

    /// Whether an entry of kind position `kind` is of interest.
    pub fn admits(&self, kind: u32) -> bool {
        let kind = kind as usize;
        self.mask.meets(KindMask::of(kind)) && (kind < SHARED_BIT || self.exact.contains(&kind))
    }
}

/// The envelope of a tree node or entry: its box in the plane and the kinds inside.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KindEnvelope {
    pub aabb: AABB<[f64; 2]>,
    pub kinds: KindMask,
}

impl KindEnvelope {
    /// Squared plane distance from `p` to the box (0 inside); rstar's generic version does the
    /// same work but does not inline in the hot loop.
    #[inline]
    pub fn distance_2_to(&self, p: [f64; 2]) -> f64 {
        let (lo, hi) = (self.aabb.lower(), self.aabb.upper());
        let dx = (lo[0] - p[0]).max(p[0] - hi[0]).max(0.0);
        let dy = (lo[1] - p[1]).max(p[1] - hi[1]).max(0.0);
        dx * dx + dy * dy
    }
}

/// Everything but the kind mask is the AABB's: the tree is shaped exactly as a plain one would be.
impl Envelope for KindEnvelope {
    type Point = [f64; 2];

    fn new_empty() -> Self {
        Self {
            aabb: AABB::new_empty(),
            kinds: KindMask::default(),
        }
    }

    fn contains_point(&self, point: &[f64; 2]) -> bool {
        self.aabb.contains_point(point)
    }

    fn contains_envelope(&self, other: &Self) -> bool {
        self.aabb.contains_envelope(&other.aabb)
    }

    fn merge(&mut self, other: &Self) {
        self.aabb.merge(&other.aabb);
        self.kinds = KindMask(self.kinds.0 | other.kinds.0);
    }

    fn merged(&self, other: &Self) -> Self {
        let mut merged = *self;
        merged.merge(other);
        merged
    }

    /// Boxes meet and share a kind: a query envelope carrying the wanted kinds makes rstar's own
    /// `locate_in_envelope_intersecting` prune by kind.
    fn intersects(&self, other: &Self) -> bool {
        self.kinds.meets(other.kinds) && self.aabb.intersects(&other.aabb)
    }

    fn intersection_area(&self, other: &Self) -> f64 {
        self.aabb.intersection_area(&other.aabb)
    }

    fn area(&self) -> f64 {
        self.aabb.area()
    }

    fn distance_2(&self, point: &[f64; 2]) -> f64 {
        self.distance_2_to(*point)
    }

    fn min_max_dist_2(&self, point: &[f64; 2]) -> f64 {
        self.aabb.min_max_dist_2(point)
    }

    fn center(&self) -> [f64; 2] {
        self.aabb.center()
    }

    fn perimeter_value(&self) -> f64 {
        self.aabb.perimeter_value()
    }

    fn sort_envelopes<T: RTreeObject<Envelope = Self>>(axis: usize, envelopes: &mut [T]) {
        envelopes.sort_unstable_by(|a, b| lower(a, axis).total_cmp(&lower(b, axis)));
    }

    fn partition_envelopes<T: RTreeObject<Envelope = Self>>(
        axis: usize,
        envelopes: &mut [T],
        selection_size: usize,
    ) {
        envelopes.select_nth_unstable_by(selection_size, |a, b| {
            lower(a, axis).total_cmp(&lower(b, axis))
        });
    }
}

/// The lower bound of an object's box along `axis` (what rstar's AABB sorts by).
fn lower<T: RTreeObject<Envelope = KindEnvelope>>(object: &T, axis: usize) -> f64 {
    object.envelope().aabb.lower()[axis]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_from_63_up_share_a_bit_but_leaves_are_told_apart() {
        let wanted = [2, 70];
        let filter = KindFilter::new(&wanted);
        assert!(filter.admits(2) && filter.admits(70));
        assert!(!filter.admits(3) && !filter.admits(64));
        assert!(
            filter.meets(KindMask::of(64)),
            "a subtree of kind 64 may hold kind 70"
        );
        assert!(!KindFilter::new(&[1]).meets(KindMask::of(70)));
    }

    #[test]
    fn merging_envelopes_unites_boxes_and_kinds() {
        let a = KindEnvelope {
            aabb: AABB::from_corners([0.0, 0.0], [1.0, 1.0]),
            kinds: KindMask::of(1),
        };
        let b = KindEnvelope {
            aabb: AABB::from_corners([2.0, -1.0], [3.0, 0.5]),
            kinds: KindMask::of(4),
        };
        let m = a.merged(&b);
        assert_eq!(m.aabb, AABB::from_corners([0.0, -1.0], [3.0, 1.0]));
        assert!(m.kinds.meets(KindMask::of(1)) && m.kinds.meets(KindMask::of(4)));
        assert_eq!(m.distance_2_to([4.0, 0.0]), 1.0);
        assert!(!a.intersects(&KindEnvelope {
            kinds: KindMask::of(2),
            ..a
        }));
    }
}
