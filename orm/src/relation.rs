//! Relationship descriptions: how two mapped tables are linked (SQLAlchemy's `relationship()`
//! configuration), as plain `&'static` data beside the catalog (`schema.rs`).
//!
//! `#[derive(Model)]` writes one [`RelationshipDef`] per `HasMany` / `BelongsTo` / `ManyToMany`
//! field. The foreign key is found at compile time by the `const fn`s below, which the generated
//! code evaluates in `const` items: a missing or ambiguous key fails the build with a message
//! naming both models. What the session does with a relationship (loading, the object graph,
//! the flush) is in `session/`.

use athanor_core::schema::{ColumnDef, ForeignKeyDef, TableDef};
use std::any::TypeId;

/// The shape of a relationship, seen from the model that declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelationKind {
    /// `BelongsTo<T>`: this table holds the foreign key to `T` (many-to-one).
    ManyToOne,
    /// `HasMany<T>`: `T`'s table holds the foreign key to this one (one-to-many).
    OneToMany,
    /// `ManyToMany<T>`: an association table holds foreign keys to both.
    ManyToMany,
}

/// How a relationship is loaded when nothing in the query says otherwise (`lazy = "…"`), and
/// what a loader option asks for (SQLAlchemy's loader strategies).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadStrategy {
    /// `lazy = "select"` (the default): loaded by an explicit `Session::related` call, one
    /// SELECT for the one object asked about. Never implicit.
    Select,
    /// `lazy = "selectin"`: after the objects are loaded, one `SELECT … WHERE key IN (…)` for all
    /// of them (chunked under the database's bind-parameter limit).
    Selectin,
    /// `lazy = "joined"`: a `LEFT OUTER JOIN` in the statement that loads the objects.
    Joined,
    /// `lazy = "raise"`: `Session::related` fails with `Error::LazyLoadForbidden` unless the
    /// relationship was loaded by an eager option.
    Raise,
}

/// Which session operations follow a relationship to the related objects (`cascade = "…"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cascade {
    /// `save-update` (on by default): related objects are added to the session with their parent.
    pub save_update: bool,
    /// `delete`: deleting the parent deletes the related objects.
    pub delete: bool,
    /// `delete-orphan`: an object removed from the collection is deleted.
    pub delete_orphan: bool,
}

impl Cascade {
    /// SQLAlchemy's default: `save-update` only.
    pub const DEFAULT: Cascade = Cascade { save_update: true, delete: false, delete_orphan: false };
}

/// The model at the other end of a relationship, as plain data: its table, its relationships
/// and its type, but none of its code.
///
/// Plain data on purpose: were it code (a loader of the target), the compiler would
/// instantiate, for each model, the code of every model reachable through relationships, one
/// inside the other, and a long enough path of relationships (about 100 models) would not
/// compile. The session finds the target's loader at run time (`session/loaders.rs`).
/// `#[derive(Model)]` writes the two functions as items of the owner's own code.
#[derive(Clone, Copy)]
pub struct ModelRef {
    /// The target's table.
    pub table: &'static TableDef,
    /// The target's relationships (`<T as Model>::RELATIONSHIPS`, behind a function so that two
    /// models' constants can name each other).
    pub relationships: fn() -> &'static [RelationshipDef],
    /// `TypeId::of::<T>()`.
    pub type_id: fn() -> TypeId,
}

impl ModelRef {
    /// The target's table.
    pub fn table(&self) -> &'static TableDef {
        self.table
    }
    /// The target's relationships.
    pub fn relationships(&self) -> &'static [RelationshipDef] {
        (self.relationships)()
    }
    /// The target's type.
    pub fn type_id(&self) -> TypeId {
        (self.type_id)()
    }
    /// The reference of model `M` (for a model met by typed code: a query's own model).
    pub fn of<M: crate::model::Model>() -> ModelRef {
        fn relationships<M: crate::model::Model>() -> &'static [RelationshipDef] {
            M::RELATIONSHIPS
        }
        ModelRef { table: M::TABLE, relationships: relationships::<M>, type_id: TypeId::of::<M> }
    }
}

impl std::fmt::Debug for ModelRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ModelRef({})", self.table.rust_name)
    }
}

/// One relationship of a mapped model.
///
/// Column positions are in `TableDef::columns` order:
///
/// | kind | `local` (on the owner) | `remote` (on the target) |
/// |---|---|---|
/// | many-to-one | the foreign-key column | the referenced column |
/// | one-to-many | the referenced column | the foreign-key column |
/// | many-to-many | the column the association references | likewise on the target |
#[derive(Clone, Copy)]
pub struct RelationshipDef {
    /// The field's name.
    pub name: &'static str,
    /// The declaring model's table.
    pub owner: &'static TableDef,
    /// The shape.
    pub kind: RelationKind,
    /// The related model.
    pub target: ModelRef,
    /// The owner's column (see the table above).
    pub local: usize,
    /// The target's column (see the table above).
    pub remote: usize,
    /// The association table of a many-to-many relationship.
    pub secondary: Option<&'static TableDef>,
    /// The association's column that references the owner.
    pub secondary_local: usize,
    /// The association's column that references the target.
    pub secondary_remote: usize,
    /// The relationship on the target that mirrors this one (`back_populates = "…"`).
    pub back_populates: Option<&'static str>,
    /// The cascades.
    pub cascade: Cascade,
    /// The order of a collection: target columns, `true` for descending. Empty: the target's
    /// primary key, so that a collection has the same order on every database.
    pub order_by: &'static [(usize, bool)],
    /// The default loading strategy.
    pub lazy: LoadStrategy,
}

impl std::fmt::Debug for RelationshipDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelationshipDef")
            .field("name", &format_args!("{}.{}", self.owner.rust_name, self.name))
            .field("kind", &self.kind)
            .field("target", &self.target.table().rust_name)
            .field("local", &self.owner.columns.get(self.local).map(|c| c.name))
            .field("remote", &self.target.table().columns.get(self.remote).map(|c| c.name))
            .field("secondary", &self.secondary.map(|t| t.name))
            .field("back_populates", &self.back_populates)
            .field("cascade", &self.cascade)
            .field("lazy", &self.lazy)
            .finish()
    }
}

impl RelationshipDef {
    /// `Owner.field`, for messages.
    pub fn describe(&self) -> String {
        format!("{}.{}", self.owner.rust_name, self.name)
    }

    /// `true` for `HasMany` and `ManyToMany`.
    pub fn is_collection(&self) -> bool {
        !matches!(self.kind, RelationKind::ManyToOne)
    }

    /// The collection's sort keys on the target (its primary key when none were given).
    pub fn order_keys(&self) -> Vec<(usize, bool)> {
        if self.order_by.is_empty() {
            self.target.table().primary_key().map(|c| (c, false)).collect()
        } else {
            self.order_by.to_vec()
        }
    }

    /// The relationship `back_populates` names on the target.
    pub fn reverse(&self) -> Option<(usize, &'static RelationshipDef)> {
        let name = self.back_populates?;
        self.target.relationships().iter().enumerate().find(|(_, r)| r.name == name)
    }
}

/// `true` when `rels` has a relationship `name` of this kind (the derive checks
/// `back_populates` with it at compile time).
pub const fn has_relationship(rels: &[RelationshipDef], name: &str, kind: RelationKind) -> bool {
    let mut i = 0;
    while i < rels.len() {
        if str_eq(rels[i].name, name) && rels[i].kind as u8 == kind as u8 {
            return true;
        }
        i += 1;
    }
    false
}

/// [`find_foreign_key`]'s answer when no column qualifies.
pub const FK_NONE: usize = usize::MAX;
/// [`find_foreign_key`]'s answer when several columns qualify.
pub const FK_AMBIGUOUS: usize = usize::MAX - 1;

/// `a == b` in a `const` context.
pub const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The position of the column of `on` that is a foreign key to `references` (and is named
/// `named`, unless `named` is empty): [`FK_NONE`] or [`FK_AMBIGUOUS`] otherwise.
///
/// Evaluated at compile time by the code `#[derive(Model)]` writes.
pub const fn find_foreign_key(on: &TableDef, references: &TableDef, named: &str) -> usize {
    let mut found = FK_NONE;
    let mut i = 0;
    while i < on.columns.len() {
        let c = &on.columns[i];
        let name_ok = named.is_empty() || str_eq(c.name, named) || str_eq(c.field, named);
        if let Some(fk) = c.foreign_key {
            if name_ok && str_eq(fk.table, references.name) {
                if found != FK_NONE {
                    return FK_AMBIGUOUS;
                }
                found = i;
            }
        }
        i += 1;
    }
    found
}

/// The position in `references` of the column the foreign key `on.columns[fk]` references
/// ([`FK_NONE`] if there is none).
pub const fn referenced_column(on: &TableDef, fk: usize, references: &TableDef) -> usize {
    if fk >= on.columns.len() {
        return FK_NONE;
    }
    match on.columns[fk].foreign_key {
        Some(ForeignKeyDef { column, .. }) => column_position(references, column),
        None => FK_NONE,
    }
}

/// The position of a column by name or field name ([`FK_NONE`] if absent).
pub const fn column_position(table: &TableDef, name: &str) -> usize {
    let mut i = 0;
    while i < table.columns.len() {
        if str_eq(table.columns[i].name, name) || str_eq(table.columns[i].field, name) {
            return i;
        }
        i += 1;
    }
    FK_NONE
}

/// The position of a table's single primary-key column ([`FK_NONE`] when it has none or
/// several: a many-to-many relationship needs one on each side).
pub const fn single_primary_key(table: &TableDef) -> usize {
    let mut found = FK_NONE;
    let mut i = 0;
    while i < table.columns.len() {
        if table.columns[i].primary_key {
            if found != FK_NONE {
                return FK_NONE;
            }
            found = i;
        }
        i += 1;
    }
    found
}

/// A column of an association table: part of its primary key and a foreign key to the single
/// primary-key column of `references`, of the same type.
pub const fn association_column(name: &'static str, references: &'static TableDef) -> ColumnDef {
    let pk = single_primary_key(references);
    let (sql_type, column) = if pk < references.columns.len() {
        (references.columns[pk].sql_type, references.columns[pk].name)
    } else {
        (athanor_core::value::SqlType::BigInt, "id")
    };
    ColumnDef {
        primary_key: true,
        foreign_key: Some(ForeignKeyDef { table: references.name, column }),
        ..ColumnDef::new(name, sql_type)
    }
}

/// `BlogPost` → `blog_post`: the rule `#[derive(Model)]` and `Base::association` use to name an
/// association table's columns (`<snake case of the model>_id`). The derive keeps its own copy;
/// `tests/snake_case_agrees.rs` of the facade checks the two agree.
pub fn snake_case(rust_name: &str) -> String {
    let mut out = String::with_capacity(rust_name.len() + 4);
    for (i, ch) in rust_name.chars().enumerate() {
        if ch.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(ch.to_lowercase());
        } else {
            out.push(ch);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use athanor_core::value::SqlType;

    const ID: ColumnDef = ColumnDef { primary_key: true, autoincrement: true, ..ColumnDef::new("id", SqlType::BigInt) };
    const fn fk(name: &'static str, table: &'static str) -> ColumnDef {
        ColumnDef { foreign_key: Some(ForeignKeyDef { table, column: "id" }), ..ColumnDef::new(name, SqlType::BigInt) }
    }
    static USERS: TableDef = TableDef { name: "users", rust_name: "User", columns: &[ID] };
    static POSTS: TableDef =
        TableDef { name: "posts", rust_name: "Post", columns: &[ID, fk("user_id", "users"), fk("editor_id", "users")] };
    static TREE: TableDef = TableDef { name: "tree", rust_name: "Node", columns: &[ID, fk("parent_id", "tree")] };

    #[test]
    fn foreign_keys_are_found_named_or_refused() {
        assert_eq!(find_foreign_key(&POSTS, &USERS, ""), FK_AMBIGUOUS);
        assert_eq!(find_foreign_key(&POSTS, &USERS, "user_id"), 1);
        assert_eq!(find_foreign_key(&POSTS, &USERS, "editor_id"), 2);
        assert_eq!(find_foreign_key(&USERS, &POSTS, ""), FK_NONE);
        assert_eq!(find_foreign_key(&TREE, &TREE, ""), 1);
        assert_eq!(referenced_column(&POSTS, 1, &USERS), 0);
        assert_eq!(referenced_column(&POSTS, 0, &USERS), FK_NONE);
        assert_eq!(single_primary_key(&POSTS), 0);
        let c = association_column("user_id", &USERS);
        assert!(c.primary_key && c.foreign_key == Some(ForeignKeyDef { table: "users", column: "id" }));
        assert!(!str_eq("ab", "abc") && str_eq("", ""));
        assert_eq!(snake_case("BlogPost"), "blog_post");
        assert_eq!(snake_case("Tag"), "tag");
    }
}
