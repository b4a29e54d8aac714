//! The declarative [`Base`]: a catalog of mapped models and the [`MetaData`] of their tables.
//! It registers `Model`s and reads their relationships, so it lives on the ORM floor; `MetaData`
//! (tables, `create_all`) stays below it in `metadata.rs`.

use crate::model::Model;
use athanor_core::metadata::MetaData;
use athanor_core::schema::TableDef;

/// The declarative base: one catalog of mapped models and the [`MetaData`] of their tables
/// (`declarative_base()` in SQLAlchemy). Usually built once and shared.
///
/// ```
/// use athanor_orm::Base;
/// use athanor_core::{TableDef, ColumnDef, SqlType};
/// # use athanor_orm::Model;
/// # use athanor_core::{Row, ValueRef, Result};
/// # struct T;
/// # impl Model for T {
/// #     const TABLE: &'static TableDef = &TableDef { name: "t", rust_name: "T", columns: &[ColumnDef { primary_key: true, ..ColumnDef::new("id", SqlType::BigInt) }] };
/// #     fn column_value(&self, _: usize) -> ValueRef<'_> { ValueRef::Null }
/// #     fn from_row(_: &dyn Row) -> Result<Self> { Ok(T) }
/// #     fn set_generated_key(&mut self, _: i64) -> Result<()> { Ok(()) }
/// # }
/// let base = Base::new().register::<T>();
/// assert_eq!(base.metadata().tables()[0].name, "t");
///
/// // A base built by a function: its metadata does not borrow the temporary.
/// fn models() -> Base {
///     Base::new().register::<T>()
/// }
/// let md = models().metadata();
/// assert_eq!(md.tables().len(), 1);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Base {
    metadata: MetaData,
}

impl Base {
    /// An empty catalog.
    pub fn new() -> Self {
        Base::default()
    }

    /// Add model `M` to the catalog (registering it twice is harmless).
    pub fn register<M: Model>(mut self) -> Self {
        self.metadata.add(M::TABLE);
        for r in M::RELATIONSHIPS {
            if let Some(t) = r.secondary {
                self.metadata.add(t);
            }
        }
        self
    }

    /// Declare an association table for a many-to-many relationship: two columns, each a
    /// foreign key to one model's primary key, together the primary key
    /// (`Base::new().association("post_tags", (Post::id, Tag::id))` makes `post_id` and
    /// `tag_id`). A `ManyToMany` field with `secondary = "post_tags"` declares the same table
    /// itself when its model is registered, so this is needed only for a table no relationship
    /// names; declaring it differently from the relationship is an error at `create_all`.
    ///
    /// The description lives as long as the program (it is leaked once per call, like a
    /// derived model's static table).
    pub fn association<A: Model, TA, B: Model, TB>(
        mut self,
        name: &'static str,
        columns: (crate::expr::Column<A, TA>, crate::expr::Column<B, TB>),
    ) -> Self {
        // Each column must be its model's single primary key (what the association references).
        for (t, idx) in [(A::TABLE, columns.0.index), (B::TABLE, columns.1.index)] {
            if crate::relation::single_primary_key(t) != idx {
                self.metadata.conflict(format!(
                    "association {name:?}: {}.{} is not the single primary key of {} (an association \
                     table references primary keys)",
                    t.name,
                    t.columns.get(idx).map_or("?", |c| c.name),
                    t.rust_name
                ));
                return self;
            }
        }
        let col = |t: &'static TableDef| -> &'static str {
            let snake = crate::relation::snake_case(t.rust_name);
            Box::leak(format!("{snake}_id").into_boxed_str())
        };
        let (a, b) = (col(A::TABLE), col(B::TABLE));
        let mut cols =
            [crate::relation::association_column(a, A::TABLE), crate::relation::association_column(b, B::TABLE)];
        cols.sort_by(|x, y| x.name.cmp(y.name));
        let table: &'static TableDef =
            Box::leak(Box::new(TableDef { name, rust_name: name, columns: Box::leak(Box::new(cols)) }));
        self.metadata.add(table);
        self
    }

    /// The catalog's tables, as a [`MetaData`] value of its own (SQLAlchemy's `Base.metadata`).
    ///
    /// The value is a copy (a list of `&'static` table definitions), so it does not borrow the
    /// base: `base().metadata().create_all(&engine)` and `let md = base().metadata();` both work
    /// when the base is built by a function.
    pub fn metadata(&self) -> MetaData {
        self.metadata.clone()
    }
}
