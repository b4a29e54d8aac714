//! The timing harness: each implementation times its own critical section (so untimed setup,
//! such as preloading a session, stays out), the runner interleaves implementations rep by rep
//! (load on the shared machine then hits all of them alike) and keeps the median.

use std::time::{Duration, Instant};

/// Errors of the runner (every driver's error type converts into it).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;
/// A result of the runner.
pub type Res<T> = std::result::Result<T, BoxError>;

/// The workloads, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// N new objects added and committed in one transaction.
    InsertN,
    /// Load all N rows into structs.
    SelectAll,
    /// N/10 primary-key lookups; Athanor: each in a fresh session; raw and Diesel: all in one
    /// transaction.
    GetByPk,
    /// The same lookups, each in a transaction of its own for everyone (Athanor: a fresh session
    /// each), so all three send the same statements.
    GetByPkTxEach,
    /// The same lookups; Athanor: all in one session (identity-map misses, one transaction).
    GetByPkOneSession,
    /// N/10 `Session::get` calls answered by the identity map (Athanor only).
    GetByPkHit,
    /// `age >= 18 ORDER BY name` into structs.
    FilterOrder,
    /// N/10 one-row queries by a unique non-key column (`WHERE email = ?`), all in one session /
    /// transaction: the per-query cost of the query API (rendering, binding, the first row).
    FilterOne,
    /// Load N/10 rows, change one field of each, commit.
    UpdateDirty,
    /// Load 100 users with their 10 posts each and the 10 comments of each post (a fixed size,
    /// whatever N is; its own three tables): Athanor `selectinload` two levels deep, the raw
    /// driver's three queries grouped by hash maps, Diesel's `belonging_to` + `grouped_by`.
    LoadAssoc,
}

impl Workload {
    /// Every workload, in running order.
    pub const ALL: [Workload; 10] = [
        Workload::InsertN,
        Workload::SelectAll,
        Workload::GetByPk,
        Workload::GetByPkTxEach,
        Workload::GetByPkOneSession,
        Workload::GetByPkHit,
        Workload::FilterOrder,
        Workload::FilterOne,
        Workload::UpdateDirty,
        Workload::LoadAssoc,
    ];

    /// The name in tables and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Workload::InsertN => "insert_n",
            Workload::SelectAll => "select_all",
            Workload::GetByPk => "get_by_pk",
            Workload::GetByPkTxEach => "get_by_pk_tx_each",
            Workload::GetByPkOneSession => "get_by_pk_1session",
            Workload::GetByPkHit => "get_by_pk_hit",
            Workload::FilterOrder => "filter_order",
            Workload::FilterOne => "filter_one",
            Workload::UpdateDirty => "update_dirty",
            Workload::LoadAssoc => "load_assoc",
        }
    }

    /// The target for Athanor/raw (`None`: no target).
    pub fn raw_target(self) -> Option<f64> {
        match self {
            Workload::InsertN | Workload::SelectAll | Workload::FilterOrder => Some(1.15),
            Workload::GetByPk | Workload::UpdateDirty => Some(1.3),
            Workload::FilterOne => Some(1.2),
            Workload::GetByPkTxEach | Workload::GetByPkOneSession | Workload::GetByPkHit | Workload::LoadAssoc => None,
        }
    }

    /// `true` for a workload on the `bench_customers` table of N rows (which `insert_n` fills);
    /// `false` for `load_assoc`, which has its own tables of a fixed size and runs once per
    /// database, at the first N.
    pub fn per_size(self) -> bool {
        self != Workload::LoadAssoc
    }
}

/// Which implementation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Imp {
    /// Athanor's Session/Query API.
    Athanor,
    /// The raw driver, prepared statements, one transaction.
    Raw,
    /// Diesel.
    Diesel,
}

impl Imp {
    /// The name in tables and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Imp::Athanor => "athanor",
            Imp::Raw => "raw",
            Imp::Diesel => "diesel",
        }
    }
}

/// What the workloads are given.
#[derive(Debug, Clone)]
pub struct Params {
    /// The rows `insert_n` writes (and the table holds for the others).
    pub rows: Vec<crate::data::NewRow>,
    /// The smallest key of the seeded table (keys are `first..first + n`).
    pub first_id: i64,
    /// The keys `get_by_pk` looks up.
    pub lookup: Vec<i64>,
    /// Which tenth of the table `update_dirty` changes (each implementation its own, so none
    /// updates rows another one has just changed: InnoDB in particular is much slower on rows
    /// whose old versions are not purged yet).
    pub update_slot: usize,
}

impl Params {
    /// N.
    pub fn n(&self) -> usize {
        self.rows.len()
    }
    /// The emails of the `lookup` keys' rows (what `filter_one` looks up).
    pub fn lookup_emails(&self) -> impl Iterator<Item = &str> + '_ {
        self.lookup.iter().map(move |&id| self.rows[(id - self.first_id) as usize].email.as_str())
    }
    /// The key range `update_dirty` loads and changes: N/10 keys, the `update_slot`-th tenth.
    pub fn update_range(&self) -> (i64, i64) {
        let tenth = (self.n() / 10) as i64;
        let lo = self.first_id + tenth * self.update_slot as i64;
        (lo, lo + tenth - 1)
    }
}

/// One implementation of the workloads on one database. Each method times only the workload
/// itself and returns that time with a count of rows seen (checked against the expectation, so
/// an implementation cannot win by doing less).
pub trait Contender {
    /// Run `w` once; `None` when this implementation has no equivalent.
    fn run(&mut self, w: Workload, p: &Params) -> Res<Option<(Duration, usize)>>;

    /// How many statements the last run sent (round trips on a server database), where the
    /// implementation can tell.
    fn statements(&self) -> Option<u64> {
        None
    }

    /// What the last `load_assoc` run loaded, walking its result: (users, posts, comments).
    fn assoc_shape(&self) -> Option<(usize, usize, usize)> {
        None
    }
}

/// Time `f`.
pub fn timed<T>(f: impl FnOnce() -> Res<T>) -> Res<(Duration, T)> {
    let start = Instant::now();
    let v = f()?;
    Ok((start.elapsed(), v))
}

/// The median of some durations (the mean of the middle two for an even count).
pub fn median(mut v: Vec<Duration>) -> Option<Duration> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 { v[m] } else { (v[m - 1] + v[m]) / 2 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        let ms = Duration::from_millis;
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![ms(3), ms(1), ms(2)]), Some(ms(2)));
        assert_eq!(median(vec![ms(4), ms(1), ms(2), ms(3)]), Some(Duration::from_micros(2500)));
    }
}
