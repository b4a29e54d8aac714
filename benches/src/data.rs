//! The benchmark's data: one `customers(id, name, address, email unique, age)` table, the same
//! rows for every implementation, and the Athanor model mapping it.

use athanor::Model;

/// The table every implementation reads and writes (a name of its own, so the benchmark never
/// touches a test's tables).
pub const TABLE: &str = "bench_customers";

/// The Athanor model of the benchmark's table.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "bench_customers")]
pub struct Customer {
    /// Generated key.
    #[column(primary_key)]
    pub id: Option<i64>,
    /// Name (not unique; `filter_order` sorts by it).
    pub name: String,
    /// Nullable address (every third row has none).
    pub address: Option<String>,
    /// Unique email.
    #[column(unique, length = 255)]
    pub email: String,
    /// Age (0..80; about 78% of the rows are 18 or older).
    pub age: i32,
}

/// A row as the raw drivers load it.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Key.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Address.
    pub address: Option<String>,
    /// Email.
    pub email: String,
    /// Age.
    pub age: i32,
}

/// A row to insert.
#[derive(Debug, Clone)]
pub struct NewRow {
    /// Name.
    pub name: String,
    /// Address.
    pub address: Option<String>,
    /// Email.
    pub email: String,
    /// Age.
    pub age: i32,
}

/// `n` deterministic rows: names in a scrambled order (so `ORDER BY name` sorts for real),
/// unique emails, ages 0..80.
pub fn rows(n: usize) -> Vec<NewRow> {
    (0..n)
        .map(|i| {
            let scrambled = (i as u64).wrapping_mul(2_654_435_761) % 1_000_003;
            NewRow {
                name: format!("customer {scrambled:07}"),
                address: (i % 3 != 0).then(|| format!("{} Main Street, Springfield", i + 1)),
                email: format!("user{i}@example.com"),
                age: (scrambled % 80) as i32,
            }
        })
        .collect()
}

/// How many of `rows(n)` have `age >= 18`.
pub fn adults(rows: &[NewRow]) -> usize {
    rows.iter().filter(|r| r.age >= 18).count()
}

/// The ids `get_by_pk` looks up: `n / 10` distinct keys of the `n` rows with keys
/// `first..first + n`, spread over the table.
pub fn lookup_ids(first: i64, n: usize) -> Vec<i64> {
    let n64 = n as i64;
    (0..(n / 10) as i64).map(|k| first + (k * 7919) % n64).collect()
}

/// The age an `update_dirty` pass writes: flips the lowest bit, so a row's age always changes but
/// stays on the same side of 18 (the `filter_order` result does not move).
pub fn flipped_age(age: i32) -> i32 {
    age ^ 1
}
