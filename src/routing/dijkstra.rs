//! Plain Dijkstra over one travel mode's directed graph, with no preprocessing: the reference
//! the contraction hierarchy (and pgRouting) is checked against. Weights are whole units
//! (millimetres or milliseconds, see [`super::Mode`]).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::ch::{INF, InputArc, Path};

const NONE: u32 = u32::MAX;

/// Outgoing arcs per node, in compressed rows: (head, weight, `edge << 1 | reversed`).
pub(crate) struct Adjacency {
    first: Vec<u32>,
    arcs: Vec<(u32, u32, u32)>,
}

impl Adjacency {
    pub fn build(n: usize, input: &[InputArc]) -> Self {
        let mut count = vec![0u32; n + 1];
        for a in input {
            count[a.tail as usize + 1] += 1;
        }
        for i in 0..n {
            count[i + 1] += count[i];
        }
        let mut fill = count.clone();
        let mut arcs = vec![(0, 0, 0); input.len()];
        for a in input {
            let slot = &mut fill[a.tail as usize];
            arcs[*slot as usize] = (a.head, a.weight, a.edge_dir);
            *slot += 1;
        }
        Self { first: count, arcs }
    }

    fn node_count(&self) -> usize {
        self.first.len() - 1
    }

    /// The cheapest path from any `(node, initial cost)` of `sources` to any `(node, final
    /// cost)` of `targets`, costs included.
    pub fn shortest(&self, sources: &[(u32, u32)], targets: &[(u32, u32)]) -> Option<Path> {
        let n = self.node_count();
        let mut dist = vec![INF; n];
        let mut parent = vec![(NONE, NONE); n];
        let mut heap = BinaryHeap::new();
        for &(s, c) in sources {
            if c < dist[s as usize] {
                dist[s as usize] = c;
                heap.push(Reverse((c, s)));
            }
        }
        let mut best = INF;
        let mut end = NONE;
        while let Some(Reverse((d, v))) = heap.pop() {
            if d >= best {
                break;
            }
            if d > dist[v as usize] {
                continue;
            }
            for &(t, c) in targets {
                if t == v && d.saturating_add(c) < best {
                    best = d.saturating_add(c);
                    end = v;
                }
            }
            let range = self.first[v as usize] as usize..self.first[v as usize + 1] as usize;
            for &(head, weight, edge_dir) in &self.arcs[range] {
                let nd = d.saturating_add(weight);
                if nd < dist[head as usize] {
                    dist[head as usize] = nd;
                    parent[head as usize] = (v, edge_dir);
                    heap.push(Reverse((nd, head)));
                }
            }
        }
        if end == NONE {
            return None;
        }
        let mut edge_dirs = Vec::new();
        let mut v = end;
        while parent[v as usize].0 != NONE {
            let (prev, edge_dir) = parent[v as usize];
            edge_dirs.push(edge_dir);
            v = prev;
        }
        edge_dirs.reverse();
        Some(Path {
            cost: best,
            start: v,
            end,
            edge_dirs,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arc(tail: u32, head: u32, weight: u32, edge: u32) -> InputArc {
        InputArc {
            tail,
            head,
            weight,
            edge_dir: edge << 1,
        }
    }

    #[test]
    fn initial_and_final_costs_choose_the_cheaper_ends() {
        // 0 → 1 → 2 costs 20; entering at 1 costs 15 but leaving at 2 costs 1 more than at 1.
        let adjacency = Adjacency::build(3, &[arc(0, 1, 10, 0), arc(1, 2, 10, 1)]);
        let path = adjacency
            .shortest(&[(0, 0), (1, 15)], &[(2, 0), (1, 9)])
            .unwrap();
        assert_eq!((path.cost, path.start, path.end), (19, 0, 1));
        assert_eq!(path.edge_dirs, [0]);
    }

    #[test]
    fn a_target_behind_a_one_way_arc_is_unreachable() {
        let adjacency = Adjacency::build(2, &[arc(0, 1, 10, 0)]);
        assert!(adjacency.shortest(&[(1, 0)], &[(0, 0)]).is_none());
    }
}
