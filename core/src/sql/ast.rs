//! The untyped SQL syntax tree: columns, operands, scalar expressions, boolean expressions and
//! sort keys, as plain data with no model or session in sight. The dialect renders parts of it
//! (casts, NULL order) and the renderers in `sql` write it; the typed layer (`Column<M, T>`,
//! `Condition<M>`, `ScalarExpr<M, T>` in `expr`) builds it.
//!
//! Statement data follows: [`SelectStatement`], [`SubqueryStatement`] and their joins, and
//! [`Text`] (raw SQL with named binds).
//!
//! Every item is also reachable at its old path at the crate root (`athanor_core::Expr`, …).

use crate::error::Error;
use crate::schema::TableDef;
use crate::value::Value;

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `=`
    Eq,
    /// `<>`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CmpOp {
    /// The SQL operator.
    pub fn as_sql(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "<>",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

/// A table-qualified column: rendered `"table"."column"`, each part quoted by the dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ColumnRef {
    /// The table's name.
    pub table: &'static str,
    /// The column's name.
    pub column: &'static str,
}

impl ColumnRef {
    /// Column `column` of table `table`.
    pub const fn new(table: &'static str, column: &'static str) -> Self {
        ColumnRef { table, column }
    }
}

/// The right-hand side of a comparison: a bound value or another column.
///
/// (The expression-language work adds functions and subqueries here.)
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// A value, always sent as a bound parameter.
    Value(Value),
    /// Another column (`"t"."a" < "t"."b"`).
    Column(ColumnRef),
}

/// An arithmetic operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArithOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`: truncating on integers on every database (MySQL's `DIV`), exact otherwise.
    Div,
    /// `%`: the remainder takes the dividend's sign on every database.
    Rem,
}

/// An untyped scalar SQL expression: a column, a bound value, or arithmetic over them.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    /// A table-qualified column.
    Column(ColumnRef),
    /// A value, always bound.
    Value(Value),
    /// `(left op right)`, per the kind of number: integer division truncates; exact decimal
    /// arithmetic is a function on SQLite ([`crate::Dialect::exact_decimal_function`]).
    Arith {
        /// The operator.
        op: ArithOp,
        /// The left operand.
        left: Box<Scalar>,
        /// The right operand.
        right: Box<Scalar>,
        /// Integers, floats or exact decimals.
        kind: NumberKind,
    },
    /// `(-inner)`.
    Neg(Box<Scalar>),
    /// A function over scalar arguments, rendered per dialect.
    Func {
        /// The function.
        func: SqlFunc,
        /// Its arguments.
        args: Vec<Scalar>,
    },
    /// `CASE WHEN cond THEN value … [ELSE value] END`; a bound number in a result is cast to
    /// its type, so PostgreSQL does not take it for text.
    Case {
        /// The conditions and their results, in order.
        whens: Vec<(Expr, Scalar)>,
        /// The result where no condition holds (NULL without one).
        otherwise: Option<Box<Scalar>>,
    },
    /// `(SELECT …)`: a one-column subquery giving one value (NULL for no row).
    Subquery(Box<SubqueryStatement>),
    /// `(raw SQL)` with `:name` binds (`Text::scalar`).
    Text(Box<Text>),
    /// `inner AS label`: a named item of a subquery's select list (only there: a subquery in
    /// FROM names its columns `c0`, `c1`, …).
    Labeled {
        /// The item.
        inner: Box<Scalar>,
        /// Its name.
        label: &'static str,
    },
    /// `CAST(inner AS type)`, rendered per dialect ([`crate::Dialect::cast`]).
    Cast {
        /// The expression converted.
        inner: Box<Scalar>,
        /// The portable type it becomes.
        to: CastType,
    },
}

/// The kind of number an arithmetic expression computes with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberKind {
    /// Integers: division truncates toward zero on every database.
    Integer,
    /// Floats.
    Float,
    /// Exact decimals (`+`, `-`, `*` only): the scale of a sum is the larger of the operands',
    /// of a product their sum, as PostgreSQL and MySQL compute it; SQLite, which keeps decimals
    /// as text, computes them with the functions its backend registers.
    Decimal,
}

/// The operations over exact decimals that a dialect may spell as a function of its own
/// ([`crate::Dialect::exact_decimal_function`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecimalFunc {
    /// `a + b`.
    Add,
    /// `a - b`.
    Sub,
    /// `a * b`.
    Mul,
    /// `SUM(x)`.
    Sum,
    /// `AVG(x)` rounded to [`crate::decimal::DECIMAL_AVG_SCALE`] digits after the point (the
    /// function takes the scale as its second argument).
    Avg,
}

/// A field of a date or a date-time, as an integer (`func::extract(DatePart::Year, col)`,
/// SQLAlchemy's `extract('year', col)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DatePart {
    /// The year (1–9999).
    Year,
    /// The month, 1–12.
    Month,
    /// The day of the month, 1–31.
    Day,
    /// The hour, 0–23 (0 for a date).
    Hour,
    /// The minute, 0–59 (0 for a date).
    Minute,
    /// The whole seconds, 0–59, fraction dropped (0 for a date).
    Second,
}

/// The portable types a [`Scalar::Cast`] converts to: only where every database gives the same
/// result (see `CastTo`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CastType {
    /// A 64-bit integer.
    BigInt,
    /// A double-precision float.
    Double,
    /// Text.
    Text,
    /// An exact decimal with no digits after the point (an integer converted for decimal
    /// arithmetic): `NUMERIC` on PostgreSQL, `DECIMAL(20,0)` on MySQL (wide enough for any
    /// `i64`), text on SQLite (where decimals are text).
    Decimal,
}

/// The portable scalar functions (each rendered with the same meaning on every database).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqlFunc {
    /// Text concatenation: `a || b` (SQLite, PostgreSQL), `CONCAT(a, b)` (MySQL); NULL if either
    /// side is NULL everywhere.
    Concat,
    /// `LOWER(x)`: Unicode on PostgreSQL and MySQL, ASCII letters only on SQLite.
    Lower,
    /// `UPPER(x)`: as `Lower`.
    Upper,
    /// The length in characters: `LENGTH` (SQLite, PostgreSQL), `CHAR_LENGTH` (MySQL, whose
    /// `LENGTH` counts bytes).
    Length,
    /// `COALESCE(a, b, …)`: the first argument that is not NULL.
    Coalesce,
    /// `COUNT(x)` (`COUNT(*)` without an argument): an `i64` everywhere.
    Count,
    /// `COUNT(DISTINCT x)`.
    CountDistinct,
    /// `SUM(x)`: `Option<i64>` over integers (decoded from PostgreSQL's and MySQL's exact
    /// decimal results), `Option<f64>` over floats.
    Sum,
    /// `AVG(x)`: an `Option<f64>` everywhere (cast to a double on PostgreSQL and MySQL, whose
    /// AVG of integers is a decimal).
    Avg,
    /// `MIN(x)`: the column's type, or NULL over no rows.
    Min,
    /// `MAX(x)`.
    Max,
    /// The current instant in UTC (`crate::func::now`), rendered by [`crate::Dialect::now_function`].
    Now,
    /// `SUM(x)` of exact decimals: exact on every database (a function of the backend's on
    /// SQLite, [`crate::Dialect::exact_decimal_function`]), the scale of the widest value.
    DecimalSum,
    /// `AVG(x)` of exact decimals, rounded half away from zero to
    /// [`crate::decimal::DECIMAL_AVG_SCALE`] digits after the point, the same on every database
    /// (PostgreSQL and MySQL would each keep a scale of their own).
    DecimalAvg,
    /// A field of a date or date-time as an integer, rendered by [`crate::Dialect::date_part`].
    Extract(DatePart),
}

/// An untyped boolean SQL expression over table-qualified columns (identifiers are quoted when
/// rendered; values are bound).
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `col op ?` or `col op other_col`; comparing with a NULL value renders `IS NULL` /
    /// `IS NOT NULL`.
    Compare {
        /// The column on the left.
        left: ColumnRef,
        /// The operator.
        op: CmpOp,
        /// The value or column on the right.
        right: Operand,
    },
    /// `col [NOT] IN (?, …)`; an empty list is always false (`IN`) or true (`NOT IN`).
    InList {
        /// The column.
        column: ColumnRef,
        /// The values.
        values: Vec<Value>,
        /// `NOT IN`.
        negated: bool,
    },
    /// `col [NOT] LIKE ? ESCAPE 'c'`, or `LOWER(col) [NOT] LIKE LOWER(?) ESCAPE 'c'` when
    /// `case_insensitive`.
    Like {
        /// The column.
        column: ColumnRef,
        /// The pattern.
        pattern: Value,
        /// `NOT LIKE`.
        negated: bool,
        /// The escape character (`\\` unless changed by `Condition::escape`), rendered with
        /// `ESCAPE` on every database so a pattern means the same everywhere.
        escape: char,
        /// Compare `LOWER()` of both sides (`ilike`).
        case_insensitive: bool,
    },
    /// `col IS [NOT] NULL`.
    IsNull {
        /// The column.
        column: ColumnRef,
        /// `IS NOT NULL`.
        negated: bool,
    },
    /// `col BETWEEN ? AND ?`.
    Between {
        /// The column.
        column: ColumnRef,
        /// Lower bound (inclusive).
        low: Value,
        /// Upper bound (inclusive).
        high: Value,
    },
    /// `(raw SQL)` with `:name` binds (`Text::condition`).
    Text(Box<Text>),
    /// `col [NOT] IN (SELECT …)`.
    InSubquery {
        /// The column.
        column: ColumnRef,
        /// The subquery (one column).
        subquery: Box<SubqueryStatement>,
        /// `NOT IN`.
        negated: bool,
    },
    /// `[NOT] EXISTS (SELECT …)`.
    Exists {
        /// The subquery.
        subquery: Box<SubqueryStatement>,
        /// `NOT EXISTS`.
        negated: bool,
    },
    /// `left op right` over scalar expressions (arithmetic, columns of either side).
    CompareScalar {
        /// The left side.
        left: Scalar,
        /// The operator.
        op: CmpOp,
        /// The right side.
        right: Scalar,
    },
    /// All of these (an empty list is true).
    And(Vec<Expr>),
    /// Any of these (an empty list is false).
    Or(Vec<Expr>),
    /// `NOT (…)`.
    Not(Box<Expr>),
}

/// Where NULLs go in a sort (`nulls_first()`, `nulls_last()`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NullsOrder {
    /// NULLs before every value.
    First,
    /// NULLs after every value.
    Last,
}

/// An untyped sort key of a statement.
///
/// Without `nulls`, a nullable column sorts NULL as the **smallest value on every database**:
/// first in `ASC`, last in `DESC` (SQLite's and MySQL's own order; PostgreSQL is told
/// `NULLS FIRST` / `NULLS LAST`). With `nulls`, that order is rendered per dialect: `NULLS
/// FIRST|LAST` where the syntax exists, `col IS NULL, col` on MySQL.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderKey {
    /// The column (ignored when `expr` is set).
    pub column: ColumnRef,
    /// An expression to sort by instead of the column (`func::count(Post::id).desc()`); its
    /// NULLs follow the same default.
    pub expr: Option<Scalar>,
    /// `DESC`.
    pub descending: bool,
    /// Where NULLs go; `None`: the default above.
    pub nulls: Option<NullsOrder>,
}

impl OrderKey {
    /// A key with the default NULL order.
    pub fn new(column: ColumnRef, descending: bool) -> Self {
        OrderKey { column, expr: None, descending, nulls: None }
    }
}

// Statement data: what a SELECT, a subquery and a raw text are, rendered in `sql::select` and
// `sql::text`.

/// A SELECT of every column of one table, as data.
#[derive(Debug, Clone, PartialEq)]
pub struct SelectStatement {
    /// The table selected from.
    pub table: &'static TableDef,
    /// Conditions, ANDed.
    pub filters: Vec<Expr>,
    /// Sort keys.
    pub order: Vec<OrderKey>,
    /// `LIMIT`.
    pub limit: Option<u64>,
    /// `OFFSET`.
    pub offset: Option<u64>,
    /// `SELECT DISTINCT`.
    pub distinct: bool,
    /// `FOR UPDATE` (refused by dialects without row locks).
    pub for_update: bool,
    /// What `FOR UPDATE` does with rows another transaction holds.
    pub lock_wait: LockWait,
    /// The transaction this statement runs in holds the database's write lock (it began with
    /// `TxOptions::write_intent`; the session sets this when it renders a query). Where
    /// `Capabilities::for_update_under_write_intent` (SQLite), `FOR UPDATE` is then rendered as
    /// nothing: no other transaction can write until this one ends. Ignored elsewhere.
    pub write_lock_held: bool,
    /// `SELECT DISTINCT ON (…)` columns (PostgreSQL only).
    pub distinct_on: Vec<ColumnRef>,
    /// Joins named by the query (`Query::join`): the joined tables under their own names, for
    /// filters and sort keys; their columns are not selected.
    pub table_joins: Vec<TableJoin>,
    /// Eager `LEFT OUTER JOIN`s whose columns follow the table's (`joinedload`).
    pub joins: Vec<EagerJoin>,
    /// A many-to-many load's association table, joined and its key selected first.
    pub through: Option<Through>,
    /// A subquery read instead of `table` (`FROM (SELECT …) AS alias`), for a SELECT of
    /// columns; `table` is then unused in the SQL. A SELECT of a model's rows refuses it.
    pub from_subquery: Option<Box<DerivedTable>>,
}

/// A subquery in FROM: a SELECT of columns or a compound statement.
#[derive(Debug, Clone, PartialEq)]
pub enum FromQuery {
    /// `(SELECT …)`.
    Select(Box<SubqueryStatement>),
    /// `(SELECT … UNION SELECT …)`.
    Compound(CompoundStatement),
}

/// A subquery as a statement's only FROM: `FROM (SELECT …) AS alias`.
#[derive(Debug, Clone, PartialEq)]
pub struct DerivedTable {
    /// The subquery.
    pub query: FromQuery,
    /// Its alias, which qualifies its columns.
    pub alias: &'static str,
}

/// A SELECT of columns used inside another statement (`IN (SELECT …)`, `EXISTS (SELECT …)`).
#[derive(Debug, Clone, PartialEq)]
pub struct SubqueryStatement {
    /// The FROM table, joins, filters, order and limits.
    pub base: SelectStatement,
    /// The selected expressions.
    pub items: Vec<crate::sql::ast::Scalar>,
    /// `GROUP BY`.
    pub group_by: Vec<crate::sql::ast::Scalar>,
    /// `HAVING`.
    pub having: Vec<Expr>,
    /// An error of the builder (a refused join), reported when the outer statement renders.
    pub error: Option<Error>,
}

/// The operator between two parts of a [`CompoundStatement`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetOperator {
    /// `UNION`: the rows of both, duplicates removed.
    Union,
    /// `UNION ALL`: the rows of both, duplicates kept.
    UnionAll,
    /// `INTERSECT`: the rows in both, duplicates removed.
    Intersect,
    /// `INTERSECT ALL`: the rows in both, as many times as in the part with fewer
    /// (`Capabilities::intersect_except_all`).
    IntersectAll,
    /// `EXCEPT`: the rows of the left part not in the right one, duplicates removed.
    Except,
    /// `EXCEPT ALL`: each row of the left part as many times more than in the right one
    /// (`Capabilities::intersect_except_all`).
    ExceptAll,
}

impl SetOperator {
    /// The SQL keyword(s).
    pub fn keyword(self) -> &'static str {
        match self {
            SetOperator::Union => "UNION",
            SetOperator::UnionAll => "UNION ALL",
            SetOperator::Intersect => "INTERSECT",
            SetOperator::IntersectAll => "INTERSECT ALL",
            SetOperator::Except => "EXCEPT",
            SetOperator::ExceptAll => "EXCEPT ALL",
        }
    }

    /// `INTERSECT` or `INTERSECT ALL` (which binds tighter than the others on PostgreSQL,
    /// MariaDB and MySQL, not on SQLite).
    pub fn is_intersect(self) -> bool {
        matches!(self, SetOperator::Intersect | SetOperator::IntersectAll)
    }
}

/// `SELECT … UNION [ALL] | INTERSECT [ALL] | EXCEPT [ALL] SELECT …`: selections with the same row
/// shape combined, with the whole's ORDER BY (by item position), LIMIT and OFFSET. Rendered by
/// `CompoundStatement::to_sql` (`sql/select.rs`).
#[derive(Debug, Clone, PartialEq)]
pub struct CompoundStatement {
    /// The parts, in order. None may have its own ORDER BY, LIMIT or OFFSET (SQLite refuses them).
    pub parts: Vec<SubqueryStatement>,
    /// Per part after the first: the operator joining it to what comes before, evaluated left to
    /// right (an `INTERSECT` after another operator is refused: the databases disagree on its
    /// precedence).
    pub ops: Vec<SetOperator>,
    /// Sort keys of the whole: (1-based item position, descending).
    pub order: Vec<(usize, bool)>,
    /// At most this many of the combined rows.
    pub limit: Option<u64>,
    /// Skip this many of the combined rows.
    pub offset: Option<u64>,
}

/// A join named by a query: `[LEFT OUTER] JOIN <table> ON <table>.<column> = <parent>.<parent_column>`,
/// through an association table for a many-to-many relationship.
#[derive(Debug, Clone, PartialEq)]
pub struct TableJoin {
    /// `LEFT OUTER JOIN` rather than `JOIN`.
    pub outer: bool,
    /// The joined table.
    pub table: &'static TableDef,
    /// Its column in the ON clause.
    pub column: &'static str,
    /// The table it joins to (the query's table or one joined before).
    pub parent: &'static str,
    /// The parent's column in the ON clause.
    pub parent_column: &'static str,
    /// For a many-to-many relationship: the association table, its column referencing the
    /// parent and its column referencing the joined table.
    pub via: Option<(&'static TableDef, &'static str, &'static str)>,
    /// `AS alias`: the name the joined table's columns are qualified with (a self-join).
    pub alias: Option<&'static str>,
    /// A subquery in FROM joined instead of `table` (`JOIN (SELECT …) AS alias`); `table` is
    /// then its FROM table, unused in the SQL.
    pub derived: Option<Box<FromQuery>>,
}

impl TableJoin {
    /// The name the joined table's columns are qualified with.
    pub fn qualifier(&self) -> &'static str {
        self.alias.unwrap_or(self.table.name)
    }
}

/// What `SELECT … FOR UPDATE` does with a row another transaction has locked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LockWait {
    /// Wait for it (the default).
    #[default]
    Wait,
    /// Fail at once (`NOWAIT`).
    NoWait,
    /// Leave it out of the result (`SKIP LOCKED`).
    SkipLocked,
}

/// A relationship loaded in the same statement: `LEFT OUTER JOIN <table> AS <table>_<n> ON …`,
/// where `n` is the join's position plus one (SQLAlchemy's `users_1` naming). Its columns are
/// selected after those of the statement's table and of the joins before it.
#[derive(Debug, Clone, PartialEq)]
pub struct EagerJoin {
    /// The join this one hangs from (`None`: the statement's table).
    pub parent: Option<usize>,
    /// The parent's column the ON clause compares.
    pub parent_column: &'static str,
    /// The joined table.
    pub table: &'static TableDef,
    /// The joined table's column compared with `parent_column` (or with the association's).
    pub column: &'static str,
    /// For a many-to-many relationship: the association table, its column that references the
    /// parent, and its column that references the joined table.
    pub via: Option<(&'static TableDef, &'static str, &'static str)>,
    /// A collection (one-to-many or many-to-many): it multiplies the parent's rows, so a
    /// LIMIT/OFFSET is applied in a subquery first.
    pub collection: bool,
    /// Sort keys appended to the statement's (a collection's `order_by`), on the joined table.
    pub order: Vec<(&'static str, bool)>,
}

/// A many-to-many load: `SELECT <assoc>.<owner_column>, <table's columns> FROM <table> JOIN
/// <assoc> ON <assoc>.<target_column> = <table>.<referenced>` (the statement's filter then
/// restricts `<assoc>.<owner_column>`).
#[derive(Debug, Clone, PartialEq)]
pub struct Through {
    /// The association table.
    pub table: &'static TableDef,
    /// Its column that references the owners (selected first).
    pub owner_column: &'static str,
    /// Its column that references the statement's table.
    pub target_column: &'static str,
    /// The statement's table's column it references.
    pub referenced: &'static str,
}

impl SelectStatement {
    /// `SELECT <every column> FROM table`, no conditions.
    pub fn new(table: &'static TableDef) -> Self {
        SelectStatement {
            table,
            filters: Vec::new(),
            order: Vec::new(),
            limit: None,
            offset: None,
            distinct: false,
            for_update: false,
            lock_wait: LockWait::Wait,
            write_lock_held: false,
            distinct_on: Vec::new(),
            table_joins: Vec::new(),
            joins: Vec::new(),
            through: None,
            from_subquery: None,
        }
    }
}

/// A raw SQL statement with named binds (SQLAlchemy's `text()`): made by `text()`, rendered in
/// `sql::text`.
#[derive(Debug, Clone, PartialEq)]
pub struct Text {
    pub(crate) sql: String,
    pub(crate) binds: Vec<(String, Value)>,
}

/// `part` with the LIKE wildcards and the escape character escaped by a backslash.
pub fn escape_like(part: &str) -> String {
    let mut out = String::with_capacity(part.len() + 2);
    for ch in part.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

/// The shape of a batched UPDATE ([`crate::BatchUpdate`]): the columns every row of the batch
/// changes and the version column. Each row brings its parameters in *slot* order: the changed
/// columns' values (slots `0..columns.len()`), then the next version (with a version column),
/// then the primary-key parts, then the version the row was read at (with a version column) —
/// the order of [`crate::sql::update_row`]'s parameters, so one row's slots are that statement's parameters.
#[derive(Debug, Clone, Copy)]
pub struct BatchShape<'a> {
    /// The changed columns, by position.
    pub columns: &'a [usize],
    /// The version column, incremented and checked per row.
    pub version: Option<usize>,
}

impl BatchShape<'_> {
    /// How many parameters (slots) each row brings.
    pub fn slots(&self, table: &TableDef) -> usize {
        self.columns.len() + table.primary_key().count() + if self.version.is_some() { 2 } else { 0 }
    }
}

/// A batched UPDATE's SQL, and for each placeholder in order the `(row, slot)` whose value it
/// binds (see [`BatchShape`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchStatement {
    /// The SQL text.
    pub sql: String,
    /// `(row, slot)` per placeholder.
    pub slots: Vec<(u32, u16)>,
}
