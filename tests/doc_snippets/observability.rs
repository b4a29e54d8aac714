// Context of docs/observability.md's snippets: an engine (and a session), as the default
// parameters give them.
use athanor::prelude::*;

// The events section's model and helpers.
#[derive(Model, Debug, Clone)]
#[model(table = "posts")]
pub struct Post {
    #[column(primary_key)]
    pub id: Option<i64>,
    pub title: String,
    pub slug: String,
    pub updated_at: i64,
}

pub fn slugify(title: &str) -> String {
    title.to_lowercase().replace(' ', "-")
}

pub fn now() -> i64 {
    0
}

pub fn audit(table: &str, keys: &[Vec<Value>]) {
    tracing::info!(table, rows = keys.len(), "bulk update");
}
