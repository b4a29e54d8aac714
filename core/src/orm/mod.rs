//! The ORM floor's builders that are bound on `Model`: `base.rs` the declarative `Base`,
//! `select.rs` the typed `Select<M>`, `text.rs` raw SQL as a typed condition or scalar. They
//! build the plain data of `sql/ast.rs` and render through `sql/`; nothing below this floor
//! names a model. (The rest of the ORM floor is still at the top level: `model`, `relation`,
//! `expr`, `func`, `session/`.)

mod base;
mod select;
mod text;

pub use base::Base;
pub use select::{select, Select};
