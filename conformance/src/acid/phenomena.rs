//! Which of Adya's phenomena a Hermitage run shows, decided by their definitions from what the
//! run recorded: the rows each read returned, the rows each write affected, which transactions
//! committed, and the committed rows at the end.
//!
//! The definitions are Adya's (*Weak Consistency: A Generalized Theory and Optimistic
//! Implementations for Distributed Transactions*, MIT 1999, and Adya, Liskov, O'Neil, ICDE 2000)
//! and, for OTV and PMP, Bailis et al.'s (*Highly Available Transactions: Virtues and
//! Limitations*, VLDB 2014, appendix), the ones Hermitage's table names:
//!
//! - **G0** (write cycles): the direct serialization graph (DSG) of the committed transactions has
//!   a cycle of write-dependency (ww) edges.
//! - **G1a** (aborted reads): a committed transaction read a version written by a transaction that
//!   aborted.
//! - **G1b** (intermediate reads): a committed transaction read a version of a row written by
//!   another transaction that was not that transaction's final modification of the row.
//! - **G1c** (circular information flow): the DSG has a cycle of ww and write-read (wr) edges.
//! - **OTV** (observed transaction vanishes): a committed transaction observed a version written
//!   by a committed `W`, and in the same read or a later one read a version of some row that `W`
//!   overwrote (a version before `W`'s in the version order).
//! - **PMP** (predicate-many-preceders): a committed transaction made two predicate reads whose
//!   predicates overlap, and the sets of transactions that changed the matches of the overlap, up
//!   to the versions each read saw, differ. A predicate write (`UPDATE … SET value = value + d`,
//!   `DELETE … WHERE value = v`) reads its predicate too.
//! - **P4** (lost update): a committed transaction read version `v` of a row and then wrote the
//!   row, and another committed transaction's version of it lies between `v` and the first one's
//!   in the version order.
//! - **G-single** (read skew): the DSG has a cycle with exactly one anti-dependency (rw) edge.
//! - **G2-item** (write skew): the DSG has a cycle with at least one item anti-dependency edge.
//! - **G2** (anti-dependency cycles): the DSG has a cycle with at least one anti-dependency edge,
//!   item or predicate.
//!
//! A run records values, not versions, so the versions are inferred. Every write installs a
//! version: `UPDATE … WHERE id` the value it sets, `INSERT` its row, a predicate write one version
//! for each row it affected (which rows, and which version of each it read, are unknowns
//! constrained by its affected-row count). A read's row is any version with the value it
//! returned; a row it did not return is any version that does not match its predicate (rows no
//! version of which could match say nothing). A transaction reads its own last write of a row.
//! The version order of a row's committed versions is unknown except that the committed rows at
//! the end are the last versions. Every combination of these unknowns that explains the run is an
//! *interpretation*; a phenomenon **occurred** when every interpretation shows it (so a database
//! is never charged with an anomaly the run can be explained without), and a run no
//! interpretation explains is an error (the model does not fit the database). A predicate write
//! reading a version made by another predicate write is not modelled (no script does that).
//!
//! This is pure: no database. Whether the whole history is serializable is a separate question,
//! answered by [`crate::acid::serial`].

use crate::acid::hermitage::{Op, Pred, Reply, Trace};
use crate::acid::serial::{permutations, SEED};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// A phenomenon, as Hermitage's table names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Phenomenon {
    /// Write cycles.
    G0,
    /// Aborted reads.
    G1a,
    /// Intermediate reads.
    G1b,
    /// Circular information flow.
    G1c,
    /// Observed transaction vanishes.
    Otv,
    /// Predicate-many-preceders.
    Pmp,
    /// Lost update.
    P4,
    /// Single anti-dependency cycles (read skew).
    GSingle,
    /// Item anti-dependency cycles (write skew).
    G2Item,
    /// Anti-dependency cycles.
    G2,
}

impl Phenomenon {
    /// Every phenomenon.
    pub const ALL: [Phenomenon; 10] = [
        Phenomenon::G0,
        Phenomenon::G1a,
        Phenomenon::G1b,
        Phenomenon::G1c,
        Phenomenon::Otv,
        Phenomenon::Pmp,
        Phenomenon::P4,
        Phenomenon::GSingle,
        Phenomenon::G2Item,
        Phenomenon::G2,
    ];
}

impl fmt::Display for Phenomenon {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phenomenon::G0 => "G0",
            Phenomenon::G1a => "G1a",
            Phenomenon::G1b => "G1b",
            Phenomenon::G1c => "G1c",
            Phenomenon::Otv => "OTV",
            Phenomenon::Pmp => "PMP",
            Phenomenon::P4 => "P4",
            Phenomenon::GSingle => "G-single",
            Phenomenon::G2Item => "G2-item",
            Phenomenon::G2 => "G2",
        })
    }
}

/// What the phenomena analysis found in a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Analysis {
    /// The phenomena every interpretation shows.
    pub occurred: BTreeSet<Phenomenon>,
    /// How many interpretations explain the run.
    pub interpretations: usize,
}

impl Analysis {
    /// `true` when `p` occurred.
    pub fn shows(&self, p: Phenomenon) -> bool {
        self.occurred.contains(&p)
    }
}

impl fmt::Display for Analysis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.occurred.is_empty() {
            f.write_str("no phenomenon")?;
        } else {
            let names: Vec<String> = self.occurred.iter().map(ToString::to_string).collect();
            f.write_str(&names.join(", "))?;
        }
        write!(f, " (in each of {} interpretation(s))", self.interpretations)
    }
}

/// A row's state in a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Live(i64),
    /// Deleted, or not inserted yet.
    Absent,
}

fn matches(pred: Pred, id: i64, state: State) -> bool {
    match state {
        State::Absent => false,
        State::Live(value) => match pred {
            Pred::All => true,
            Pred::Id(i) => id == i,
            Pred::Ids(a, b) => id == a || id == b,
            Pred::ValueEq(v) => value == v,
            Pred::ValueGe(v) => value >= v,
        },
    }
}

/// Whether some row could match both predicates (their logical ranges overlap).
fn overlap(a: Pred, b: Pred) -> bool {
    let ids = |p: Pred| -> Option<Vec<i64>> {
        match p {
            Pred::Id(i) => Some(vec![i]),
            Pred::Ids(x, y) => Some(vec![x, y]),
            _ => None,
        }
    };
    match (ids(a), ids(b)) {
        (Some(x), Some(y)) => x.iter().any(|i| y.contains(i)),
        _ => match (a, b) {
            (Pred::ValueEq(x), Pred::ValueEq(y)) => x == y,
            (Pred::ValueEq(x), Pred::ValueGe(y)) | (Pred::ValueGe(y), Pred::ValueEq(x)) => x >= y,
            _ => true,
        },
    }
}

/// A version of a row: the seeded (or not yet inserted) one, or one a step wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Version {
    row: i64,
    /// The writing step (record index) and its transaction; `None` for the initial version.
    writer: Option<(usize, usize)>,
    state: State,
    /// For a version made by `value = value + d`: the version it was computed from.
    base: Option<usize>,
}

/// A step of the run, as the analysis sees it.
#[derive(Debug, Clone)]
struct Event {
    index: usize,
    tx: usize,
    op: Op,
    reply: Reply,
}

/// One unknown: which version a step read of a row.
#[derive(Debug, Clone)]
struct Choice {
    event: usize,
    row: i64,
    candidates: Vec<usize>,
}

struct Universe {
    rows: Vec<i64>,
    versions: Vec<Version>,
    events: Vec<Event>,
    committed: BTreeSet<usize>,
    final_rows: BTreeMap<i64, i64>,
}

impl Universe {
    fn of(trace: &Trace) -> Universe {
        let ntx = trace.records.iter().map(|r| r.step.tx + 1).max().unwrap_or(0);
        let committed = (0..ntx).filter(|&tx| trace.committed(tx)).collect();
        let events: Vec<Event> = trace
            .records
            .iter()
            .enumerate()
            .filter_map(|(index, r)| match &r.reply {
                Some(reply @ (Reply::Rows(_) | Reply::Affected(_) | Reply::Done)) => {
                    Some(Event { index, tx: r.step.tx, op: r.step.op, reply: reply.clone() })
                }
                _ => None,
            })
            .collect();
        let mut rows: BTreeSet<i64> = SEED.iter().map(|(i, _)| *i).collect();
        rows.extend(trace.final_rows.iter().map(|(i, _)| *i));
        for e in &events {
            match e.op {
                Op::Set(i, _) | Op::Insert(i, _) | Op::Read(Pred::Id(i)) => {
                    rows.insert(i);
                }
                Op::Read(Pred::Ids(a, b)) => {
                    rows.extend([a, b]);
                }
                _ => {}
            }
            if let Reply::Rows(found) = &e.reply {
                rows.extend(found.iter().map(|(i, _)| *i));
            }
        }
        let mut versions: Vec<Version> = rows
            .iter()
            .map(|&row| {
                let state = SEED.iter().find(|(i, _)| *i == row).map_or(State::Absent, |(_, v)| State::Live(*v));
                Version { row, writer: None, state, base: None }
            })
            .collect();
        for e in &events {
            let writer = Some((e.index, e.tx));
            match (e.op, &e.reply) {
                (Op::Set(row, value), Reply::Affected(n)) if *n > 0 => {
                    versions.push(Version { row, writer, state: State::Live(value), base: None });
                }
                (Op::Insert(row, value), Reply::Done) => {
                    versions.push(Version { row, writer, state: State::Live(value), base: None });
                }
                (Op::DeleteWhereValue(_), Reply::Affected(_)) => {
                    for &row in &rows {
                        versions.push(Version { row, writer, state: State::Absent, base: None });
                    }
                }
                _ => {}
            }
        }
        // `value = value + d` makes one version per version it may have read (not one made by
        // another such update, see the module docs).
        for e in &events {
            if let (Op::AddToAll(d), Reply::Affected(_)) = (e.op, &e.reply) {
                let bases: Vec<(usize, i64, i64)> = versions
                    .iter()
                    .enumerate()
                    .filter(|(_, v)| v.base.is_none() && v.writer.map(|w| w.0) != Some(e.index))
                    .filter_map(|(id, v)| match v.state {
                        State::Live(x) => Some((id, v.row, x)),
                        State::Absent => None,
                    })
                    .collect();
                for (id, row, x) in bases {
                    versions.push(Version {
                        row,
                        writer: Some((e.index, e.tx)),
                        state: State::Live(x + d),
                        base: Some(id),
                    });
                }
            }
        }
        Universe {
            rows: rows.into_iter().collect(),
            versions,
            events,
            committed,
            final_rows: trace.final_rows.iter().copied().collect(),
        }
    }

    fn of_row(&self, row: i64) -> impl Iterator<Item = usize> + '_ {
        self.versions.iter().enumerate().filter(move |(_, v)| v.row == row).map(|(id, _)| id)
    }

    /// Versions a step of `tx` at `index` may have seen: not written by that step or a later one
    /// of its own transaction.
    fn visible_to(&self, id: usize, tx: usize, index: usize) -> bool {
        match self.versions[id].writer {
            Some((w, wtx)) => !(wtx == tx && w >= index),
            None => true,
        }
    }

    fn choices(&self) -> Vec<Choice> {
        let mut out = Vec::new();
        for (ei, e) in self.events.iter().enumerate() {
            match (e.op, &e.reply) {
                (Op::Read(pred), Reply::Rows(found)) => {
                    for &row in &self.rows {
                        let visible: Vec<usize> =
                            self.of_row(row).filter(|&id| self.visible_to(id, e.tx, e.index)).collect();
                        let candidates: Vec<usize> = match found.iter().find(|(i, _)| *i == row) {
                            Some((_, value)) => visible
                                .into_iter()
                                .filter(|&id| self.versions[id].state == State::Live(*value))
                                .collect(),
                            None => {
                                // A row no version of which matches says nothing.
                                if !self.of_row(row).any(|id| matches(pred, row, self.versions[id].state)) {
                                    continue;
                                }
                                visible.into_iter().filter(|&id| !matches(pred, row, self.versions[id].state)).collect()
                            }
                        };
                        out.push(Choice { event: ei, row, candidates });
                    }
                }
                (Op::AddToAll(_) | Op::DeleteWhereValue(_), Reply::Affected(_)) => {
                    for &row in &self.rows {
                        let candidates = self.of_row(row).filter(|&id| self.visible_to(id, e.tx, e.index)).collect();
                        out.push(Choice { event: ei, row, candidates });
                    }
                }
                _ => {}
            }
        }
        out
    }
}

/// What one interpretation says a step did.
#[derive(Debug, Clone, Default)]
struct Effects {
    /// Per event: the versions it read, by row (reads: the rows its predicate could match;
    /// predicate writes: every row).
    read: Vec<BTreeMap<i64, usize>>,
    /// Per event: the versions it wrote.
    wrote: Vec<Vec<usize>>,
}

/// Error: no interpretation explains the run, or there are too many to try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unexplained(pub String);

impl fmt::Display for Unexplained {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

const MAX_INTERPRETATIONS: usize = 1 << 16;

/// Decide which phenomena a run shows (see the module docs).
///
/// # Errors
/// [`Unexplained`] when no interpretation explains the run (the database did something the model
/// of the table cannot express) or there are too many unknowns to try.
pub fn analyse(trace: &Trace) -> Result<Analysis, Unexplained> {
    let u = Universe::of(trace);
    let choices = u.choices();
    let total = choices.iter().try_fold(1usize, |acc, c| acc.checked_mul(c.candidates.len().max(1)));
    if total.is_none_or(|t| t > MAX_INTERPRETATIONS) {
        return Err(Unexplained(format!("too many unknowns ({} choices)", choices.len())));
    }
    let mut occurred: Option<BTreeSet<Phenomenon>> = None;
    let mut interpretations = 0;
    let mut pick = vec![0usize; choices.len()];
    loop {
        if choices.iter().all(|c| !c.candidates.is_empty()) {
            if let Some(effects) = effects(&u, &choices, &pick) {
                for order in version_orders(&u, &effects) {
                    interpretations += 1;
                    let found = phenomena(&u, &effects, &order);
                    occurred = Some(match occurred {
                        None => found,
                        Some(before) => before.intersection(&found).copied().collect(),
                    });
                }
            }
        }
        // Next combination.
        let mut k = 0;
        loop {
            if k == choices.len() {
                return match occurred {
                    Some(occurred) => Ok(Analysis { occurred, interpretations }),
                    None => {
                        Err(Unexplained("no assignment of versions to reads and writes explains this run".to_string()))
                    }
                };
            }
            pick[k] += 1;
            if pick[k] < choices[k].candidates.len() {
                break;
            }
            pick[k] = 0;
            k += 1;
        }
    }
}

/// The reads and writes of one combination of choices; `None` when it contradicts the run.
fn effects(u: &Universe, choices: &[Choice], pick: &[usize]) -> Option<Effects> {
    let mut fx = Effects { read: vec![BTreeMap::new(); u.events.len()], wrote: vec![Vec::new(); u.events.len()] };
    for (c, &p) in choices.iter().zip(pick) {
        fx.read[c.event].insert(c.row, c.candidates[p]);
    }
    for (ei, e) in u.events.iter().enumerate() {
        let mine = |v: &Version| v.writer.map(|w| w.0) == Some(e.index);
        match (e.op, &e.reply) {
            (Op::Set(row, value), Reply::Affected(n)) if *n > 0 => {
                let id = u.versions.iter().position(|v| mine(v) && v.row == row && v.state == State::Live(value))?;
                fx.wrote[ei].push(id);
            }
            (Op::Insert(row, _), Reply::Done) => {
                let id = u.versions.iter().position(|v| mine(v) && v.row == row)?;
                fx.wrote[ei].push(id);
            }
            (Op::AddToAll(_), Reply::Affected(n)) => {
                for (&row, &r) in &fx.read[ei] {
                    if let State::Live(_) = u.versions[r].state {
                        let id = u.versions.iter().position(|v| mine(v) && v.row == row && v.base == Some(r))?;
                        fx.wrote[ei].push(id);
                    }
                }
                if fx.wrote[ei].len() as u64 != *n {
                    return None;
                }
            }
            (Op::DeleteWhereValue(value), Reply::Affected(n)) => {
                for (&row, &r) in &fx.read[ei] {
                    if matches(Pred::ValueEq(value), row, u.versions[r].state) {
                        let id = u.versions.iter().position(|v| mine(v) && v.row == row)?;
                        fx.wrote[ei].push(id);
                    }
                }
                if fx.wrote[ei].len() as u64 != *n {
                    return None;
                }
            }
            _ => {}
        }
    }
    // A version read must have been written in this interpretation; a transaction reads its own
    // last write of a row.
    let written: BTreeSet<usize> = fx.wrote.iter().flatten().copied().collect();
    for (ei, e) in u.events.iter().enumerate() {
        for (&row, &r) in &fx.read[ei] {
            if u.versions[r].writer.is_some() && !written.contains(&r) {
                return None;
            }
            let own_last = (0..ei)
                .rev()
                .filter(|&j| u.events[j].tx == e.tx)
                .find_map(|j| fx.wrote[j].iter().copied().find(|&w| u.versions[w].row == row));
            if own_last.is_some_and(|w| w != r) {
                return None;
            }
        }
    }
    Some(fx)
}

/// Per row: the initial version, then the committed transactions' final versions in version
/// order.
type Order = BTreeMap<i64, Vec<usize>>;

/// The final version each transaction wrote of each row.
fn finals(u: &Universe, fx: &Effects) -> BTreeMap<(usize, i64), usize> {
    let mut out = BTreeMap::new();
    for (ei, e) in u.events.iter().enumerate() {
        for &w in &fx.wrote[ei] {
            out.insert((e.tx, u.versions[w].row), w);
        }
    }
    out
}

/// Every version order of the committed versions that ends with the committed rows at the end.
fn version_orders(u: &Universe, fx: &Effects) -> Vec<Order> {
    let finals = finals(u, fx);
    let mut orders: Vec<Order> = vec![BTreeMap::new()];
    for &row in &u.rows {
        let Some(init) = u.versions.iter().position(|v| v.row == row && v.writer.is_none()) else {
            return Vec::new();
        };
        let end = u.final_rows.get(&row).map_or(State::Absent, |v| State::Live(*v));
        let writers: Vec<usize> = u.committed.iter().copied().filter(|tx| finals.contains_key(&(*tx, row))).collect();
        let mut chains = Vec::new();
        for perm in permutations(&writers) {
            let chain: Vec<usize> = std::iter::once(init).chain(perm.iter().map(|tx| finals[&(*tx, row)])).collect();
            if chain.last().is_some_and(|&last| u.versions[last].state == end) {
                chains.push(chain);
            }
        }
        orders = orders
            .into_iter()
            .flat_map(|o| {
                chains.iter().map(move |c| {
                    let mut o = o.clone();
                    o.insert(row, c.clone());
                    o
                })
            })
            .collect();
    }
    orders
}

#[derive(Debug, Clone, Copy, Default)]
struct Edge {
    ww: bool,
    wr: bool,
    rw_item: bool,
    rw_pred: bool,
}

/// The phenomena one interpretation shows.
fn phenomena(u: &Universe, fx: &Effects, order: &Order) -> BTreeSet<Phenomenon> {
    let finals = finals(u, fx);
    let committed = |tx: usize| u.committed.contains(&tx);
    let writer_tx = |id: usize| u.versions[id].writer.map(|w| w.1);
    // A version's place in its row's order: its own, or its (committed) writer's final one's.
    let pos = |id: usize| -> Option<usize> {
        let v = u.versions[id];
        let chain = order.get(&v.row)?;
        match v.writer {
            None => Some(0),
            Some((_, tx)) if committed(tx) => chain.iter().position(|&c| Some(c) == finals.get(&(tx, v.row)).copied()),
            Some(_) => None,
        }
    };
    let mut edges: BTreeMap<(usize, usize), Edge> = BTreeMap::new();
    let mut edge = |from: Option<usize>, to: Option<usize>, f: &dyn Fn(&mut Edge)| {
        if let (Some(a), Some(b)) = (from, to) {
            if a != b && committed(a) && committed(b) {
                f(edges.entry((a, b)).or_default());
            }
        }
    };
    for chain in order.values() {
        for pair in chain.windows(2).skip(1) {
            edge(writer_tx(pair[0]), writer_tx(pair[1]), &|e| e.ww = true);
        }
    }
    let mut found = BTreeSet::new();
    // Item reads: the rows a read returned, the rows a predicate write affected. Predicate reads:
    // every read and predicate write, over the rows its predicate could match.
    struct Observed {
        event: usize,
        row: i64,
        version: usize,
        item: bool,
    }
    let mut observed = Vec::new();
    let mut predicate_reads: Vec<(usize, Pred)> = Vec::new();
    for (ei, e) in u.events.iter().enumerate() {
        let pred = match e.op {
            Op::Read(p) => Some(p),
            Op::AddToAll(_) => Some(Pred::All),
            Op::DeleteWhereValue(v) => Some(Pred::ValueEq(v)),
            _ => None,
        };
        let Some(pred) = pred else { continue };
        predicate_reads.push((ei, pred));
        for (&row, &version) in &fx.read[ei] {
            let item = match &e.reply {
                Reply::Rows(rows) => rows.iter().any(|(i, _)| *i == row),
                _ => fx.wrote[ei].iter().any(|&w| u.versions[w].row == row),
            };
            observed.push(Observed { event: ei, row, version, item });
        }
    }
    for o in &observed {
        let reader = u.events[o.event].tx;
        if !committed(reader) {
            continue;
        }
        let v = u.versions[o.version];
        if let Some((_, wtx)) = v.writer {
            if wtx != reader {
                if !committed(wtx) {
                    found.insert(Phenomenon::G1a);
                }
                if finals.get(&(wtx, o.row)) != Some(&o.version) {
                    found.insert(Phenomenon::G1b);
                }
            }
        }
        if !o.item {
            continue;
        }
        edge(writer_tx(o.version), Some(reader), &|e| e.wr = true);
        if let (Some(p), Some(chain)) = (pos(o.version), order.get(&o.row)) {
            if let Some(&next) = chain.get(p + 1) {
                edge(Some(reader), writer_tx(next), &|e| e.rw_item = true);
            }
        }
    }
    for &(ei, pred) in &predicate_reads {
        let reader = u.events[ei].tx;
        for (&row, &version) in &fx.read[ei] {
            let (Some(p), Some(chain)) = (pos(version), order.get(&row)) else { continue };
            for k in 1..chain.len() {
                let before = matches(pred, row, u.versions[chain[k - 1]].state);
                if before == matches(pred, row, u.versions[chain[k]].state) {
                    continue;
                }
                if k <= p {
                    edge(writer_tx(chain[k]), Some(reader), &|e| e.wr = true);
                } else {
                    edge(Some(reader), writer_tx(chain[k]), &|e| e.rw_pred = true);
                }
            }
        }
    }
    let reaches = |from: usize, to: usize, usable: &dyn Fn(&Edge) -> bool| -> bool {
        let mut seen = BTreeSet::from([from]);
        let mut stack = vec![from];
        while let Some(n) = stack.pop() {
            if n == to {
                return true;
            }
            for (&(a, b), e) in &edges {
                if a == n && usable(e) && seen.insert(b) {
                    stack.push(b);
                }
            }
        }
        false
    };
    let any = |e: &Edge| e.ww || e.wr || e.rw_item || e.rw_pred;
    for (&(a, b), e) in &edges {
        if e.ww && reaches(b, a, &|e| e.ww) {
            found.insert(Phenomenon::G0);
        }
        if (e.ww || e.wr) && reaches(b, a, &|e| e.ww || e.wr) {
            found.insert(Phenomenon::G1c);
        }
        if (e.rw_item || e.rw_pred) && reaches(b, a, &|e| e.ww || e.wr) {
            found.insert(Phenomenon::GSingle);
        }
        if e.rw_item && reaches(b, a, &any) {
            found.insert(Phenomenon::G2Item);
        }
        if (e.rw_item || e.rw_pred) && reaches(b, a, &any) {
            found.insert(Phenomenon::G2);
        }
    }
    // OTV: a committed reader saw W's version, then (in the same read or a later one) a version of
    // a row that W overwrote.
    for a in &observed {
        let reader = u.events[a.event].tx;
        let Some(w) = writer_tx(a.version) else { continue };
        if w == reader || !committed(reader) || !committed(w) {
            continue;
        }
        for b in observed.iter().filter(|b| u.events[b.event].tx == reader && b.event >= a.event) {
            if writer_tx(b.version) == Some(reader) {
                continue;
            }
            let (Some(p), Some(chain)) = (pos(b.version), order.get(&b.row)) else { continue };
            let w_pos = finals.get(&(w, b.row)).and_then(|f| chain.iter().position(|c| c == f));
            if w_pos.is_some_and(|q| q > p) {
                found.insert(Phenomenon::Otv);
            }
        }
    }
    // PMP: two overlapping predicate reads of a committed transaction that different sets of
    // other transactions precede.
    let preceders = |ei: usize, po: &dyn Fn(i64, State) -> bool| -> BTreeSet<usize> {
        let reader = u.events[ei].tx;
        let mut out = BTreeSet::new();
        for (&row, &version) in &fx.read[ei] {
            let (Some(p), Some(chain)) = (pos(version), order.get(&row)) else { continue };
            for k in 1..=p {
                let changes = po(row, u.versions[chain[k - 1]].state) != po(row, u.versions[chain[k]].state);
                match writer_tx(chain[k]) {
                    Some(tx) if changes && tx != reader => {
                        out.insert(tx);
                    }
                    _ => {}
                }
            }
        }
        out
    };
    for (i, &(ea, pa)) in predicate_reads.iter().enumerate() {
        let reader = u.events[ea].tx;
        if !committed(reader) {
            continue;
        }
        for &(eb, pb) in predicate_reads.iter().skip(i + 1).filter(|(eb, _)| u.events[*eb].tx == reader) {
            if !overlap(pa, pb) {
                continue;
            }
            let po = |row: i64, state: State| matches(pa, row, state) && matches(pb, row, state);
            if preceders(ea, &po) != preceders(eb, &po) {
                found.insert(Phenomenon::Pmp);
            }
        }
    }
    // P4: a committed transaction read a row and then wrote it over another committed
    // transaction's version that came after the one it read.
    for o in observed.iter().filter(|o| o.item) {
        let tx = u.events[o.event].tx;
        if !committed(tx) {
            continue;
        }
        let wrote_after = u
            .events
            .iter()
            .enumerate()
            .any(|(ej, e)| e.tx == tx && ej >= o.event && fx.wrote[ej].iter().any(|&w| u.versions[w].row == o.row));
        let (Some(p), Some(chain), Some(mine)) = (pos(o.version), order.get(&o.row), finals.get(&(tx, o.row))) else {
            continue;
        };
        let Some(q) = chain.iter().position(|c| c == mine) else { continue };
        if wrote_after && p < q && chain[p + 1..q].iter().any(|&c| writer_tx(c).is_some_and(|w| w != tx)) {
            found.insert(Phenomenon::P4);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acid::expectations::{Anomaly, Outcome};
    use crate::acid::hermitage::classify;
    use crate::acid::serial::judge;
    use crate::acid::trace_fixtures::*;
    use Op::*;
    use Pred::*;

    /// The phenomena of a run; checks on the way that they agree with the separate
    /// serializability judge (Adya: serializable exactly when none of G0, G1a, G1b, G1c, G2).
    fn found(trace: &Trace) -> BTreeSet<Phenomenon> {
        let occurred = analyse(trace).unwrap_or_else(|e| panic!("{e}\n{trace}")).occurred;
        let proscribed = [Phenomenon::G0, Phenomenon::G1a, Phenomenon::G1b, Phenomenon::G1c, Phenomenon::G2];
        let verdict = judge(trace);
        assert_eq!(
            proscribed.iter().any(|p| occurred.contains(p)),
            !verdict.serializable(),
            "phenomena {occurred:?} vs judge {verdict}\n{trace}"
        );
        occurred
    }

    fn cell(anomaly: Anomaly, trace: &Trace) -> Outcome {
        found(trace);
        classify(anomaly, trace).unwrap_or_else(|e| panic!("{e}\n{trace}"))
    }

    /// PostgreSQL and MySQL read committed on the G1b script: T2 never sees T1's intermediate
    /// 101, only the seeded 10 and then T1's final 11. A non-repeatable read (G-single, so the
    /// history is not serializable), not an intermediate read.
    #[test]
    fn a_non_repeatable_read_is_not_g1b() {
        let trace = run(
            &[
                s(0, Set(1, 101), n(1)),
                s(1, Read(All), rows(&SEEDED)),
                s(0, Set(1, 11), n(1)),
                s(0, Commit, ok()),
                s(1, Read(All), rows(&[(1, 11), (2, 20)])),
                s(1, Commit, ok()),
            ],
            &[(1, 11), (2, 20)],
        );
        assert_eq!(cell(Anomaly::G1b, &trace), Outcome::Snapshot);
        // One anti-dependency (T2 read row 1 before T1's write) in a cycle: G-single, and so
        // G2-item and G2, which include it.
        assert_eq!(found(&trace), BTreeSet::from([Phenomenon::GSingle, Phenomenon::G2Item, Phenomenon::G2]));
        assert!(!judge(&trace).serializable());
    }

    /// MySQL read uncommitted on the G1b script: T2 reads T1's 101, which T1 overwrote.
    #[test]
    fn reading_a_version_its_writer_overwrote_is_g1b() {
        let trace = run(
            &[
                s(0, Set(1, 101), n(1)),
                s(1, Read(All), rows(&[(1, 101), (2, 20)])),
                s(0, Set(1, 11), n(1)),
                s(0, Commit, ok()),
                s(1, Read(All), rows(&[(1, 11), (2, 20)])),
                s(1, Commit, ok()),
            ],
            &[(1, 11), (2, 20)],
        );
        assert_eq!(cell(Anomaly::G1b, &trace), Outcome::Allowed);
        assert!(!found(&trace).contains(&Phenomenon::G1a));
    }

    #[test]
    fn reading_an_aborted_write_is_g1a() {
        let steps = |first: &[(i64, i64)]| {
            vec![
                s(0, Set(1, 101), n(1)),
                s(1, Read(All), rows(first)),
                s(0, Rollback, ok()),
                s(1, Read(All), rows(&SEEDED)),
                s(1, Commit, ok()),
            ]
        };
        let dirty = run(&steps(&[(1, 101), (2, 20)]), &SEEDED);
        assert_eq!(cell(Anomaly::G1a, &dirty), Outcome::Allowed);
        let clean = run(&steps(&SEEDED), &SEEDED);
        assert_eq!(cell(Anomaly::G1a, &clean), Outcome::Snapshot);
        assert_eq!(found(&clean), BTreeSet::new());
    }

    #[test]
    fn interleaved_final_values_are_g0() {
        let steps = [
            s(0, Set(1, 11), n(1)),
            blocked(1, Set(1, 12), n(1)),
            s(0, Set(2, 21), n(1)),
            s(0, Commit, ok()),
            s(1, Set(2, 22), n(1)),
            s(1, Commit, ok()),
        ];
        assert_eq!(cell(Anomaly::G0, &run(&steps, &[(1, 12), (2, 21)])), Outcome::Allowed);
        let serial = run(&steps, &[(1, 12), (2, 22)]);
        assert_eq!(cell(Anomaly::G0, &serial), Outcome::Blocked);
        assert_eq!(found(&serial), BTreeSet::new());
    }

    /// PostgreSQL read committed and repeatable read, MySQL read committed and repeatable read on
    /// the G1c script: each reads the other's row as it was before the other's write. Write skew
    /// (G2-item), not circular information flow.
    #[test]
    fn write_skew_from_committed_reads_is_not_g1c() {
        let trace = run(
            &[
                s(0, Set(1, 11), n(1)),
                s(1, Set(2, 22), n(1)),
                s(0, Read(Id(2)), rows(&[(2, 20)])),
                s(1, Read(Id(1)), rows(&[(1, 10)])),
                s(0, Commit, ok()),
                s(1, Commit, ok()),
            ],
            &[(1, 11), (2, 22)],
        );
        assert_eq!(cell(Anomaly::G1c, &trace), Outcome::Snapshot);
        assert_eq!(found(&trace), BTreeSet::from([Phenomenon::G2Item, Phenomenon::G2]));
        assert!(!judge(&trace).serializable());
    }

    /// MySQL read uncommitted: each reads the other's uncommitted write.
    #[test]
    fn reading_each_others_writes_is_g1c() {
        let trace = run(
            &[
                s(0, Set(1, 11), n(1)),
                s(1, Set(2, 22), n(1)),
                s(0, Read(Id(2)), rows(&[(2, 22)])),
                s(1, Read(Id(1)), rows(&[(1, 11)])),
                s(0, Commit, ok()),
                s(1, Commit, ok()),
            ],
            &[(1, 11), (2, 22)],
        );
        assert_eq!(cell(Anomaly::G1c, &trace), Outcome::Allowed);
        assert!(!found(&trace).contains(&Phenomenon::G0));
    }

    fn otv(t3: [[(i64, i64); 2]; 3]) -> Trace {
        run(
            &[
                s(0, Set(1, 11), n(1)),
                s(0, Set(2, 19), n(1)),
                blocked(1, Set(1, 12), n(1)),
                s(0, Commit, ok()),
                s(2, Read(All), rows(&t3[0])),
                s(1, Set(2, 18), n(1)),
                s(2, Read(All), rows(&t3[1])),
                s(1, Commit, ok()),
                s(2, Read(All), rows(&t3[2])),
                s(2, Commit, ok()),
            ],
            &[(1, 12), (2, 18)],
        )
    }

    /// PostgreSQL and MySQL read committed: T3 sees T1's rows twice, then T2's. A
    /// non-repeatable read; T2 never vanishes once seen.
    #[test]
    fn seeing_a_transaction_late_is_not_otv() {
        let trace = otv([[(1, 11), (2, 19)], [(1, 11), (2, 19)], [(1, 12), (2, 18)]]);
        assert_eq!(cell(Anomaly::Otv, &trace), Outcome::Blocked);
        assert!(found(&trace).contains(&Phenomenon::GSingle));
        assert!(!judge(&trace).serializable());
    }

    /// MySQL read uncommitted: T3 sees T2's 12 next to T1's 19, which T2 overwrites.
    #[test]
    fn seeing_part_of_a_transaction_is_otv() {
        let trace = otv([[(1, 12), (2, 19)], [(1, 12), (2, 18)], [(1, 12), (2, 18)]]);
        assert_eq!(cell(Anomaly::Otv, &trace), Outcome::Allowed);
        // Seeing T2 and then, later, a row as it was before T2.
        let later = otv([[(1, 11), (2, 19)], [(1, 12), (2, 18)], [(1, 11), (2, 19)]]);
        assert!(found(&later).contains(&Phenomenon::Otv));
    }

    fn pmp(second: &[(i64, i64)]) -> Trace {
        run(
            &[
                s(0, Read(ValueEq(30)), rows(&[])),
                s(1, Insert(3, 30), ok()),
                s(1, Commit, ok()),
                s(0, Read(ValueGe(30)), rows(second)),
                s(0, Commit, ok()),
            ],
            &[(1, 10), (2, 20), (3, 30)],
        )
    }

    #[test]
    fn a_predicate_read_seeing_a_new_match_is_pmp() {
        assert_eq!(cell(Anomaly::Pmp, &pmp(&[(3, 30)])), Outcome::Allowed);
        let snapshot = pmp(&[]);
        assert_eq!(cell(Anomaly::Pmp, &snapshot), Outcome::Snapshot);
        assert_eq!(found(&snapshot), BTreeSet::new());
    }

    /// MySQL/MariaDB read committed on PMP-write: T2's read sees row 2 = 20 from before T1; its
    /// delete, after T1, matches row 1 (20 after T1's +10) instead: its two predicate reads of
    /// `value = 20` have different preceders.
    #[test]
    fn a_delete_matching_other_rows_than_the_read_before_it_is_pmp() {
        let trace = run(
            &[
                s(0, AddToAll(10), n(2)),
                s(1, Read(ValueEq(20)), rows(&[(2, 20)])),
                blocked(1, DeleteWhereValue(20), n(1)),
                s(0, Commit, ok()),
                s(1, Read(ValueEq(20)), rows(&[])),
                s(1, Commit, ok()),
            ],
            &[(2, 30)],
        );
        assert_eq!(cell(Anomaly::PmpWrite, &trace), Outcome::Allowed);
    }

    /// MySQL read uncommitted on PMP-write: T2 reads T1's uncommitted row 1 = 20, deletes it after
    /// T1 commits, and then finds nothing: every predicate read saw T1. T1 then T2.
    #[test]
    fn a_delete_consistent_with_the_read_before_it_is_not_pmp() {
        let trace = run(
            &[
                s(0, AddToAll(10), n(2)),
                s(1, Read(ValueEq(20)), rows(&[(1, 20)])),
                blocked(1, DeleteWhereValue(20), n(1)),
                s(0, Commit, ok()),
                s(1, Read(ValueEq(20)), rows(&[])),
                s(1, Commit, ok()),
            ],
            &[(2, 30)],
        );
        assert_eq!(cell(Anomaly::PmpWrite, &trace), Outcome::Blocked);
        assert_eq!(found(&trace), BTreeSet::new());
        assert!(judge(&trace).serializable());
    }

    fn p4(second_write: Reply, second_commit: Reply) -> Trace {
        run(
            &[
                s(0, Read(Id(1)), rows(&[(1, 10)])),
                s(1, Read(Id(1)), rows(&[(1, 10)])),
                s(0, Set(1, 11), n(1)),
                blocked(1, Set(1, 11), second_write),
                s(0, Commit, ok()),
                s(1, Commit, second_commit),
            ],
            &[(1, 11), (2, 20)],
        )
    }

    #[test]
    fn two_writes_over_the_same_read_are_p4() {
        // Both wrote 11: the final rows do not say whose write is last; either order loses one.
        let lost = p4(n(1), ok());
        assert_eq!(cell(Anomaly::P4, &lost), Outcome::Allowed);
        assert_eq!(analyse(&lost).map(|a| a.interpretations), Ok(2));
        assert_eq!(cell(Anomaly::P4, &p4(serialization_failure(), Reply::Skipped)), Outcome::Aborted);
    }

    fn g_single(second: (i64, i64)) -> Trace {
        run(
            &[
                s(0, Read(Id(1)), rows(&[(1, 10)])),
                s(1, Read(Id(1)), rows(&[(1, 10)])),
                s(1, Read(Id(2)), rows(&[(2, 20)])),
                s(1, Set(1, 12), n(1)),
                s(1, Set(2, 18), n(1)),
                s(1, Commit, ok()),
                s(0, Read(Id(2)), rows(&[second])),
                s(0, Commit, ok()),
            ],
            &[(1, 12), (2, 18)],
        )
    }

    #[test]
    fn reading_before_and_after_a_transaction_is_g_single() {
        let skew = g_single((2, 18));
        assert_eq!(cell(Anomaly::GSingle, &skew), Outcome::Allowed);
        assert_eq!(found(&skew), BTreeSet::from([Phenomenon::GSingle, Phenomenon::G2Item, Phenomenon::G2]));
        let snapshot = g_single((2, 20));
        assert_eq!(cell(Anomaly::GSingle, &snapshot), Outcome::Snapshot);
        assert_eq!(found(&snapshot), BTreeSet::new());
    }

    /// MySQL/MariaDB repeatable read on G-single-write: T1's delete reads the current row 2 (T2's
    /// 18, no match: a predicate read that depends on T2), after T1 read row 1 from before T2.
    #[test]
    fn a_delete_that_sees_a_transaction_the_reads_did_not_is_g_single() {
        let trace = run(
            &[
                s(0, Read(Id(1)), rows(&[(1, 10)])),
                s(1, Read(All), rows(&SEEDED)),
                s(1, Set(1, 12), n(1)),
                s(1, Set(2, 18), n(1)),
                s(1, Commit, ok()),
                s(0, DeleteWhereValue(20), n(0)),
                s(0, Read(Id(2)), rows(&[(2, 20)])),
                s(0, Commit, ok()),
            ],
            &[(1, 12), (2, 18)],
        );
        assert_eq!(cell(Anomaly::GSingleWrite, &trace), Outcome::Allowed);
        let failed = run(
            &[
                s(0, Read(Id(1)), rows(&[(1, 10)])),
                s(1, Read(All), rows(&SEEDED)),
                s(1, Set(1, 12), n(1)),
                s(1, Set(2, 18), n(1)),
                s(1, Commit, ok()),
                s(0, DeleteWhereValue(20), serialization_failure()),
                s(0, Read(Id(2)), Reply::Skipped),
                s(0, Commit, Reply::Skipped),
            ],
            &[(1, 12), (2, 18)],
        );
        assert_eq!(cell(Anomaly::GSingleWrite, &failed), Outcome::Aborted);
    }

    #[test]
    fn disjoint_writes_after_reading_both_rows_are_g2_item_not_g_single() {
        let trace = run(
            &[
                s(0, Read(Ids(1, 2)), rows(&SEEDED)),
                s(1, Read(Ids(1, 2)), rows(&SEEDED)),
                s(0, Set(1, 11), n(1)),
                s(1, Set(2, 21), n(1)),
                s(0, Commit, ok()),
                s(1, Commit, ok()),
            ],
            &[(1, 11), (2, 21)],
        );
        assert_eq!(cell(Anomaly::G2Item, &trace), Outcome::Allowed);
        assert_eq!(found(&trace), BTreeSet::from([Phenomenon::G2Item, Phenomenon::G2]));
    }

    #[test]
    fn inserts_each_missed_by_the_others_predicate_read_are_g2_not_g2_item() {
        let trace = run(
            &[
                s(0, Read(ValueGe(30)), rows(&[])),
                s(1, Read(ValueGe(30)), rows(&[])),
                s(0, Insert(3, 30), ok()),
                s(1, Insert(4, 42), ok()),
                s(0, Commit, ok()),
                s(1, Commit, ok()),
            ],
            &[(1, 10), (2, 20), (3, 30), (4, 42)],
        );
        assert_eq!(cell(Anomaly::G2, &trace), Outcome::Allowed);
        assert_eq!(found(&trace), BTreeSet::from([Phenomenon::G2]));
    }

    #[test]
    fn a_value_nobody_wrote_is_unexplained() {
        let trace = run(&[s(0, Read(Id(1)), rows(&[(1, 99)])), s(0, Commit, ok())], &SEEDED);
        assert!(analyse(&trace).is_err());
        assert!(classify(Anomaly::G0, &trace).is_err());
    }

    #[test]
    fn overlapping_predicates() {
        assert!(overlap(ValueEq(30), ValueGe(30)));
        assert!(!overlap(ValueEq(20), ValueGe(30)));
        assert!(!overlap(Id(1), Id(2)));
        assert!(overlap(Ids(1, 2), Id(2)));
        assert!(overlap(Id(1), ValueEq(20)));
        assert!(overlap(All, ValueEq(20)));
    }
}
