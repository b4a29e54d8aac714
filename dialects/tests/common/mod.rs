//! Fixtures shared by the per-dialect exact-SQL tests (each test file asserts its own text).

use athanor_core::{CmpOp, ColumnDef, ColumnRef, Expr, Operand, SelectStatement, SqlType, TableDef, Value};

/// Column `name` of a table `t` (for expression tests).
pub fn c(name: &'static str) -> ColumnRef {
    ColumnRef::new("t", name)
}

/// `items(id, name, qty)`.
pub static ITEMS: TableDef = TableDef {
    name: "items",
    rust_name: "Item",
    columns: &[
        ColumnDef { primary_key: true, ..ColumnDef::new("id", SqlType::BigInt) },
        ColumnDef::new("name", SqlType::Text),
        ColumnDef::new("qty", SqlType::Integer),
    ],
};

/// `SELECT … FROM items WHERE qty >= 18 AND qty < id ORDER BY name ASC, qty DESC`, as data: a
/// bound value, a column-to-column comparison and two sort keys.
pub fn items_select() -> SelectStatement {
    let col = |n| ColumnRef::new("items", n);
    let mut s = SelectStatement::new(&ITEMS);
    s.filters.push(Expr::Compare { left: col("qty"), op: CmpOp::Ge, right: Operand::Value(Value::I32(18)) });
    s.filters.push(Expr::Compare { left: col("qty"), op: CmpOp::Lt, right: Operand::Column(col("id")) });
    s.order.push(athanor_core::OrderKey::new(col("name"), false));
    s.order.push(athanor_core::OrderKey::new(col("qty"), true));
    s
}
