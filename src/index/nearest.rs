//! The k-nearest search: depth-first branch and bound over rstar's nodes, in the plane.
//!
//! Why not rstar's own `nearest_neighbor_iter`: it has one tree per call (so several kinds meant
//! several descents), keys every child on a heap, and computes polygons' exact distances even for
//! entries it never reaches. Here one descent serves every kind: children whose kind mask misses
//! the query, or whose box lies beyond the current window, are skipped; the rest are visited
//! nearest first, so the window tightens early.
//!
//! The plane only gathers candidates. The window keeps every part whose plane distance could,
//! given [`PLANE_SLACK`], still be within the k-th answer on the ellipsoid; the caller measures
//! those on the ellipsoid and decides.

use std::cell::RefCell;

use rstar::{ParentNode, RTreeNode};

use super::kinds::KindFilter;
use super::{IndexedAsset, PLANE_SLACK, dist2};

/// Children per node that fit the on-stack bound buffer. rstar's bulk load packs up to
/// ⌈√MAX_SIZE⌉² children in a node (16 with our parameters); a larger node takes a heap buffer.
const STACK_FANOUT: usize = 32;

/// A part of an asset within the window: its plane distance² and closest point to the query.
#[derive(Debug, Clone, Copy)]
pub struct Part {
    pub d2: f64,
    pub asset: u32,
    pub closest: [f64; 2],
}

/// Per-thread buffers, reused so that a query allocates nothing but its answer.
#[derive(Default)]
struct Scratch {
    leaders: Vec<(f64, u32)>,
    parts: Vec<Part>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Runs a search for the `k` nearest assets of `kinds` to plane point `q` below `root`, then
/// hands the parts within the final window to `finish`.
pub fn with_candidates<R>(
    root: &ParentNode<IndexedAsset>,
    q: [f64; 2],
    kinds: &KindFilter,
    k: usize,
    finish: impl FnOnce(&[Part]) -> R,
) -> R {
    SCRATCH.with(|scratch| {
        let scratch = &mut *scratch.borrow_mut();
        scratch.leaders.clear();
        scratch.parts.clear();
        let mut search = Search {
            q,
            kinds,
            k,
            leaders: &mut scratch.leaders,
            parts: &mut scratch.parts,
            window2: f64::MAX,
        };
        search.visit(root);
        let window2 = search.window2;
        scratch.parts.retain(|p| p.d2 <= window2);
        finish(&scratch.parts)
    })
}

struct Search<'a> {
    q: [f64; 2],
    kinds: &'a KindFilter<'a>,
    k: usize,
    /// The nearest distinct assets so far (at most k), by their nearest part's plane distance².
    leaders: &'a mut Vec<(f64, u32)>,
    /// Every part offered within the window at the time.
    parts: &'a mut Vec<Part>,
    /// Plane distance² beyond which nothing can make the answer; `f64::MAX` until k assets are
    /// known, so that excluded children (at `f64::INFINITY`) always stay out.
    window2: f64,
}

impl Search<'_> {
    fn visit(&mut self, node: &ParentNode<IndexedAsset>) {
        let children = node.children();
        let mut on_stack = [f64::INFINITY; STACK_FANOUT];
        let mut on_heap = Vec::new();
        let bounds = if children.len() <= STACK_FANOUT {
            &mut on_stack[..children.len()]
        } else {
            on_heap.resize(children.len(), f64::INFINITY);
            &mut on_heap[..]
        };
        for (bound, child) in bounds.iter_mut().zip(children) {
            *bound = self.lower_bound2(child);
        }
        // Nearest child first: the first leaves reached set a tight window for the rest.
        while let Some(i) = nearest_within(bounds, self.window2) {
            bounds[i] = f64::INFINITY;
            match &children[i] {
                RTreeNode::Parent(parent) => self.visit(parent),
                RTreeNode::Leaf(entry) => self.offer(entry),
            }
        }
    }

    /// Squared plane distance no part below `child` can beat; infinite when its kinds are not
    /// wanted. Points and segments are exact; polygons use their box until reached.
    fn lower_bound2(&self, child: &RTreeNode<IndexedAsset>) -> f64 {
        match child {
            RTreeNode::Parent(parent) => {
                let envelope = parent.envelope();
                if self.kinds.meets(envelope.kinds) {
                    envelope.distance_2_to(self.q)
                } else {
                    f64::INFINITY
                }
            }
            RTreeNode::Leaf(entry) if self.kinds.admits(entry.kind) => entry.lower_bound2(self.q),
            RTreeNode::Leaf(_) => f64::INFINITY,
        }
    }

    fn offer(&mut self, entry: &IndexedAsset) {
        let closest = entry.closest_point(self.q);
        let d2 = dist2(closest, self.q);
        if d2 > self.window2 {
            return;
        }
        self.parts.push(Part {
            d2,
            asset: entry.asset,
            closest,
        });
        self.lead(d2, entry.asset);
    }

    /// Records `asset` at plane distance² `d2` among the leaders, and narrows the window once
    /// there are k of them.
    fn lead(&mut self, d2: f64, asset: u32) {
        if let Some(at) = self.leaders.iter().position(|l| l.1 == asset) {
            if self.leaders[at].0 <= d2 {
                return;
            }
            self.leaders.remove(at);
        }
        let at = self.leaders.partition_point(|l| l.0 <= d2);
        if at < self.k {
            self.leaders.insert(at, (d2, asset));
            self.leaders.truncate(self.k);
        }
        if self.leaders.len() == self.k {
            let window = window_m(self.leaders[self.k - 1].0.sqrt());
            self.window2 = window * window;
        }
    }
}

/// The plane distance within which a part may still be at least as near on the ellipsoid as an
/// asset `kth_plane_m` away in the plane: that asset is at most `kth·(1+s)` away on the
/// ellipsoid, and a part `d` away in the plane at least `d·(1−s)`; 1 cm more keeps near-ties.
fn window_m(kth_plane_m: f64) -> f64 {
    (kth_plane_m * (1.0 + PLANE_SLACK) + 0.01) / (1.0 - PLANE_SLACK)
}

/// Position of the smallest bound, if it is within `window2`.
fn nearest_within(bounds: &[f64], window2: f64) -> Option<usize> {
    let mut best = (f64::INFINITY, 0);
    for (i, &b) in bounds.iter().enumerate() {
        if b < best.0 {
            best = (b, i);
        }
    }
    (best.0 <= window2).then_some(best.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_is_never_narrower_than_the_kth_distance_plus_the_slack() {
        for d in [0.0, 1.0, 50.0, 5_000.0] {
            let w = window_m(d);
            assert!(w >= d * (1.0 + 2.0 * PLANE_SLACK) + 0.01);
            assert!(w <= d * (1.0 + 2.1 * PLANE_SLACK) + 0.011);
        }
    }

    #[test]
    fn nearest_within_skips_what_is_out_of_the_window() {
        assert_eq!(nearest_within(&[3.0, 1.0, 2.0], 5.0), Some(1));
        assert_eq!(nearest_within(&[3.0, 1.0, 2.0], 0.5), None);
        assert_eq!(nearest_within(&[f64::INFINITY], f64::MAX), None);
        assert_eq!(nearest_within(&[], f64::MAX), None);
    }
}
