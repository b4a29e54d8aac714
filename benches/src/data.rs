//! The benchmark's data: one `customers(id, name, address, email unique, age)` table, the same
//! rows for every implementation, and the Athanor model mapping it; and, for `load_assoc`, three
//! related tables `users → posts → comments` (100 × 10 × 10) with their Athanor models.

use athanor::prelude::*;

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

/// `load_assoc`: the users (a fixed 100, whatever N is).
pub const ASSOC_USERS: usize = 100;
/// `load_assoc`: posts per user.
pub const POSTS_PER_USER: usize = 10;
/// `load_assoc`: comments per post.
pub const COMMENTS_PER_POST: usize = 10;
/// `load_assoc`: (users, posts, comments) every implementation must load.
pub const ASSOC_SHAPE: (usize, usize, usize) =
    (ASSOC_USERS, ASSOC_USERS * POSTS_PER_USER, ASSOC_USERS * POSTS_PER_USER * COMMENTS_PER_POST);

/// The `load_assoc` tables (names of their own: never a test's `users`/`posts`/`comments`).
pub const ASSOC_USERS_TABLE: &str = "bench_assoc_users";
/// Posts of `load_assoc`.
pub const ASSOC_POSTS_TABLE: &str = "bench_assoc_posts";
/// Comments of `load_assoc`.
pub const ASSOC_COMMENTS_TABLE: &str = "bench_assoc_comments";

/// A user of `load_assoc` (Athanor), with their posts.
#[derive(Model, Debug, Clone, Default)]
#[model(table = "bench_assoc_users")]
pub struct BUser {
    /// Key.
    #[column(primary_key)]
    pub id: Option<i64>,
    /// Name.
    pub name: String,
    /// One-to-many through `bench_assoc_posts.user_id`.
    #[relationship(back_populates = "user")]
    pub posts: HasMany<BPost>,
}

/// A post of `load_assoc` (Athanor), with its user and its comments.
#[derive(Model, Debug, Clone, Default)]
#[model(table = "bench_assoc_posts")]
pub struct BPost {
    /// Key.
    #[column(primary_key)]
    pub id: Option<i64>,
    /// The user.
    #[column(foreign_key = "bench_assoc_users.id", index)]
    pub user_id: Option<i64>,
    /// Title.
    pub title: String,
    /// Many-to-one through `user_id`.
    #[relationship(back_populates = "posts")]
    pub user: BelongsTo<BUser>,
    /// One-to-many through `bench_assoc_comments.post_id`.
    #[relationship(back_populates = "post")]
    pub comments: HasMany<BComment>,
}

/// A comment of `load_assoc` (Athanor), with its post.
#[derive(Model, Debug, Clone, Default)]
#[model(table = "bench_assoc_comments")]
pub struct BComment {
    /// Key.
    #[column(primary_key)]
    pub id: Option<i64>,
    /// The post.
    #[column(foreign_key = "bench_assoc_posts.id", index)]
    pub post_id: Option<i64>,
    /// Text.
    pub body: String,
    /// Many-to-one through `post_id`.
    #[relationship(back_populates = "comments")]
    pub post: BelongsTo<BPost>,
}

/// A user row as the raw drivers load it.
#[derive(Debug, Clone, PartialEq)]
pub struct AssocUser {
    /// Key.
    pub id: i64,
    /// Name.
    pub name: String,
}

/// A post row as the raw drivers load it.
#[derive(Debug, Clone, PartialEq)]
pub struct AssocPost {
    /// Key.
    pub id: i64,
    /// The user.
    pub user_id: Option<i64>,
    /// Title.
    pub title: String,
}

/// A comment row as the raw drivers load it.
#[derive(Debug, Clone, PartialEq)]
pub struct AssocComment {
    /// Key.
    pub id: i64,
    /// The post.
    pub post_id: Option<i64>,
    /// Text.
    pub body: String,
}

/// A post with its comments (the raw drivers' result).
#[derive(Debug, Clone, PartialEq)]
pub struct PostWithComments {
    /// The post.
    pub post: AssocPost,
    /// Its comments.
    pub comments: Vec<AssocComment>,
}

/// A user with their posts (the raw drivers' result).
#[derive(Debug, Clone, PartialEq)]
pub struct UserWithPosts {
    /// The user.
    pub user: AssocUser,
    /// Their posts.
    pub posts: Vec<PostWithComments>,
}

/// Group `users`, `posts` and `comments` (as three queries returned them) into the nested
/// result, with hash maps by foreign key (the order of each query is kept within a parent).
pub fn group_assoc(users: Vec<AssocUser>, posts: Vec<AssocPost>, comments: Vec<AssocComment>) -> Vec<UserWithPosts> {
    let mut by_post: std::collections::HashMap<i64, Vec<AssocComment>> =
        std::collections::HashMap::with_capacity(posts.len());
    for c in comments {
        if let Some(p) = c.post_id {
            by_post.entry(p).or_default().push(c);
        }
    }
    let mut by_user: std::collections::HashMap<i64, Vec<PostWithComments>> =
        std::collections::HashMap::with_capacity(users.len());
    for post in posts {
        if let Some(u) = post.user_id {
            let comments = by_post.remove(&post.id).unwrap_or_default();
            by_user.entry(u).or_default().push(PostWithComments { post, comments });
        }
    }
    users
        .into_iter()
        .map(|user| {
            let posts = by_user.remove(&user.id).unwrap_or_default();
            UserWithPosts { user, posts }
        })
        .collect()
}

/// (users, posts, comments) of a nested result, by walking it.
pub fn assoc_counts(graph: &[UserWithPosts]) -> (usize, usize, usize) {
    let posts = graph.iter().map(|u| u.posts.len()).sum();
    let comments = graph.iter().flat_map(|u| &u.posts).map(|p| p.comments.len()).sum();
    (graph.len(), posts, comments)
}

/// Check a nested result in full: every post under its user, every comment under its post, the
/// seeded texts, `POSTS_PER_USER` posts per user and `COMMENTS_PER_POST` comments per post.
pub fn check_assoc(graph: &[UserWithPosts]) -> Result<(), String> {
    for u in graph {
        if u.user.name != assoc_user_name(u.user.id) || u.posts.len() != POSTS_PER_USER {
            return Err(format!("user {} ({:?}) has {} posts", u.user.id, u.user.name, u.posts.len()));
        }
        for p in &u.posts {
            if p.post.user_id != Some(u.user.id) || p.post.title != assoc_post_title(p.post.id) {
                return Err(format!("post {} under user {}: {:?}", p.post.id, u.user.id, p.post));
            }
            if p.comments.len() != COMMENTS_PER_POST {
                return Err(format!("post {} has {} comments", p.post.id, p.comments.len()));
            }
            for c in &p.comments {
                if c.post_id != Some(p.post.id) || c.body != assoc_comment_body(c.id) {
                    return Err(format!("comment {} under post {}: {:?}", c.id, p.post.id, c));
                }
            }
        }
    }
    Ok(())
}

/// The name of user `id`.
pub fn assoc_user_name(id: i64) -> String {
    format!("user {id}")
}

/// The title of post `id`.
pub fn assoc_post_title(id: i64) -> String {
    format!("post {id}")
}

/// The body of comment `id`.
pub fn assoc_comment_body(id: i64) -> String {
    format!("comment {id}: some text a reader left under the post")
}

/// The seed rows of `load_assoc`, keys given: users `1..=100`; posts `1..=1000`, post `p` by user
/// `(p - 1) / 10 + 1`; comments `1..=10000`, comment `c` on post `(c - 1) / 10 + 1`.
pub struct AssocSeed {
    /// `(id, name)`.
    pub users: Vec<(i64, String)>,
    /// `(id, user_id, title)`.
    pub posts: Vec<(i64, i64, String)>,
    /// `(id, post_id, body)`.
    pub comments: Vec<(i64, i64, String)>,
}

/// The `load_assoc` rows.
pub fn assoc_seed() -> AssocSeed {
    let (nu, np, nc) = ASSOC_SHAPE;
    let users = (1..=nu as i64).map(|id| (id, assoc_user_name(id))).collect();
    let posts = (1..=np as i64).map(|id| (id, (id - 1) / POSTS_PER_USER as i64 + 1, assoc_post_title(id))).collect();
    let comments =
        (1..=nc as i64).map(|id| (id, (id - 1) / COMMENTS_PER_POST as i64 + 1, assoc_comment_body(id))).collect();
    AssocSeed { users, posts, comments }
}

/// The multi-row INSERT of `rows` rows into `table (cols…)`, with placeholders made by `ph(i)`
/// for parameter `i` (0-based, row by row).
pub fn multi_insert(table: &str, cols: &[&str], rows: usize, ph: impl Fn(usize) -> String) -> String {
    let k = cols.len();
    let tuples: Vec<String> = (0..rows).map(|r| in_list(k, |j| ph(k * r + j))).collect();
    format!("INSERT INTO {table} ({}) VALUES {}", cols.join(", "), tuples.join(", "))
}

/// `"(p0, p1, …)"` for `n` placeholders made by `ph(i)`.
pub fn in_list(n: usize, ph: impl Fn(usize) -> String) -> String {
    let items: Vec<String> = (0..n).map(ph).collect();
    format!("({})", items.join(", "))
}

/// Rows per seeding INSERT (at most 3 parameters each: well under every database's limit).
pub const SEED_BATCH: usize = 1_000;
