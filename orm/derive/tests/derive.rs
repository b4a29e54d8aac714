//! What `#[derive(Model)]` generates: the table description, parameter values, row decoding,
//! generated keys and typed column handles. No database is needed: rows come from [`TestRow`].
#![allow(clippy::unwrap_used, missing_docs)] // a test: a failed unwrap is a failed test

use athanor::backend::Row;
use athanor::schema::{ColumnDef, DefaultValue, ForeignKeyDef, SqlType, TableDef};
use athanor::sql::{CmpOp, ColumnRef, Expr, Operand};
use athanor::{Error, Model, Result, Value, ValueRef};

/// A row over owned values, standing in for a driver's row.
struct TestRow(Vec<Value>);

impl Row for TestRow {
    fn len(&self) -> usize {
        self.0.len()
    }

    fn get(&self, idx: usize) -> Result<ValueRef<'_>> {
        self.0.get(idx).map(Value::as_ref).ok_or_else(|| Error::invalid_request(format!("no cell {idx}")))
    }
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "customers")]
pub struct Customer {
    #[column(primary_key)]
    pub id: Option<i64>,
    pub name: String,
    pub address: Option<String>,
    #[column(unique, length = 255)]
    pub email: String,
    #[column(index, default = 18)]
    pub age: i32,
    #[column(foreign_key = "customers.id", name = "parent_id")]
    pub parent: Option<i64>,
}

/// A composite key given by the application, with the other kinds of defaults.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "order_lines")]
pub struct OrderLine {
    #[column(primary_key, foreign_key = "orders.id")]
    pub order_id: i64,
    #[column(primary_key)]
    pub line: i16,
    #[column(default = "each", length = 8)]
    pub unit: String,
    #[column(default = -1.5)]
    pub discount: f64,
    #[column(default = false)]
    pub gift: bool,
    #[column(default = -7)]
    pub r#type: i64,
}

/// Every supported field type, and `Option` of each.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "all_types")]
struct AllTypes {
    #[column(primary_key, autoincrement = false)]
    id: i32,
    b: bool,
    s: i16,
    i: i32,
    l: i64,
    f: f32,
    d: f64,
    t: String,
    by: Vec<u8>,
    ob: Option<bool>,
    os: Option<i16>,
    oi: Option<i32>,
    ol: Option<i64>,
    of: Option<f32>,
    od: Option<f64>,
    ot: Option<String>,
    oby: Option<Vec<u8>>,
}

fn customer() -> Customer {
    Customer { id: None, name: "ann".into(), address: None, email: "ann@example.com".into(), age: 41, parent: Some(7) }
}

fn values<M: Model>(m: &M) -> Vec<Value> {
    (0..M::TABLE.columns.len()).map(|i| m.column_value(i).to_owned()).collect()
}

#[test]
fn customer_table() {
    let t: &TableDef = Customer::TABLE;
    assert_eq!(t.name, "customers");
    assert_eq!(t.rust_name, "Customer");
    let plain = |name, sql_type, nullable| ColumnDef { nullable, ..ColumnDef::new(name, sql_type) };
    assert_eq!(
        t.columns,
        &[
            ColumnDef { primary_key: true, autoincrement: true, ..ColumnDef::new("id", SqlType::BigInt) },
            plain("name", SqlType::Text, false),
            plain("address", SqlType::Text, true),
            ColumnDef { unique: true, length: Some(255), ..ColumnDef::new("email", SqlType::Text) },
            ColumnDef { index: true, default: Some(DefaultValue::Int(18)), ..ColumnDef::new("age", SqlType::Integer) },
            ColumnDef {
                field: "parent",
                nullable: true,
                foreign_key: Some(ForeignKeyDef { table: "customers", column: "id" }),
                ..ColumnDef::new("parent_id", SqlType::BigInt)
            },
        ]
    );
    assert_eq!(t.primary_key().collect::<Vec<_>>(), [0]);
    assert_eq!(t.autoincrement_column(), Some(0));
    assert_eq!(t.column_index("parent"), Some(5));
    assert_eq!(t.column_index("parent_id"), Some(5));
}

#[test]
fn composite_key_table() {
    let t = OrderLine::TABLE;
    assert_eq!((t.name, t.rust_name), ("order_lines", "OrderLine"));
    assert_eq!(t.primary_key().collect::<Vec<_>>(), [0, 1]);
    assert_eq!(t.autoincrement_column(), None);
    assert_eq!(
        t.columns[0],
        ColumnDef {
            primary_key: true,
            foreign_key: Some(ForeignKeyDef { table: "orders", column: "id" }),
            ..ColumnDef::new("order_id", SqlType::BigInt)
        }
    );
    assert_eq!(t.columns[1], ColumnDef { primary_key: true, ..ColumnDef::new("line", SqlType::SmallInt) });
    let defaults: Vec<_> = t.columns[2..].iter().map(|c| c.default).collect();
    assert_eq!(
        defaults,
        [
            Some(DefaultValue::Text("each")),
            Some(DefaultValue::Float(-1.5)),
            Some(DefaultValue::Bool(false)),
            Some(DefaultValue::Int(-7)),
        ]
    );
    assert_eq!(t.columns[2].length, Some(8));
    assert_eq!((t.columns[5].name, t.columns[5].field), ("type", "type"));
}

#[test]
fn all_types_table() {
    let t = AllTypes::TABLE;
    let types: Vec<_> = t.columns.iter().map(|c| (c.name, c.sql_type, c.nullable)).collect();
    use SqlType::*;
    assert_eq!(
        types,
        [
            ("id", Integer, false),
            ("b", Bool, false),
            ("s", SmallInt, false),
            ("i", Integer, false),
            ("l", BigInt, false),
            ("f", Real, false),
            ("d", Double, false),
            ("t", Text, false),
            ("by", Blob, false),
            ("ob", Bool, true),
            ("os", SmallInt, true),
            ("oi", Integer, true),
            ("ol", BigInt, true),
            ("of", Real, true),
            ("od", Double, true),
            ("ot", Text, true),
            ("oby", Blob, true),
        ]
    );
    assert!(t.columns.iter().all(|c| !c.autoincrement && !c.unique && !c.index && c.length.is_none()));
    assert_eq!(t.primary_key().collect::<Vec<_>>(), [0]);
}

#[test]
fn column_values_lend_each_field() {
    let c = customer();
    assert_eq!(
        values(&c),
        [
            Value::Null,
            Value::Text("ann".into()),
            Value::Null,
            Value::Text("ann@example.com".into()),
            Value::I32(41),
            Value::I64(7),
        ]
    );
    assert_eq!(c.column_value(6), ValueRef::Null, "out of range is NULL");
    // Borrowed, not copied.
    assert!(matches!(c.column_value(1), ValueRef::Text(s) if std::ptr::eq(s, c.name.as_str())));
}

#[test]
fn from_row_round_trips() -> Result<()> {
    let mut c = customer();
    c.id = Some(3);
    assert_eq!(Customer::from_row(&TestRow(values(&c)))?, c);

    let line = OrderLine { order_id: 9, line: 2, unit: "kg".into(), discount: 0.25, gift: true, r#type: -1 };
    assert_eq!(OrderLine::from_row(&TestRow(values(&line)))?, line);

    let full = AllTypes {
        id: 1,
        b: true,
        s: -2,
        i: 3,
        l: i64::MAX,
        f: 0.5,
        d: -0.25,
        t: "text".into(),
        by: vec![0, 255],
        ob: Some(false),
        os: Some(i16::MIN),
        oi: Some(-3),
        ol: Some(4),
        of: Some(1.5),
        od: Some(2.5),
        ot: Some(String::new()),
        oby: Some(vec![]),
    };
    assert_eq!(AllTypes::from_row(&TestRow(values(&full)))?, full);
    let empty = AllTypes { ob: None, os: None, oi: None, ol: None, of: None, od: None, ot: None, oby: None, ..full };
    assert_eq!(AllTypes::from_row(&TestRow(values(&empty)))?, empty);
    Ok(())
}

#[test]
fn from_row_accepts_what_drivers_return() -> Result<()> {
    // SQLite returns every integer as i64 and booleans as 0/1.
    let row = TestRow(vec![
        Value::I64(9),
        Value::I64(2),
        Value::Text("kg".into()),
        Value::F64(0.5),
        Value::I64(1),
        Value::I64(5),
    ]);
    let line = OrderLine::from_row(&row)?;
    assert_eq!((line.line, line.gift, line.r#type), (2, true, 5));
    Ok(())
}

#[test]
fn from_row_mismatch_names_the_column() {
    let mut cells = values(&customer());
    cells[4] = Value::Text("old".into());
    match Customer::from_row(&TestRow(cells)) {
        Err(Error::TypeMismatch { column, expected, found }) => {
            assert_eq!(column, "customers.age");
            assert_eq!(expected, "i32");
            assert_eq!(found, "text \"old\" in the row with id = NULL");
        }
        other => panic!("expected a type mismatch, got {other:?}"),
    }

    // A NULL in a NOT NULL field, and an integer out of the field's range.
    let mut cells = values(&customer());
    cells[1] = Value::Null;
    assert!(matches!(Customer::from_row(&TestRow(cells)),
        Err(Error::TypeMismatch { column, .. }) if column == "customers.name"));
    let mut cells = values(&customer());
    // Text never reads into an integer field, even text that spells a number (DECIMAL cells are
    // `Value::Decimal`, not text).
    cells[5] = Value::Text("7".into());
    assert!(matches!(Customer::from_row(&TestRow(cells)),
        Err(Error::TypeMismatch { column, .. }) if column == "customers.parent_id"));
    let mut cells = values(
        &OrderLine::from_row(&TestRow(vec![
            Value::I64(1),
            Value::I64(1),
            Value::Text(String::new()),
            Value::F64(0.0),
            Value::Bool(false),
            Value::I64(0),
        ]))
        .unwrap(),
    );
    cells[1] = Value::I64(70_000);
    assert!(matches!(OrderLine::from_row(&TestRow(cells)),
        Err(Error::TypeMismatch { column, .. }) if column == "order_lines.line"));

    // A short row is the driver's error, passed through.
    assert!(matches!(Customer::from_row(&TestRow(vec![Value::I64(1)])), Err(Error::InvalidRequest { .. })));
}

#[test]
fn generated_key_is_written_back() -> Result<()> {
    let mut c = customer();
    c.set_generated_key(42)?;
    assert_eq!(c.id, Some(42));

    let mut line = OrderLine { order_id: 1, line: 1, unit: String::new(), discount: 0.0, gift: false, r#type: 0 };
    match line.set_generated_key(5) {
        Err(Error::InvalidRequest { message }) => assert!(message.contains("order_lines"), "{message}"),
        other => panic!("expected InvalidRequest, got {other:?}"),
    }
    Ok(())
}

#[derive(Model, Debug)]
#[model(table = "tags")]
struct Tag {
    #[column(primary_key)]
    id: Option<i16>,
    label: String,
}

#[test]
fn generated_key_out_of_range_is_an_error() {
    let mut t = Tag { id: None, label: "x".into() };
    assert!(
        matches!(t.set_generated_key(40_000), Err(Error::TypeMismatch { column, .. }) if column == "tags.<generated key>")
    );
    assert_eq!(t.id, None);
    t.set_generated_key(12).unwrap();
    assert_eq!((t.id, t.label.as_str()), (Some(12), "x"));
}

#[test]
fn column_handles_build_typed_conditions() {
    let c = Customer::age.ge(18);
    assert_eq!(
        c.expr(),
        &Expr::Compare {
            left: ColumnRef::new("customers", "age"),
            op: CmpOp::Ge,
            right: Operand::Value(Value::I32(18))
        }
    );
    // The handle carries the database name and position.
    assert_eq!((Customer::parent.name, Customer::parent.index), ("parent_id", 5));
    assert_eq!(
        Customer::parent.eq(None).into_expr(),
        Expr::Compare {
            left: ColumnRef::new("customers", "parent_id"),
            op: CmpOp::Eq,
            right: Operand::Value(Value::Null)
        }
    );
    assert_eq!(
        Customer::name.eq("ann").into_expr(),
        Expr::Compare {
            left: ColumnRef::new("customers", "name"),
            op: CmpOp::Eq,
            right: Operand::Value(Value::Text("ann".into()))
        }
    );
    use athanor::TextColumn;
    assert_eq!(
        Customer::address.like("%street%").into_expr(),
        Expr::Like {
            column: ColumnRef::new("customers", "address"),
            pattern: Value::Text("%street%".into()),
            negated: false,
            escape: '\\',
            case_insensitive: false,
        }
    );
    assert_eq!(
        OrderLine::r#type.lt(0).into_expr(),
        Expr::Compare {
            left: ColumnRef::new("order_lines", "type"),
            op: CmpOp::Lt,
            right: Operand::Value(Value::I64(0))
        }
    );
    let both = Customer::age.ge(18) & Customer::id.ne(1);
    assert!(matches!(both.expr(), Expr::And(v) if v.len() == 2));
}

mod visibility {
    use athanor::Model;

    #[derive(Model)]
    #[model(table = "secrets")]
    pub struct Secret {
        #[column(primary_key)]
        pub id: i64,
        pub(crate) hint: String,
        #[allow(dead_code)]
        value: String,
    }

    pub fn private_handle_index() -> usize {
        Secret::value.index
    }
}

#[test]
fn handles_follow_field_visibility() {
    assert_eq!(visibility::Secret::id.name, "id");
    assert_eq!(visibility::Secret::hint.name, "hint");
    assert_eq!(visibility::private_handle_index(), 2);
}

#[test]
fn derive_works_inside_a_function() {
    #[derive(Model)]
    #[model(table = "local")]
    struct Local {
        #[column(primary_key)]
        id: Option<i32>,
    }
    let mut l = Local { id: None };
    l.set_generated_key(1).unwrap();
    assert_eq!(l.id, Some(1));
    assert_eq!(Local::TABLE.columns[0].sql_type, SqlType::Integer);
}
