//! Contraction hierarchies over one travel mode's directed graph: node ordering by edge
//! difference with lazy updates, witness searches bounded by settled nodes, bidirectional upward
//! queries with stall-on-demand, bucket-based many-to-many tables and shortcut unpacking.
//!
//! Nodes are dense `u32` ids (renumbered inside, most important first, for memory locality);
//! weights are whole units (millimetres or milliseconds, see [`super::Mode`]), so every path
//! cost is an exact integer sum whatever order it is added in.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Mutex;

/// Distance of a node not reached.
pub(crate) const INF: u32 = u32::MAX;
/// "No node" / "original arc" marker.
const NONE: u32 = u32::MAX;
/// Witness searches while contracting give up after settling this many nodes (a missed witness
/// costs a superfluous shortcut, never a wrong answer).
const WITNESS_SETTLED_LIMIT: usize = 400;
/// The same limit while estimating a node's priority.
const SIMULATION_SETTLED_LIMIT: usize = 100;

/// An arc of the input graph: `tail → head`, its weight, and the edge it follows
/// (`edge << 1 | reversed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InputArc {
    pub tail: u32,
    pub head: u32,
    pub weight: u32,
    pub edge_dir: u32,
}

/// An arc of the hierarchy as the searches see it: the node at its other end and its weight.
/// How to unpack it is kept apart ([`Unpack`]) so that searches read 8 bytes per arc.
#[derive(Debug, Clone, Copy)]
struct Arc {
    other: u32,
    weight: u32,
}

/// How an arc unpacks. An original arc has `first == NONE` and follows `second` (`edge << 1 |
/// reversed`); a shortcut `tail → head` past a contracted node `m` is `down[first]` (`tail →
/// m`) followed by `up[second]` (`m → head`).
#[derive(Debug, Clone, Copy)]
struct Unpack {
    first: u32,
    second: u32,
}

/// A shortest path found by a query: its cost, end nodes and the original arcs it follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Path {
    pub cost: u32,
    pub start: u32,
    pub end: u32,
    /// `edge << 1 | reversed`, from start to end.
    pub edge_dirs: Vec<u32>,
}

/// The preprocessed hierarchy of one mode. Internally nodes are numbered by importance, most
/// important first, so that the nodes every query visits sit together in memory.
pub(crate) struct Ch {
    n: usize,
    /// Graph node id → internal id, and back.
    internal: Vec<u32>,
    external: Vec<u32>,
    /// `up[u]`: arcs `u → other` to more important nodes.
    up_first: Vec<u32>,
    up: Vec<Arc>,
    up_unpack: Vec<Unpack>,
    /// `down[v]`: arcs `other → v` from more important nodes.
    down_first: Vec<u32>,
    down: Vec<Arc>,
    down_unpack: Vec<Unpack>,
    shortcuts: usize,
    pool: Mutex<Vec<Workspace>>,
}

const FORWARD: usize = 0;
const BACKWARD: usize = 1;

/// Per-query scratch space, reused through a pool so that a query touches only what it visits.
struct Workspace {
    /// Per node: (distance, index of the arc it was reached by: in `up` forward, in `down`
    /// backward; `NONE` for a seed).
    state: [Vec<(u32, u32)>; 2],
    touched: [Vec<u32>; 2],
    heap: [IndexedHeap; 2],
    bucket_head: Vec<u32>,
    bucket_touched: Vec<u32>,
    /// (target column, distance to it, next entry) lists threaded through `bucket_head`.
    buckets: Vec<(u32, u32, u32)>,
}

impl Workspace {
    fn new(n: usize) -> Self {
        Self {
            state: [vec![(INF, NONE); n], vec![(INF, NONE); n]],
            touched: [Vec::new(), Vec::new()],
            heap: [IndexedHeap::new(n), IndexedHeap::new(n)],
            bucket_head: vec![NONE; n],
            bucket_touched: Vec::new(),
            buckets: Vec::new(),
        }
    }

    fn reset(&mut self, dir: usize) {
        for &v in &self.touched[dir] {
            self.state[dir][v as usize] = (INF, NONE);
        }
        self.touched[dir].clear();
        self.heap[dir].clear();
    }

    fn reset_buckets(&mut self) {
        for &v in &self.bucket_touched {
            self.bucket_head[v as usize] = NONE;
        }
        self.bucket_touched.clear();
        self.buckets.clear();
    }

    /// Seeds direction `dir` with (internal node, cost) pairs.
    fn seed(&mut self, dir: usize, from: impl IntoIterator<Item = (u32, u32)>) {
        for (node, cost) in from {
            let v = node as usize;
            if cost < self.state[dir][v].0 {
                if self.state[dir][v].0 == INF {
                    self.touched[dir].push(node);
                }
                self.state[dir][v] = (cost, NONE);
                self.heap[dir].push_or_decrease(node, cost);
            }
        }
    }
}

/// A binary min-heap of nodes keyed by distance, with decrease-key: each node is in it at most
/// once.
struct IndexedHeap {
    items: Vec<(u32, u32)>,
    /// Position of each node in `items`, `NONE` when absent.
    position: Vec<u32>,
}

impl IndexedHeap {
    fn new(n: usize) -> Self {
        Self {
            items: Vec::new(),
            position: vec![NONE; n],
        }
    }

    fn clear(&mut self) {
        for &(_, v) in &self.items {
            self.position[v as usize] = NONE;
        }
        self.items.clear();
    }

    fn min_key(&self) -> Option<u32> {
        self.items.first().map(|i| i.0)
    }

    fn push_or_decrease(&mut self, node: u32, key: u32) {
        let at = match self.position[node as usize] {
            NONE => {
                self.items.push((key, node));
                self.items.len() - 1
            }
            p => {
                let p = p as usize;
                if key >= self.items[p].0 {
                    return;
                }
                self.items[p].0 = key;
                p
            }
        };
        self.sift_up(at);
    }

    fn pop(&mut self) -> Option<(u32, u32)> {
        let last = self.items.pop()?;
        let top = if self.items.is_empty() {
            last
        } else {
            let top = std::mem::replace(&mut self.items[0], last);
            self.sift_down(0);
            top
        };
        self.position[top.1 as usize] = NONE;
        Some(top)
    }

    fn sift_up(&mut self, mut at: usize) {
        let item = self.items[at];
        while at > 0 {
            let parent = (at - 1) / 2;
            if self.items[parent].0 <= item.0 {
                break;
            }
            self.items[at] = self.items[parent];
            self.position[self.items[at].1 as usize] = at as u32;
            at = parent;
        }
        self.items[at] = item;
        self.position[item.1 as usize] = at as u32;
    }

    fn sift_down(&mut self, mut at: usize) {
        let item = self.items[at];
        let len = self.items.len();
        loop {
            let left = 2 * at + 1;
            if left >= len {
                break;
            }
            let right = left + 1;
            let child = if right < len && self.items[right].0 < self.items[left].0 {
                right
            } else {
                left
            };
            if self.items[child].0 >= item.0 {
                break;
            }
            self.items[at] = self.items[child];
            self.position[self.items[at].1 as usize] = at as u32;
            at = child;
        }
        self.items[at] = item;
        self.position[item.1 as usize] = at as u32;
    }
}

impl Ch {
    /// Contracts the graph of `n` nodes with `arcs` (self-loops are dropped, parallel arcs keep
    /// the lightest).
    pub fn build(n: usize, arcs: &[InputArc]) -> Self {
        let mut builder = Builder::new(n, arcs);
        let order = builder.contract_all();
        // Most important (contracted last) first.
        let external: Vec<u32> = order.iter().rev().copied().collect();
        let mut internal = vec![0u32; n];
        for (i, &v) in external.iter().enumerate() {
            internal[v as usize] = i as u32;
        }
        let relabel = |lists: &mut Vec<Vec<BuildArc>>| -> Vec<Vec<BuildArc>> {
            external
                .iter()
                .map(|&v| {
                    std::mem::take(&mut lists[v as usize])
                        .into_iter()
                        .map(|a| BuildArc {
                            other: internal[a.other as usize],
                            middle: if a.middle == NONE {
                                NONE
                            } else {
                                internal[a.middle as usize]
                            },
                            ..a
                        })
                        .collect()
                })
                .collect()
        };
        let (up_first, up_build) = csr(relabel(&mut builder.final_up));
        let (down_first, down_build) = csr(relabel(&mut builder.final_down));
        let unpack = |a: &BuildArc| {
            if a.middle == NONE {
                Unpack {
                    first: NONE,
                    second: a.second,
                }
            } else {
                Unpack {
                    first: down_first[a.middle as usize] + a.first,
                    second: up_first[a.middle as usize] + a.second,
                }
            }
        };
        let hot = |a: &BuildArc| Arc {
            other: a.other,
            weight: a.weight,
        };
        let shortcuts = up_build
            .iter()
            .chain(&down_build)
            .filter(|a| a.middle != NONE)
            .count();
        Self {
            n,
            up: up_build.iter().map(hot).collect(),
            up_unpack: up_build.iter().map(unpack).collect(),
            down: down_build.iter().map(hot).collect(),
            down_unpack: down_build.iter().map(unpack).collect(),
            up_first,
            down_first,
            internal,
            external,
            shortcuts,
            pool: Mutex::new(Vec::new()),
        }
    }

    /// Shortcuts added by the contraction.
    pub fn shortcut_count(&self) -> usize {
        self.shortcuts
    }

    fn up_of(&self, v: u32) -> std::ops::Range<usize> {
        self.up_first[v as usize] as usize..self.up_first[v as usize + 1] as usize
    }

    fn down_of(&self, v: u32) -> std::ops::Range<usize> {
        self.down_first[v as usize] as usize..self.down_first[v as usize + 1] as usize
    }

    /// (graph node, cost) pairs as (internal node, cost), dropping nodes out of range.
    fn inside<'a>(&'a self, ends: &'a [(u32, u32)]) -> impl Iterator<Item = (u32, u32)> + 'a {
        ends.iter()
            .filter_map(|&(v, c)| self.internal.get(v as usize).map(|&i| (i, c)))
    }

    fn take_workspace(&self) -> Workspace {
        let popped = match self.pool.lock() {
            Ok(mut pool) => pool.pop(),
            Err(poisoned) => poisoned.into_inner().pop(),
        };
        popped.unwrap_or_else(|| Workspace::new(self.n))
    }

    fn give_back(&self, ws: Workspace) {
        match self.pool.lock() {
            Ok(mut pool) => pool.push(ws),
            Err(poisoned) => poisoned.into_inner().push(ws),
        }
    }

    /// Whether `v`, reached at `d` in direction `dir`, is reached more cheaply from above (then
    /// no shortest path continues upward through it).
    fn stalled(&self, ws: &Workspace, dir: usize, v: u32, d: u32) -> bool {
        let (range, arcs) = if dir == FORWARD {
            (self.down_of(v), &self.down)
        } else {
            (self.up_of(v), &self.up)
        };
        arcs[range].iter().any(|a| {
            let du = ws.state[dir][a.other as usize].0;
            du != INF && du.saturating_add(a.weight) < d
        })
    }

    /// Settles the next node of direction `dir`; returns it and its distance unless it was a
    /// stale heap entry or is stalled. `None` when the direction's queue is empty.
    fn step(&self, ws: &mut Workspace, dir: usize) -> Option<Option<(u32, u32)>> {
        let (d, v) = ws.heap[dir].pop()?;
        if self.stalled(ws, dir, v, d) {
            return Some(None);
        }
        let (range, arcs) = if dir == FORWARD {
            (self.up_of(v), &self.up)
        } else {
            (self.down_of(v), &self.down)
        };
        let start = range.start;
        for (i, a) in arcs[range].iter().enumerate() {
            let nd = d.saturating_add(a.weight);
            let w = a.other as usize;
            let here = &mut ws.state[dir][w];
            if nd < here.0 {
                if here.0 == INF {
                    ws.touched[dir].push(a.other);
                }
                *here = (nd, (start + i) as u32);
                ws.heap[dir].push_or_decrease(a.other, nd);
            }
        }
        Some(Some((v, d)))
    }

    /// The cheapest path from any `(node, initial cost)` of `sources` to any `(node, final
    /// cost)` of `targets`, the initial and final costs included. `None` when unreachable.
    pub fn query(&self, sources: &[(u32, u32)], targets: &[(u32, u32)]) -> Option<Path> {
        let mut ws = self.take_workspace();
        ws.seed(FORWARD, self.inside(sources));
        ws.seed(BACKWARD, self.inside(targets));
        let mut best = INF;
        let mut meet = NONE;
        loop {
            let top = |dir: usize| ws.heap[dir].min_key().unwrap_or(INF);
            let (top_f, top_b) = (top(FORWARD), top(BACKWARD));
            if top_f.min(top_b) >= best {
                break;
            }
            let dir = if top_f <= top_b { FORWARD } else { BACKWARD };
            let Some(settled) = self.step(&mut ws, dir) else {
                break;
            };
            if let Some((v, d)) = settled {
                let other = ws.state[1 - dir][v as usize].0;
                if other != INF && d.saturating_add(other) < best {
                    best = d.saturating_add(other);
                    meet = v;
                }
            }
        }
        let path = (meet != NONE).then(|| self.path_through(&ws, meet, best));
        ws.reset(FORWARD);
        ws.reset(BACKWARD);
        self.give_back(ws);
        path
    }

    fn path_through(&self, ws: &Workspace, meet: u32, cost: u32) -> Path {
        let mut arcs: Vec<Unpack> = Vec::new();
        // An arc's tail is the node whose rows hold it.
        let owner = |first: &[u32], arc: u32| (first.partition_point(|&f| f <= arc) - 1) as u32;
        let mut v = meet;
        loop {
            let arc = ws.state[FORWARD][v as usize].1;
            if arc == NONE {
                break;
            }
            arcs.push(self.up_unpack[arc as usize]);
            v = owner(&self.up_first, arc);
        }
        let start = self.external[v as usize];
        arcs.reverse();
        let mut v = meet;
        loop {
            let arc = ws.state[BACKWARD][v as usize].1;
            if arc == NONE {
                break;
            }
            arcs.push(self.down_unpack[arc as usize]);
            v = owner(&self.down_first, arc);
        }
        let end = self.external[v as usize];
        let mut edge_dirs = Vec::with_capacity(arcs.len() * 4);
        let mut stack: Vec<Unpack> = Vec::with_capacity(32);
        for arc in arcs {
            stack.push(arc);
            while let Some(a) = stack.pop() {
                if a.first == NONE {
                    edge_dirs.push(a.second);
                } else {
                    stack.push(self.up_unpack[a.second as usize]);
                    stack.push(self.down_unpack[a.first as usize]);
                }
            }
        }
        Path {
            cost,
            start,
            end,
            edge_dirs,
        }
    }

    /// Costs from every source to every target (row-major, `INF` when unreachable), by one
    /// upward search per target filling buckets and one per source scanning them.
    pub fn matrix(&self, sources: &[Vec<(u32, u32)>], targets: &[Vec<(u32, u32)>]) -> Vec<u32> {
        let columns = targets.len();
        let mut table = vec![INF; sources.len() * columns];
        let mut ws = self.take_workspace();
        for (j, target) in targets.iter().enumerate() {
            ws.seed(BACKWARD, self.inside(target));
            while let Some(settled) = self.step(&mut ws, BACKWARD) {
                if let Some((v, d)) = settled {
                    let head = &mut ws.bucket_head[v as usize];
                    if *head == NONE {
                        ws.bucket_touched.push(v);
                    }
                    let next = *head;
                    *head = ws.buckets.len() as u32;
                    ws.buckets.push((j as u32, d, next));
                }
            }
            ws.reset(BACKWARD);
        }
        for (i, source) in sources.iter().enumerate() {
            ws.seed(FORWARD, self.inside(source));
            let row = &mut table[i * columns..(i + 1) * columns];
            while let Some(settled) = self.step(&mut ws, FORWARD) {
                if let Some((v, d)) = settled {
                    let mut entry = ws.bucket_head[v as usize];
                    while entry != NONE {
                        let (j, dj, next) = ws.buckets[entry as usize];
                        let total = d.saturating_add(dj);
                        if total < row[j as usize] {
                            row[j as usize] = total;
                        }
                        entry = next;
                    }
                }
            }
            ws.reset(FORWARD);
        }
        ws.reset_buckets();
        self.give_back(ws);
        table
    }
}

fn csr<T>(lists: Vec<Vec<T>>) -> (Vec<u32>, Vec<T>) {
    let mut first = Vec::with_capacity(lists.len() + 1);
    let mut all = Vec::with_capacity(lists.iter().map(Vec::len).sum());
    first.push(0);
    for list in lists {
        all.extend(list);
        first.push(all.len() as u32);
    }
    (first, all)
}

/// An arc while contracting. A shortcut names its contracted `middle` node and the positions of
/// its two halves in that node's final lists (`first` in the incoming, `second` in the
/// outgoing); an original arc has `middle == NONE` and `second == edge_dir`.
#[derive(Debug, Clone, Copy)]
struct BuildArc {
    other: u32,
    weight: u32,
    middle: u32,
    first: u32,
    second: u32,
}

/// A shortcut to add: tail, head and the arc (`other` = head).
type NewShortcut = (u32, BuildArc);

/// The graph while it is being contracted: `out`/`inn` hold arcs between nodes not yet
/// contracted; a contracted node's lists move to `final_up`/`final_down`.
struct Builder {
    out: Vec<Vec<BuildArc>>,
    inn: Vec<Vec<BuildArc>>,
    final_up: Vec<Vec<BuildArc>>,
    final_down: Vec<Vec<BuildArc>>,
    contracted: Vec<bool>,
    deleted_neighbours: Vec<u32>,
    level: Vec<u32>,
    witness: Witness,
}

/// Dijkstra scratch for witness searches.
struct Witness {
    dist: Vec<u32>,
    /// `wanted[v] == stamp`: v is a target of the current search.
    wanted: Vec<u32>,
    stamp: u32,
    touched: Vec<u32>,
    heap: BinaryHeap<Reverse<(u32, u32)>>,
}

impl Builder {
    fn new(n: usize, arcs: &[InputArc]) -> Self {
        let mut builder = Self {
            out: vec![Vec::new(); n],
            inn: vec![Vec::new(); n],
            final_up: vec![Vec::new(); n],
            final_down: vec![Vec::new(); n],
            contracted: vec![false; n],
            deleted_neighbours: vec![0; n],
            level: vec![0; n],
            witness: Witness {
                dist: vec![INF; n],
                wanted: vec![0; n],
                stamp: 0,
                touched: Vec::new(),
                heap: BinaryHeap::new(),
            },
        };
        for a in arcs {
            if a.tail != a.head && (a.tail as usize) < n && (a.head as usize) < n {
                builder.add_arc(
                    a.tail,
                    BuildArc {
                        other: a.head,
                        weight: a.weight,
                        middle: NONE,
                        first: NONE,
                        second: a.edge_dir,
                    },
                );
            }
        }
        builder
    }

    /// Adds `tail → arc.other`, or lowers the weight of the existing arc (one per ordered pair).
    fn add_arc(&mut self, tail: u32, arc: BuildArc) {
        let head = arc.other;
        let back = BuildArc { other: tail, ..arc };
        if let Some(existing) = self.out[tail as usize].iter_mut().find(|a| a.other == head) {
            if arc.weight < existing.weight {
                *existing = arc;
                if let Some(slot) = self.inn[head as usize].iter_mut().find(|a| a.other == tail) {
                    *slot = back;
                }
            }
            return;
        }
        self.out[tail as usize].push(arc);
        self.inn[head as usize].push(back);
    }

    /// Shortest distances from `from` avoiding `skip`, up to `max` and `settled_limit` settled
    /// nodes; stops early once every node of `wanted` is settled.
    fn witness_search(
        &mut self,
        from: u32,
        skip: u32,
        max: u32,
        settled_limit: usize,
        wanted: &[BuildArc],
    ) {
        let w = &mut self.witness;
        for &v in &w.touched {
            w.dist[v as usize] = INF;
        }
        w.stamp = w.stamp.wrapping_add(1);
        if w.stamp == 0 {
            w.wanted.fill(0);
            w.stamp = 1;
        }
        let mut targets = 0;
        for x in wanted {
            if w.wanted[x.other as usize] != w.stamp {
                w.wanted[x.other as usize] = w.stamp;
                targets += 1;
            }
        }
        w.touched.clear();
        w.heap.clear();
        w.dist[from as usize] = 0;
        w.touched.push(from);
        w.heap.push(Reverse((0, from)));
        let mut settled = 0;
        let mut found = 0;
        while let Some(Reverse((d, v))) = w.heap.pop() {
            if d > w.dist[v as usize] {
                continue;
            }
            if d > max || settled >= settled_limit {
                break;
            }
            settled += 1;
            if w.wanted[v as usize] == w.stamp {
                found += 1;
                if found >= targets {
                    break;
                }
            }
            for a in &self.out[v as usize] {
                let x = a.other;
                if x == skip {
                    continue;
                }
                let nd = d.saturating_add(a.weight);
                if nd < w.dist[x as usize] {
                    if w.dist[x as usize] == INF {
                        w.touched.push(x);
                    }
                    w.dist[x as usize] = nd;
                    w.heap.push(Reverse((nd, x)));
                }
            }
        }
    }

    /// The shortcuts contracting `v` needs now.
    fn shortcuts_for(&mut self, v: u32, settled_limit: usize) -> Vec<NewShortcut> {
        let ins = std::mem::take(&mut self.inn[v as usize]);
        let outs = std::mem::take(&mut self.out[v as usize]);
        let mut shortcuts = Vec::new();
        for (i, arc_in) in ins.iter().enumerate() {
            let u = arc_in.other;
            let Some(max_out) = outs.iter().filter(|x| x.other != u).map(|x| x.weight).max() else {
                continue;
            };
            let max = arc_in.weight.saturating_add(max_out);
            self.witness_search(u, v, max, settled_limit, &outs);
            for (j, arc_out) in outs.iter().enumerate() {
                if arc_out.other == u {
                    continue;
                }
                let via = arc_in.weight.saturating_add(arc_out.weight);
                if self.witness.dist[arc_out.other as usize] > via {
                    shortcuts.push((
                        u,
                        BuildArc {
                            other: arc_out.other,
                            weight: via,
                            middle: v,
                            first: i as u32,
                            second: j as u32,
                        },
                    ));
                }
            }
        }
        self.inn[v as usize] = ins;
        self.out[v as usize] = outs;
        shortcuts
    }

    /// Lower contracts first: twice the edge difference (shortcuts added − arcs removed), plus
    /// contracted neighbours (spreads contraction evenly) and depth in the hierarchy.
    fn priority(&mut self, v: u32) -> i64 {
        let added = self.shortcuts_for(v, SIMULATION_SETTLED_LIMIT).len() as i64;
        let removed = (self.inn[v as usize].len() + self.out[v as usize].len()) as i64;
        2 * (added - removed)
            + i64::from(self.deleted_neighbours[v as usize])
            + i64::from(self.level[v as usize])
    }

    /// Contracts `v`: adds its shortcuts and moves its arcs to the final lists.
    fn contract(&mut self, v: u32) {
        let shortcuts = self.shortcuts_for(v, WITNESS_SETTLED_LIMIT);
        let outs = std::mem::take(&mut self.out[v as usize]);
        let ins = std::mem::take(&mut self.inn[v as usize]);
        for a in &outs {
            self.inn[a.other as usize].retain(|b| b.other != v);
        }
        for a in &ins {
            self.out[a.other as usize].retain(|b| b.other != v);
        }
        self.final_up[v as usize] = outs;
        self.final_down[v as usize] = ins;
        self.contracted[v as usize] = true;
        for (tail, arc) in shortcuts {
            self.add_arc(tail, arc);
        }
    }

    /// Contracts every node, least important first, with lazy updates: a popped node's
    /// priority is recomputed and it waits again if it grew past the next one. Returns the
    /// contraction order.
    fn contract_all(&mut self) -> Vec<u32> {
        let n = self.out.len();
        let mut order = Vec::with_capacity(n);
        let mut priority: Vec<i64> = (0..n as u32).map(|v| self.priority(v)).collect();
        let mut heap: BinaryHeap<Reverse<(i64, u32)>> = priority
            .iter()
            .enumerate()
            .map(|(v, &p)| Reverse((p, v as u32)))
            .collect();
        while let Some(Reverse((p, v))) = heap.pop() {
            if self.contracted[v as usize] || p != priority[v as usize] {
                continue;
            }
            // Lazy update: a node whose priority grew since it was queued waits its turn.
            let fresh = self.priority(v);
            if fresh != p {
                priority[v as usize] = fresh;
                if heap.peek().is_some_and(|Reverse((next, _))| fresh > *next) {
                    heap.push(Reverse((fresh, v)));
                    continue;
                }
            }
            let mut neighbours: Vec<u32> = self.inn[v as usize]
                .iter()
                .chain(&self.out[v as usize])
                .map(|a| a.other)
                .collect();
            neighbours.sort_unstable();
            neighbours.dedup();
            self.contract(v);
            order.push(v);
            let level = self.level[v as usize] + 1;
            for w in neighbours {
                self.deleted_neighbours[w as usize] += 1;
                self.level[w as usize] = self.level[w as usize].max(level);
            }
        }
        order
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

    /// Plain Dijkstra on the input arcs.
    fn dijkstra(n: usize, arcs: &[InputArc], from: u32, to: u32) -> Option<u32> {
        let mut dist = vec![INF; n];
        let mut heap = BinaryHeap::new();
        dist[from as usize] = 0;
        heap.push(Reverse((0u32, from)));
        while let Some(Reverse((d, v))) = heap.pop() {
            if d > dist[v as usize] {
                continue;
            }
            for a in arcs.iter().filter(|a| a.tail == v) {
                let nd = d + a.weight;
                if nd < dist[a.head as usize] {
                    dist[a.head as usize] = nd;
                    heap.push(Reverse((nd, a.head)));
                }
            }
        }
        (dist[to as usize] != INF).then_some(dist[to as usize])
    }

    /// A directed grid with some one-way streets and varied weights, from a seed.
    fn grid(side: u32, seed: u64) -> Vec<InputArc> {
        let mut state = seed;
        let mut next = move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) as u32
        };
        let mut arcs = Vec::new();
        let mut edge = 0;
        for r in 0..side {
            for c in 0..side {
                let v = r * side + c;
                for w in [
                    (c + 1 < side).then(|| v + 1),
                    (r + 1 < side).then(|| v + side),
                ]
                .into_iter()
                .flatten()
                {
                    let weight = 50 + next() % 100;
                    arcs.push(arc(v, w, weight, edge));
                    if next() % 5 != 0 {
                        arcs.push(InputArc {
                            tail: w,
                            head: v,
                            weight,
                            edge_dir: edge << 1 | 1,
                        });
                    }
                    edge += 1;
                }
            }
        }
        arcs
    }

    #[test]
    fn queries_on_a_one_way_grid_match_plain_dijkstra() {
        let side = 12;
        let n = (side * side) as usize;
        let arcs = grid(side, 7);
        let ch = Ch::build(n, &arcs);
        for from in (0..n as u32).step_by(7) {
            for to in (0..n as u32).step_by(11) {
                let expected = dijkstra(n, &arcs, from, to);
                let got = ch.query(&[(from, 0)], &[(to, 0)]);
                assert_eq!(got.as_ref().map(|p| p.cost), expected, "{from} → {to}");
                if let Some(path) = got {
                    let sum: u32 = path
                        .edge_dirs
                        .iter()
                        .map(|ed| {
                            arcs.iter()
                                .find(|a| a.edge_dir == *ed)
                                .map(|a| a.weight)
                                .unwrap()
                        })
                        .sum();
                    assert_eq!(sum, path.cost, "unpacked path of {from} → {to}");
                }
            }
        }
    }

    #[test]
    fn the_matrix_agrees_with_single_queries() {
        let side = 9;
        let n = (side * side) as usize;
        let arcs = grid(side, 3);
        let ch = Ch::build(n, &arcs);
        let points: Vec<Vec<(u32, u32)>> = [0u32, 5, 17, 40, 80]
            .iter()
            .map(|&v| vec![(v, 3)])
            .collect();
        let table = ch.matrix(&points, &points);
        for (i, s) in points.iter().enumerate() {
            for (j, t) in points.iter().enumerate() {
                let single = ch.query(s, t).map_or(INF, |p| p.cost);
                assert_eq!(table[i * points.len() + j], single, "{i} → {j}");
            }
        }
    }

    #[test]
    fn an_unreachable_target_has_no_path() {
        let arcs = [arc(0, 1, 5, 0), arc(2, 3, 5, 1)];
        let ch = Ch::build(4, &arcs);
        assert_eq!(ch.query(&[(0, 0)], &[(3, 0)]), None);
        assert_eq!(ch.query(&[(1, 0)], &[(0, 0)]), None);
        assert_eq!(ch.query(&[(0, 0)], &[(1, 0)]).map(|p| p.cost), Some(5));
    }

    #[test]
    fn contraction_leaves_no_node_and_no_arc_behind() {
        let side = 6;
        let n = (side * side) as usize;
        let mut builder = Builder::new(n, &grid(side, 11));
        let mut order = builder.contract_all();
        order.sort_unstable();
        assert_eq!(order, (0..n as u32).collect::<Vec<_>>());
        assert!(builder.contracted.iter().all(|&c| c));
        assert!(builder.out.iter().chain(&builder.inn).all(Vec::is_empty));
    }
}
