//! Exact SQL of what Athanor makes mean the same on every database: the NULL order of a sort
//! (NULL is the smallest value unless `nulls_first()` / `nulls_last()` say otherwise) and LIKE
//! with its escape character.
#![allow(clippy::unwrap_used)] // a test: a failed unwrap is a failed test

use athanor_core::sql::SelectStatement;
use athanor_core::{ColumnDef, ColumnRef, Dialect, Expr, NullsOrder, OrderKey, SqlType, TableDef, Value};
use athanor_dialects::{MySqlDialect, PostgresDialect, SqliteDialect};

static T: TableDef = TableDef {
    name: "t",
    rust_name: "T",
    columns: &[
        ColumnDef { primary_key: true, autoincrement: true, ..ColumnDef::new("id", SqlType::BigInt) },
        ColumnDef { nullable: true, ..ColumnDef::new("note", SqlType::Text) },
    ],
};

fn order_by(d: &dyn Dialect, keys: &[(&'static str, bool, Option<NullsOrder>)]) -> String {
    let mut st = SelectStatement::new(&T);
    for (c, desc, nulls) in keys {
        st.order.push(OrderKey { column: ColumnRef::new("t", c), expr: None, descending: *desc, nulls: *nulls });
    }
    let sql = st.to_sql(d).unwrap().sql;
    sql[sql.find(" ORDER BY ").unwrap() + 10..].to_string()
}

#[test]
fn default_null_order_is_null_smallest() {
    // NOT NULL columns: no clause anywhere.
    assert_eq!(order_by(&PostgresDialect, &[("id", false, None)]), "\"t\".\"id\" ASC");
    // Nullable: SQLite and MySQL sort NULL smallest already; PostgreSQL is told.
    let keys = [("note", false, None), ("note", true, None)];
    assert_eq!(order_by(&SqliteDialect, &keys), "\"t\".\"note\" ASC, \"t\".\"note\" DESC");
    assert_eq!(order_by(&MySqlDialect, &keys), "`t`.`note` ASC, `t`.`note` DESC");
    assert_eq!(order_by(&PostgresDialect, &keys), "\"t\".\"note\" ASC NULLS FIRST, \"t\".\"note\" DESC NULLS LAST");
}

#[test]
fn explicit_null_order_is_rendered_or_emulated() {
    let keys = [("note", false, Some(NullsOrder::Last)), ("note", true, Some(NullsOrder::First))];
    assert_eq!(order_by(&SqliteDialect, &keys), "\"t\".\"note\" ASC NULLS LAST, \"t\".\"note\" DESC NULLS FIRST");
    assert_eq!(order_by(&PostgresDialect, &keys), "\"t\".\"note\" ASC, \"t\".\"note\" DESC");
    assert_eq!(
        order_by(&MySqlDialect, &keys),
        "`t`.`note` IS NULL ASC, `t`.`note` ASC, `t`.`note` IS NULL DESC, `t`.`note` DESC"
    );
    // Asking for the database's own order adds nothing.
    assert_eq!(order_by(&MySqlDialect, &[("note", false, Some(NullsOrder::First))]), "`t`.`note` ASC");
}

#[test]
fn like_always_names_its_escape_character() {
    let like = |d: &dyn Dialect, escape: char, ci: bool| {
        let mut st = SelectStatement::new(&T);
        st.filters.push(Expr::Like {
            column: ColumnRef::new("t", "note"),
            pattern: Value::from("a\\%%"),
            negated: false,
            escape,
            case_insensitive: ci,
        });
        let sql = st.to_sql(d).unwrap().sql;
        sql[sql.find(" WHERE ").unwrap() + 7..].to_string()
    };
    assert_eq!(like(&SqliteDialect, '\\', false), "\"t\".\"note\" LIKE ? ESCAPE '\\'");
    assert_eq!(like(&PostgresDialect, '\\', false), "\"t\".\"note\" LIKE $1 ESCAPE '\\'");
    assert_eq!(
        like(&MySqlDialect, '\\', false),
        "`t`.`note` LIKE ? ESCAPE '\\\\'",
        "MySQL literals escape backslashes"
    );
    assert_eq!(like(&MySqlDialect, '\'', false), "`t`.`note` LIKE ? ESCAPE ''''");
    assert_eq!(like(&SqliteDialect, '!', true), "LOWER(\"t\".\"note\") LIKE LOWER(?) ESCAPE '!'");
    assert_eq!(athanor_core::sql::ast::escape_like("50%_a\\b"), "50\\%\\_a\\\\b");
}

#[test]
fn bulk_statements() {
    use athanor_core::{sql, CmpOp, Operand, Scalar};
    let filter =
        [Expr::Compare { left: ColumnRef::new("t", "id"), op: CmpOp::Gt, right: Operand::Value(Value::from(3i64)) }];
    let val = |v: Value| Scalar::Value(v);
    let up = sql::bulk_update(&PostgresDialect, &T, &[(1, val(Value::from("x")))], &filter).unwrap();
    assert_eq!(up.sql, "UPDATE \"t\" SET \"note\" = $1 WHERE \"t\".\"id\" > $2");
    assert_eq!(up.params, [Value::from("x"), Value::from(3i64)]);
    assert_eq!(
        sql::bulk_update(&MySqlDialect, &T, &[(1, val(Value::Null))], &[]).unwrap().sql,
        "UPDATE `t` SET `note` = ?"
    );
    assert!(sql::bulk_update(&SqliteDialect, &T, &[], &[]).is_err(), "nothing to set");
    assert!(sql::bulk_update(&SqliteDialect, &T, &[(9, val(Value::Null))], &[]).is_err(), "no such column");
    assert_eq!(sql::bulk_delete(&SqliteDialect, &T, &filter).unwrap().sql, "DELETE FROM \"t\" WHERE \"t\".\"id\" > ?");
    assert_eq!(sql::bulk_delete(&MySqlDialect, &T, &[]).unwrap().sql, "DELETE FROM `t`");
}

#[test]
fn upsert_clauses() {
    let on = |d: &dyn Dialect, update: &[&str]| {
        let mut s = String::new();
        d.write_on_conflict(&mut s, &["note"], update, &["id"]).unwrap();
        s
    };
    for d in [&SqliteDialect as &dyn Dialect, &PostgresDialect] {
        assert_eq!(on(d, &["note"]), " ON CONFLICT (\"note\") DO UPDATE SET \"note\" = excluded.\"note\"");
        assert_eq!(on(d, &[]), " ON CONFLICT (\"note\") DO NOTHING");
    }
    assert_eq!(on(&MySqlDialect, &["note"]), " ON DUPLICATE KEY UPDATE `note` = VALUES(`note`)");
    assert_eq!(on(&MySqlDialect, &[]), " ON DUPLICATE KEY UPDATE `id` = `id`", "do nothing: a no-op update");
}

/// `{Name}` in `text()` is an identifier quoted by each dialect, whatever it holds.
#[test]
fn text_identifiers_in_braces_are_quoted_by_each_dialect() {
    use athanor_core::sql::text;
    let t = text("SELECT {TrackId}, '{not}' /* {no} */ FROM {main}.{Track} WHERE {Name} = :n AND x = '{{'")
        .bind("n", "Ann");
    let sql = |d: &dyn Dialect| t.to_sql(d).unwrap();
    assert_eq!(
        sql(&SqliteDialect).sql,
        r#"SELECT "TrackId", '{not}' /* {no} */ FROM "main"."Track" WHERE "Name" = ? AND x = '{{'"#
    );
    assert_eq!(
        sql(&PostgresDialect).sql,
        r#"SELECT "TrackId", '{not}' /* {no} */ FROM "main"."Track" WHERE "Name" = $1 AND x = '{{'"#
    );
    assert_eq!(
        sql(&MySqlDialect).sql,
        "SELECT `TrackId`, '{not}' /* {no} */ FROM `main`.`Track` WHERE `Name` = ? AND x = '{{'"
    );
    assert_eq!(sql(&PostgresDialect).params, [Value::from("Ann")]);
    // Hostile names are quoted, never spliced: the quote character is doubled; `:` is no bind.
    let hostile = text(r#"SELECT * FROM {a"b`c; DROP TABLE t; --:x}"#);
    assert_eq!(hostile.to_sql(&PostgresDialect).unwrap().sql, r#"SELECT * FROM "a""b`c; DROP TABLE t; --:x""#);
    assert_eq!(hostile.to_sql(&MySqlDialect).unwrap().sql, r#"SELECT * FROM `a"b``c; DROP TABLE t; --:x`"#);
    // `{{` is a literal brace; an unclosed or empty one is refused.
    assert_eq!(text("SELECT '}' || {{").to_sql(&SqliteDialect).unwrap().sql, "SELECT '}' || {");
    for bad in ["SELECT {a FROM t", "SELECT {} FROM t", "SELECT {a\0b}"] {
        assert!(matches!(text(bad).to_sql(&SqliteDialect), Err(athanor_core::Error::InvalidRequest { .. })), "{bad:?}");
    }
}

#[test]
fn text_binds_become_each_dialects_placeholders() {
    use athanor_core::text;
    let t = text("SELECT ':x', \"a:b\", `c:d` FROM t WHERE a = :a AND b = :b -- :c\n AND x::int = :a /* :d */")
        .bind("a", 1i64)
        .bind("b", "two");
    let pg = t.to_sql(&PostgresDialect).unwrap();
    assert_eq!(pg.sql, "SELECT ':x', \"a:b\", `c:d` FROM t WHERE a = $1 AND b = $2 -- :c\n AND x::int = $3 /* :d */");
    assert_eq!(pg.params, [Value::from(1i64), Value::from("two"), Value::from(1i64)]);
    let lite = t.to_sql(&SqliteDialect).unwrap();
    assert_eq!(lite.sql, "SELECT ':x', \"a:b\", `c:d` FROM t WHERE a = ? AND b = ? -- :c\n AND x::int = ? /* :d */");
    // MySQL string literals take backslash escapes: 'it\'s :no' is one literal.
    let my = text("SELECT 'it\\'s :no', 'ok''s :no2' WHERE a = :a").bind("a", 1i64).to_sql(&MySqlDialect).unwrap();
    assert_eq!(my.sql, "SELECT 'it\\'s :no', 'ok''s :no2' WHERE a = ?");
    assert!(text("SELECT :missing").to_sql(&SqliteDialect).is_err());
    assert!(text("SELECT 1").bind("unused", 1i64).to_sql(&SqliteDialect).is_err());
    assert!(text("  select 1").returns_rows() && text("WITH x AS (SELECT 1) SELECT * FROM x").returns_rows());
    assert!(!text("UPDATE t SET a = 1").returns_rows());
    assert!(text("DELETE FROM t RETURNING id").returns_rows());
}

#[test]
fn arithmetic_and_column_comparisons() {
    use athanor_core::{ArithOp, CmpOp, Scalar};
    let col = |c| Box::new(Scalar::Column(ColumnRef::new("t", c)));
    let e = Expr::CompareScalar {
        left: Scalar::Arith {
            op: ArithOp::Div,
            left: col("id"),
            right: Box::new(Scalar::Value(Value::from(2i64))),
            kind: athanor_core::NumberKind::Integer,
        },
        op: CmpOp::Gt,
        right: Scalar::Neg(Box::new(Scalar::Arith {
            op: ArithOp::Rem,
            left: col("id"),
            right: Box::new(Scalar::Value(Value::from(3i64))),
            kind: athanor_core::NumberKind::Integer,
        })),
    };
    let render = |d: &dyn Dialect| {
        let mut st = SelectStatement::new(&T);
        st.filters.push(e.clone());
        let s = st.to_sql(d).unwrap().sql;
        s[s.find(" WHERE ").unwrap() + 7..].to_string()
    };
    assert_eq!(render(&SqliteDialect), "(\"t\".\"id\" / ?) > (-(\"t\".\"id\" % ?))");
    assert_eq!(render(&PostgresDialect), "(\"t\".\"id\" / $1) > (-(\"t\".\"id\" % $2))");
    assert_eq!(render(&MySqlDialect), "(`t`.`id` DIV ?) > (-(`t`.`id` % ?))", "MySQL's / would give a decimal");
    let float = Expr::CompareScalar {
        left: Scalar::Arith {
            op: ArithOp::Div,
            left: col("id"),
            right: col("id"),
            kind: athanor_core::NumberKind::Float,
        },
        op: CmpOp::Eq,
        right: Scalar::Value(Value::F64(1.0)),
    };
    let mut st = SelectStatement::new(&T);
    st.filters.push(float);
    assert!(st.to_sql(&MySqlDialect).unwrap().sql.ends_with("(`t`.`id` / `t`.`id`) = ?"));
}

#[test]
fn string_functions() {
    use athanor_core::{CmpOp, Scalar, SqlFunc};
    let col = Scalar::Column(ColumnRef::new("t", "note"));
    let e = Expr::CompareScalar {
        left: Scalar::Func {
            func: SqlFunc::Length,
            args: vec![Scalar::Func {
                func: SqlFunc::Concat,
                args: vec![col.clone(), Scalar::Value(Value::from("x"))],
            }],
        },
        op: CmpOp::Eq,
        right: Scalar::Func { func: SqlFunc::Coalesce, args: vec![col, Scalar::Value(Value::from(0i64))] },
    };
    let render = |d: &dyn Dialect| {
        let mut st = SelectStatement::new(&T);
        st.filters.push(e.clone());
        let s = st.to_sql(d).unwrap().sql;
        s[s.find(" WHERE ").unwrap() + 7..].to_string()
    };
    assert_eq!(render(&SqliteDialect), "LENGTH((\"t\".\"note\" || ?)) = COALESCE(\"t\".\"note\", ?)");
    assert_eq!(render(&PostgresDialect), "LENGTH((\"t\".\"note\" || $1)) = COALESCE(\"t\".\"note\", $2)");
    assert_eq!(render(&MySqlDialect), "CHAR_LENGTH(CONCAT(`t`.`note`, ?)) = COALESCE(`t`.`note`, ?)");
}

#[test]
fn lock_options_and_distinct_on() {
    use athanor_core::sql::select::LockWait;
    let sql = |d: &dyn Dialect, wait: LockWait| {
        let mut st = SelectStatement::new(&T);
        st.for_update = true;
        st.lock_wait = wait;
        st.to_sql(d).map(|s| s.sql)
    };
    assert!(sql(&PostgresDialect, LockWait::NoWait).unwrap().ends_with(" FOR UPDATE NOWAIT"));
    assert!(sql(&MySqlDialect, LockWait::SkipLocked).unwrap().ends_with(" FOR UPDATE SKIP LOCKED"));
    assert!(matches!(sql(&SqliteDialect, LockWait::NoWait), Err(athanor_core::Error::Unsupported { .. })));
    let mut st = SelectStatement::new(&T);
    st.distinct_on.push(ColumnRef::new("t", "note"));
    assert_eq!(
        st.to_sql(&PostgresDialect).unwrap().sql,
        "SELECT DISTINCT ON (\"t\".\"note\") \"t\".\"id\", \"t\".\"note\" FROM \"t\""
    );
    for d in [&SqliteDialect as &dyn Dialect, &MySqlDialect] {
        assert!(matches!(st.to_sql(d), Err(athanor_core::Error::Unsupported { .. })), "{}", d.name());
    }
}

#[test]
fn columns_group_by_having_and_avg() {
    use athanor_core::{CmpOp, Scalar, SqlFunc};
    let st = SelectStatement::new(&T);
    let note = Scalar::Column(ColumnRef::new("t", "note"));
    let avg = Scalar::Func { func: SqlFunc::Avg, args: vec![Scalar::Column(ColumnRef::new("t", "id"))] };
    let count = Scalar::Func { func: SqlFunc::Count, args: vec![] };
    let having = [Expr::CompareScalar { left: count.clone(), op: CmpOp::Gt, right: Scalar::Value(Value::from(1i64)) }];
    let render = |d: &dyn Dialect| {
        st.to_sql_columns(d, &[note.clone(), avg.clone(), count.clone()], std::slice::from_ref(&note), &having, None)
            .unwrap()
            .sql
    };
    assert_eq!(
        render(&SqliteDialect),
        "SELECT \"t\".\"note\", AVG(\"t\".\"id\"), COUNT(*) FROM \"t\" GROUP BY \"t\".\"note\" HAVING COUNT(*) > ?"
    );
    assert_eq!(
        render(&PostgresDialect),
        "SELECT \"t\".\"note\", CAST(AVG(\"t\".\"id\") AS DOUBLE PRECISION), COUNT(*) FROM \"t\" GROUP BY \"t\".\"note\" HAVING COUNT(*) > $1"
    );
    assert_eq!(
        render(&MySqlDialect),
        "SELECT `t`.`note`, (AVG(`t`.`id`) + 0e0), COUNT(*) FROM `t` GROUP BY `t`.`note` HAVING COUNT(*) > ?"
    );
    assert!(st.to_sql_columns(&SqliteDialect, &[], &[], &[], None).is_err());
}

#[test]
fn ordering_by_an_expression() {
    use athanor_core::{Scalar, SqlFunc};
    let mut st = SelectStatement::new(&T);
    st.order.push(OrderKey {
        column: ColumnRef::new("", ""),
        expr: Some(Scalar::Func { func: SqlFunc::Count, args: vec![] }),
        descending: true,
        nulls: None,
    });
    assert!(st.to_sql(&SqliteDialect).unwrap().sql.ends_with(" ORDER BY COUNT(*) DESC"));
    assert!(st.to_sql(&PostgresDialect).unwrap().sql.ends_with(" ORDER BY COUNT(*) DESC NULLS LAST"));
    // MySQL repeats an emulated key: refused when the expression has bound values.
    st.order[0].expr = Some(Scalar::Value(Value::from(1i64)));
    st.order[0].nulls = Some(NullsOrder::First);
    assert!(matches!(st.to_sql(&MySqlDialect), Err(athanor_core::Error::Unsupported { .. })));
    st.order[0].nulls = Some(NullsOrder::Last);
    assert!(st.to_sql(&MySqlDialect).unwrap().sql.ends_with(" ORDER BY ? DESC"), "MySQL's own order: no repetition");
    assert!(st.to_sql(&PostgresDialect).is_ok());
}

fn sub_again() -> athanor_core::sql::select::SubqueryStatement {
    let mut inner = SelectStatement::new(&T);
    inner.filters.push(Expr::Compare {
        left: ColumnRef::new("t", "note"),
        op: athanor_core::CmpOp::Eq,
        right: athanor_core::Operand::Value(Value::from("b")),
    });
    athanor_core::sql::select::SubqueryStatement {
        base: inner,
        items: vec![],
        group_by: vec![],
        having: vec![],
        error: None,
    }
}

#[test]
fn subqueries_number_their_placeholders_with_the_statement() {
    use athanor_core::sql::select::SubqueryStatement;
    use athanor_core::{CmpOp, Operand, Scalar};
    let mut inner = SelectStatement::new(&T);
    inner.filters.push(Expr::Compare {
        left: ColumnRef::new("t", "note"),
        op: CmpOp::Eq,
        right: Operand::Value(Value::from("b")),
    });
    let sub = SubqueryStatement {
        base: inner,
        items: vec![Scalar::Column(ColumnRef::new("t", "id"))],
        group_by: vec![],
        having: vec![],
        error: None,
    };
    let mut st = SelectStatement::new(&T);
    st.filters.push(Expr::Compare {
        left: ColumnRef::new("t", "note"),
        op: CmpOp::Ne,
        right: Operand::Value(Value::from("a")),
    });
    st.filters.push(Expr::InSubquery {
        column: ColumnRef::new("t", "id"),
        subquery: Box::new(sub.clone()),
        negated: false,
    });
    st.filters.push(Expr::Exists { subquery: Box::new(sub), negated: true });
    let pg = st.to_sql(&PostgresDialect).unwrap();
    assert_eq!(
        &pg.sql[pg.sql.find(" WHERE ").unwrap()..],
        " WHERE \"t\".\"note\" <> $1 AND \"t\".\"id\" IN (SELECT \"t\".\"id\" FROM \"t\" WHERE \"t\".\"note\" = $2) \
         AND NOT EXISTS (SELECT \"t\".\"id\" FROM \"t\" WHERE \"t\".\"note\" = $3)"
    );
    assert_eq!(pg.params, [Value::from("a"), Value::from("b"), Value::from("b")]);
    // As a value: `(SELECT …)` compared with an expression, numbered in order.
    let mut st = SelectStatement::new(&T);
    st.filters.push(Expr::CompareScalar {
        left: Scalar::Column(ColumnRef::new("t", "id")),
        op: CmpOp::Lt,
        right: Scalar::Subquery(Box::new(SubqueryStatement {
            items: vec![Scalar::Func {
                func: athanor_core::SqlFunc::Max,
                args: vec![Scalar::Column(ColumnRef::new("t", "id"))],
            }],
            ..sub_again()
        })),
    });
    let my = st.to_sql(&MySqlDialect).unwrap();
    assert_eq!(
        &my.sql[my.sql.find(" WHERE ").unwrap()..],
        " WHERE `t`.`id` < (SELECT MAX(`t`.`id`) FROM `t` WHERE `t`.`note` = ?)"
    );
}

#[test]
fn case_and_cast_render_per_dialect() {
    use athanor_core::{CastType, CmpOp, Scalar};
    let id = || Scalar::Column(ColumnRef::new("t", "id"));
    let gt = |v: i64| Expr::Compare {
        left: ColumnRef::new("t", "id"),
        op: CmpOp::Gt,
        right: athanor_core::Operand::Value(Value::from(v)),
    };
    let e = Expr::CompareScalar {
        left: Scalar::Case {
            whens: vec![(gt(10), Scalar::Value(Value::from(2i64))), (gt(5), Scalar::Value(Value::F64(1.5)))],
            otherwise: Some(Box::new(Scalar::Cast { inner: Box::new(id()), to: CastType::Double })),
        },
        op: CmpOp::Ge,
        right: Scalar::Case { whens: vec![(gt(0), id())], otherwise: None },
    };
    let text = Expr::CompareScalar {
        left: Scalar::Cast { inner: Box::new(id()), to: CastType::Text },
        op: CmpOp::Eq,
        right: Scalar::Cast { inner: Box::new(Scalar::Value(Value::from("7"))), to: CastType::BigInt },
    };
    let render = |d: &dyn Dialect, e: &Expr| {
        let mut st = SelectStatement::new(&T);
        st.filters.push(e.clone());
        let s = st.to_sql(d).unwrap().sql;
        s[s.find(" WHERE ").unwrap() + 7..].to_string()
    };
    assert_eq!(
        render(&SqliteDialect, &e),
        "CASE WHEN \"t\".\"id\" > ? THEN CAST(? AS BIGINT) WHEN \"t\".\"id\" > ? THEN CAST(? AS DOUBLE PRECISION) \
         ELSE CAST(\"t\".\"id\" AS DOUBLE PRECISION) END >= CASE WHEN \"t\".\"id\" > ? THEN \"t\".\"id\" END"
    );
    assert_eq!(
        render(&PostgresDialect, &e),
        "CASE WHEN \"t\".\"id\" > $1 THEN CAST($2 AS BIGINT) WHEN \"t\".\"id\" > $3 THEN CAST($4 AS DOUBLE PRECISION) \
         ELSE CAST(\"t\".\"id\" AS DOUBLE PRECISION) END >= CASE WHEN \"t\".\"id\" > $5 THEN \"t\".\"id\" END"
    );
    assert_eq!(
        render(&MySqlDialect, &e),
        "CASE WHEN `t`.`id` > ? THEN CAST(? AS SIGNED) WHEN `t`.`id` > ? THEN (? + 0e0) \
         ELSE (`t`.`id` + 0e0) END >= CASE WHEN `t`.`id` > ? THEN `t`.`id` END"
    );
    assert_eq!(render(&SqliteDialect, &text), "CAST(\"t\".\"id\" AS TEXT) = CAST(? AS BIGINT)");
    assert_eq!(render(&PostgresDialect, &text), "CAST(\"t\".\"id\" AS TEXT) = CAST($1 AS BIGINT)");
    assert_eq!(render(&MySqlDialect, &text), "CAST(`t`.`id` AS CHAR) = CAST(? AS SIGNED)");
}

#[test]
fn text_inside_expressions_numbers_its_binds_with_the_statement() {
    use athanor_core::{text, CmpOp, Operand, Scalar};
    let mut st = SelectStatement::new(&T);
    st.filters.push(Expr::Compare {
        left: ColumnRef::new("t", "note"),
        op: CmpOp::Eq,
        right: Operand::Value(Value::from("a")),
    });
    st.filters.push(Expr::Text(Box::new(text("length(note) > :n AND note <> ':n'").bind("n", 2))));
    st.filters.push(Expr::CompareScalar {
        left: Scalar::Text(Box::new(text("id * :k").bind("k", 3))),
        op: CmpOp::Lt,
        right: Scalar::Value(Value::from(10i64)),
    });
    let pg = st.to_sql(&PostgresDialect).unwrap();
    assert_eq!(
        &pg.sql[pg.sql.find(" WHERE ").unwrap()..],
        " WHERE \"t\".\"note\" = $1 AND (length(note) > $2 AND note <> ':n') AND (id * $3) < $4"
    );
    assert_eq!(pg.params, [Value::from("a"), Value::from(2), Value::from(3), Value::from(10i64)]);
    let my = st.to_sql(&MySqlDialect).unwrap();
    assert!(my.sql.ends_with(" WHERE `t`.`note` = ? AND (length(note) > ? AND note <> ':n') AND (id * ?) < ?"));
    let unbound = Expr::Text(Box::new(text("id = :missing")));
    let mut st = SelectStatement::new(&T);
    st.filters.push(unbound);
    assert!(matches!(st.to_sql(&SqliteDialect), Err(athanor_core::Error::InvalidRequest { .. })));
}

#[test]
fn joins_under_an_alias_and_with_an_explicit_on() {
    use athanor_core::sql::select::TableJoin;
    use athanor_core::{CmpOp, Operand};
    let mut st = SelectStatement::new(&T);
    st.table_joins.push(TableJoin {
        outer: true,
        table: &T,
        column: "id",
        parent: "t",
        parent_column: "id",
        via: None,
        alias: Some("other"),
        derived: None,
    });
    st.filters.push(Expr::Compare {
        left: ColumnRef::new("other", "note"),
        op: CmpOp::Eq,
        right: Operand::Value(Value::from("x")),
    });
    let from = |d: &dyn Dialect| {
        let s = st.to_sql(d).unwrap().sql;
        s[s.find(" FROM ").unwrap()..].to_string()
    };
    assert_eq!(
        from(&PostgresDialect),
        " FROM \"t\" LEFT OUTER JOIN \"t\" AS \"other\" ON \"other\".\"id\" = \"t\".\"id\" WHERE \"other\".\"note\" = $1"
    );
    assert_eq!(
        from(&MySqlDialect),
        " FROM `t` LEFT OUTER JOIN `t` AS `other` ON `other`.`id` = `t`.`id` WHERE `other`.`note` = ?"
    );
}

#[test]
fn subquery_in_from_is_joined_and_numbered_in_order() {
    use athanor_core::sql::select::{SubqueryStatement, TableJoin};
    use athanor_core::{CmpOp, Operand, Scalar, SqlFunc};
    let mut inner = SelectStatement::new(&T);
    inner.filters.push(Expr::Compare {
        left: ColumnRef::new("t", "note"),
        op: CmpOp::Ne,
        right: Operand::Value(Value::from("b")),
    });
    let sub = SubqueryStatement {
        base: inner,
        items: vec![
            Scalar::Labeled { inner: Box::new(Scalar::Column(ColumnRef::new("t", "note"))), label: "c0" },
            Scalar::Labeled { inner: Box::new(Scalar::Func { func: SqlFunc::Count, args: vec![] }), label: "c1" },
        ],
        group_by: vec![Scalar::Column(ColumnRef::new("t", "note"))],
        having: vec![],
        error: None,
    };
    let mut st = SelectStatement::new(&T);
    st.table_joins.push(TableJoin {
        outer: false,
        table: &T,
        column: "c0",
        parent: "t",
        parent_column: "note",
        via: None,
        alias: Some("stats"),
        derived: Some(Box::new(athanor_core::sql::select::FromQuery::Select(Box::new(sub)))),
    });
    st.filters.push(Expr::Compare {
        left: ColumnRef::new("stats", "c1"),
        op: CmpOp::Gt,
        right: Operand::Value(Value::from(1i64)),
    });
    let pg = st.to_sql(&PostgresDialect).unwrap();
    assert_eq!(
        &pg.sql[pg.sql.find(" FROM ").unwrap()..],
        " FROM \"t\" JOIN (SELECT \"t\".\"note\" AS \"c0\", COUNT(*) AS \"c1\" FROM \"t\" WHERE \"t\".\"note\" <> $1 \
         GROUP BY \"t\".\"note\") AS \"stats\" ON \"stats\".\"c0\" = \"t\".\"note\" WHERE \"stats\".\"c1\" > $2"
    );
    assert_eq!(pg.params, [Value::from("b"), Value::from(1i64)]);
    let my = st.to_sql(&MySqlDialect).unwrap();
    assert!(my.sql.contains(" JOIN (SELECT `t`.`note` AS `c0`, COUNT(*) AS `c1` FROM `t` WHERE `t`.`note` <> ? GROUP BY `t`.`note`) AS `stats` ON `stats`.`c0` = `t`.`note`"), "{}", my.sql);
}

#[test]
fn set_operators_follow_capabilities_and_a_subquery_is_the_only_from() {
    use athanor_core::sql::select::{CompoundStatement, DerivedTable, FromQuery, SetOperator, SubqueryStatement};
    use athanor_core::{CmpOp, Error, Operand, Scalar};
    let part = |v: &str| {
        let mut base = SelectStatement::new(&T);
        base.filters.push(Expr::Compare {
            left: ColumnRef::new("t", "note"),
            op: CmpOp::Ne,
            right: Operand::Value(Value::from(v)),
        });
        SubqueryStatement {
            base,
            items: vec![Scalar::Column(ColumnRef::new("t", "note"))],
            group_by: vec![],
            having: vec![],
            error: None,
        }
    };
    let compound = |ops: Vec<SetOperator>| CompoundStatement {
        parts: (0..=ops.len()).map(|i| part(&i.to_string())).collect(),
        ops,
        order: vec![],
        limit: None,
        offset: None,
    };
    let all = compound(vec![SetOperator::ExceptAll]);
    assert_eq!(
        all.to_sql(&PostgresDialect).unwrap().sql,
        "SELECT \"t\".\"note\" FROM \"t\" WHERE \"t\".\"note\" <> $1 EXCEPT ALL SELECT \"t\".\"note\" FROM \"t\" \
         WHERE \"t\".\"note\" <> $2"
    );
    assert!(all.to_sql(&MySqlDialect).unwrap().sql.contains(" EXCEPT ALL "));
    assert!(matches!(all.to_sql(&SqliteDialect), Err(Error::Unsupported { .. })));
    let plain = compound(vec![SetOperator::Intersect, SetOperator::Except]);
    assert!(plain.to_sql(&SqliteDialect).unwrap().sql.contains(" INTERSECT SELECT "));
    let ambiguous = compound(vec![SetOperator::Union, SetOperator::Intersect]);
    for d in [&SqliteDialect as &dyn Dialect, &PostgresDialect, &MySqlDialect] {
        assert!(matches!(ambiguous.to_sql(d), Err(Error::InvalidRequest { .. })), "{}", d.name());
    }
    // The compound as the only FROM: its values numbered before the outer statement's.
    let mut outer = SelectStatement::new(&T);
    outer.from_subquery =
        Some(Box::new(DerivedTable { query: FromQuery::Compound(compound(vec![SetOperator::Union])), alias: "u" }));
    outer.filters.push(Expr::Compare {
        left: ColumnRef::new("u", "note"),
        op: CmpOp::Ne,
        right: Operand::Value(Value::from("z")),
    });
    let pg =
        outer.to_sql_columns(&PostgresDialect, &[Scalar::Column(ColumnRef::new("u", "note"))], &[], &[], None).unwrap();
    assert_eq!(
        pg.sql,
        "SELECT \"u\".\"note\" FROM (SELECT \"t\".\"note\" FROM \"t\" WHERE \"t\".\"note\" <> $1 UNION SELECT \"t\".\"note\" \
         FROM \"t\" WHERE \"t\".\"note\" <> $2) AS \"u\" WHERE \"u\".\"note\" <> $3"
    );
    assert_eq!(pg.params, [Value::from("0"), Value::from("1"), Value::from("z")]);
    // A SELECT of a model's rows refuses it.
    assert!(matches!(outer.to_sql(&PostgresDialect), Err(Error::InvalidRequest { .. })));
}

#[test]
fn unsigned_and_uuid_columns_in_ddl() {
    use athanor_core::create_table_statements;
    static G: TableDef = TableDef {
        name: "g",
        rust_name: "G",
        columns: &[
            ColumnDef { primary_key: true, ..ColumnDef::new("id", SqlType::Uuid) },
            ColumnDef::new("a", SqlType::U8),
            ColumnDef::new("b", SqlType::U16),
            ColumnDef { nullable: true, ..ColumnDef::new("c", SqlType::U32) },
            ColumnDef::new("t", SqlType::Timestamp),
            ColumnDef::new("d", SqlType::Date),
            ColumnDef::new("dt", SqlType::DateTime),
            ColumnDef::new("tm", SqlType::Time),
        ],
    };
    let ddl = |d: &dyn Dialect| create_table_statements(d, &G).unwrap().join("; ");
    assert_eq!(
        ddl(&SqliteDialect),
        "CREATE TABLE \"g\" (\"id\" UUID_BLOB NOT NULL, \"a\" TINYINT UNSIGNED NOT NULL, \"b\" SMALLINT UNSIGNED NOT NULL, \"c\" INT UNSIGNED, \
         \"t\" TIMESTAMP_TEXT NOT NULL, \"d\" DATE_TEXT NOT NULL, \"dt\" DATETIME_TEXT NOT NULL, \"tm\" TIME_TEXT NOT NULL, \
         CONSTRAINT \"pk_g\" PRIMARY KEY (\"id\"))"
    );
    assert_eq!(
        ddl(&PostgresDialect),
        "CREATE TABLE \"g\" (\"id\" UUID NOT NULL, \"a\" SMALLINT NOT NULL, \"b\" INTEGER NOT NULL, \"c\" BIGINT, \"t\" TIMESTAMPTZ NOT NULL, \"d\" DATE NOT NULL, \"dt\" TIMESTAMP NOT NULL, \"tm\" TIME NOT NULL, \
         CONSTRAINT \"pk_g\" PRIMARY KEY (\"id\"))"
    );
    assert_eq!(
        ddl(&MySqlDialect),
        "CREATE TABLE `g` (`id` BINARY(16) NOT NULL, `a` TINYINT UNSIGNED NOT NULL, `b` SMALLINT UNSIGNED NOT NULL, \
         `c` INT UNSIGNED, `t` DATETIME(6) NOT NULL, `d` DATE NOT NULL, `dt` DATETIME(6) NOT NULL, `tm` TIME(6) NOT NULL, CONSTRAINT `pk_g` PRIMARY KEY (`id`)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"
    );
}

#[test]
fn decimal_json_and_u64_columns_in_ddl() {
    use athanor_core::create_table_statements;
    static P: TableDef = TableDef {
        name: "p",
        rust_name: "P",
        columns: &[
            ColumnDef { primary_key: true, ..ColumnDef::new("id", SqlType::BigInt) },
            ColumnDef { precision: Some((12, 2)), ..ColumnDef::new("amount", SqlType::Decimal) },
            ColumnDef { nullable: true, precision: Some((28, 0)), ..ColumnDef::new("big", SqlType::Decimal) },
            ColumnDef::new("doc", SqlType::Json),
            ColumnDef::new("n", SqlType::U64),
        ],
    };
    let ddl = |d: &dyn Dialect| create_table_statements(d, &P).unwrap().join("; ");
    assert_eq!(
        ddl(&SqliteDialect),
        "CREATE TABLE \"p\" (\"id\" INTEGER NOT NULL, \"amount\" DECIMAL_TEXT(12,2) COLLATE athanor_decimal NOT NULL, \
         \"big\" DECIMAL_TEXT(28,0) COLLATE athanor_decimal, \"doc\" JSON_TEXT NOT NULL, \"n\" UNSIGNED BIG INT NOT NULL, \
         CONSTRAINT \"pk_p\" PRIMARY KEY (\"id\"))"
    );
    assert_eq!(
        ddl(&PostgresDialect),
        "CREATE TABLE \"p\" (\"id\" BIGINT NOT NULL, \"amount\" NUMERIC(12,2) NOT NULL, \"big\" NUMERIC(28,0), \
         \"doc\" JSONB NOT NULL, \"n\" BIGINT NOT NULL, CONSTRAINT \"pk_p\" PRIMARY KEY (\"id\"))"
    );
    assert_eq!(
        ddl(&MySqlDialect),
        "CREATE TABLE `p` (`id` BIGINT NOT NULL, `amount` DECIMAL(12,2) NOT NULL, `big` DECIMAL(28,0), `doc` JSON NOT NULL, \
         `n` BIGINT NOT NULL, CONSTRAINT `pk_p` PRIMARY KEY (`id`)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"
    );
    // A decimal without precision would be DECIMAL(10,0) on MySQL, rounding what the others keep;
    // an indexed JSON column cannot be created there.
    static BAD: TableDef = TableDef {
        name: "b",
        rust_name: "B",
        columns: &[
            ColumnDef { primary_key: true, ..ColumnDef::new("id", SqlType::BigInt) },
            ColumnDef::new("d", SqlType::Decimal),
        ],
    };
    assert!(matches!(create_table_statements(&MySqlDialect, &BAD), Err(athanor_core::Error::InvalidRequest { .. })));
    static IDX: TableDef = TableDef {
        name: "j",
        rust_name: "J",
        columns: &[
            ColumnDef { primary_key: true, ..ColumnDef::new("id", SqlType::BigInt) },
            ColumnDef { index: true, ..ColumnDef::new("doc", SqlType::Json) },
        ],
    };
    assert!(matches!(create_table_statements(&MySqlDialect, &IDX), Err(athanor_core::Error::Unsupported { .. })));
}

#[test]
fn enum_columns_get_a_check_listing_their_values() {
    use athanor_core::{create_table_statements, DefaultValue};
    static E: TableDef = TableDef {
        name: "e",
        rust_name: "E",
        columns: &[
            ColumnDef { primary_key: true, ..ColumnDef::new("id", SqlType::BigInt) },
            ColumnDef {
                length: Some(4),
                allowed: &[DefaultValue::Text("a"), DefaultValue::Text("it's")],
                ..ColumnDef::new("s", SqlType::Text)
            },
            ColumnDef {
                nullable: true,
                allowed: &[DefaultValue::Int(1), DefaultValue::Int(10)],
                ..ColumnDef::new("n", SqlType::BigInt)
            },
        ],
    };
    let col = |d: &dyn Dialect| {
        let ddl = create_table_statements(d, &E).unwrap().join("; ");
        let start = ddl.find(", ").unwrap() + 2;
        ddl[start..ddl.find(", CONSTRAINT").unwrap()].to_string()
    };
    assert_eq!(
        col(&PostgresDialect),
        "\"s\" VARCHAR(4) NOT NULL CHECK (\"s\" IN ('a', 'it''s')), \"n\" BIGINT CHECK (\"n\" IN (1, 10))"
    );
    assert_eq!(
        col(&MySqlDialect),
        "`s` VARCHAR(4) NOT NULL CHECK (`s` IN ('a', 'it''s')), `n` BIGINT CHECK (`n` IN (1, 10))"
    );
    assert_eq!(
        col(&SqliteDialect),
        "\"s\" VARCHAR(4) NOT NULL CHECK (\"s\" IN ('a', 'it''s')), \"n\" INTEGER CHECK (\"n\" IN (1, 10))"
    );
}

#[test]
fn now_is_utc_in_the_stored_form() {
    use athanor_core::{CmpOp, Scalar, SqlFunc};
    let e = Expr::CompareScalar {
        left: Scalar::Column(ColumnRef::new("t", "note")),
        op: CmpOp::Lt,
        right: Scalar::Func { func: SqlFunc::Now, args: vec![] },
    };
    let render = |d: &dyn Dialect| {
        let mut st = SelectStatement::new(&T);
        st.filters.push(e.clone());
        let s = st.to_sql(d).unwrap().sql;
        s[s.find(" WHERE ").unwrap() + 7..].to_string()
    };
    assert_eq!(render(&SqliteDialect), "\"t\".\"note\" < strftime('%Y-%m-%dT%H:%M:%f000Z', 'now')");
    assert_eq!(render(&PostgresDialect), "\"t\".\"note\" < statement_timestamp()");
    assert_eq!(render(&MySqlDialect), "`t`.`note` < UTC_TIMESTAMP(6)");
}

/// `Display` of a rendered statement is its SQL text with placeholders (SQLAlchemy's
/// `str(stmt)`); the values stay bound, never in the text.
#[test]
fn statement_displays_its_sql_with_placeholders() {
    let mut st = SelectStatement::new(&T);
    st.filters.push(Expr::Compare {
        left: ColumnRef::new("t", "note"),
        op: athanor_core::CmpOp::Eq,
        right: athanor_core::Operand::Value(Value::Text("secret".into())),
    });
    let stmt = st.to_sql(&PostgresDialect).unwrap();
    assert_eq!(stmt.to_string(), "SELECT \"t\".\"id\", \"t\".\"note\" FROM \"t\" WHERE \"t\".\"note\" = $1");
    assert_eq!(stmt.params, [Value::Text("secret".into())]);
}

/// `text()` reads each dialect's own literal and comment forms: a `:name` inside them is not a
/// bind (issue 20: PostgreSQL `$$…$$` and `E'…\'…'`, MySQL `"…\"…"` and `# …` were misread).
#[test]
fn text_skips_each_dialects_literals_and_comments() {
    use athanor_core::text;
    let sql = |d: &dyn Dialect, s: &str| text(s).bind("a", 1i64).to_sql(d).map(|st| st.sql);
    // PostgreSQL: dollar quotes (tagged too), escape strings, nested comments, casts.
    let pg = |s: &str| sql(&PostgresDialect, s).unwrap_or_else(|e| panic!("{s}: {e}"));
    assert_eq!(pg("SELECT $$it's :x$$, :a"), "SELECT $$it's :x$$, $1");
    assert_eq!(pg("SELECT $fn$ :x $$ :y $fn$ || :a"), "SELECT $fn$ :x $$ :y $fn$ || $1");
    assert_eq!(pg("SELECT E'it\\'s :x', e'\\\\', :a"), "SELECT E'it\\'s :x', e'\\\\', $1");
    assert_eq!(pg("SELECT /* a /* :x */ :y */ :a::int"), "SELECT /* a /* :x */ :y */ $1::int");
    assert_eq!(pg("SELECT a$b, :a"), "SELECT a$b, $1", "a $ inside an identifier opens nothing");
    assert_eq!(pg("SELECT $1, :a"), "SELECT $1, $1", "positional $1 passes through");
    assert_eq!(pg("SELECT name'x' ,:a"), "SELECT name'x' ,$1");
    // Elsewhere an E before a quote is an identifier's end, and a backslash is a character.
    assert!(sql(&SqliteDialect, "SELECT E'\\', ':x', :a").is_ok());
    // MySQL: double-quoted strings with backslash escapes, # comments, `--` only before a space.
    let my = |s: &str| sql(&MySqlDialect, s).unwrap_or_else(|e| panic!("{s}: {e}"));
    assert_eq!(my("SELECT \"say \\\":x\\\"\", :a"), "SELECT \"say \\\":x\\\"\", ?");
    assert_eq!(my("SELECT 'it\\'s :x', :a # :y\n"), "SELECT 'it\\'s :x', ? # :y\n");
    assert_eq!(my("SELECT 1 -- :y\n, :a"), "SELECT 1 -- :y\n, ?");
    assert_eq!(my("SELECT 7--:a"), "SELECT 7--?", "`--` before a non-space is arithmetic");
    assert_eq!(my("SELECT /* :x /* */ :a"), "SELECT /* :x /* */ ?", "comments do not nest");
    // PostgreSQL and SQLite: `"…"` is an identifier without backslash escapes, `#` is no comment.
    assert_eq!(pg("SELECT \"a\\\" , :a"), "SELECT \"a\\\" , $1");
    assert!(sql(&PostgresDialect, "SELECT 1 # :x").is_err(), ":x is a bind there, and unbound");
    // SQLite: [bracketed] identifiers.
    assert_eq!(sql(&SqliteDialect, "SELECT 1 AS [a:x], :a").unwrap(), "SELECT 1 AS [a:x], ?");
    assert!(sql(&MySqlDialect, "SELECT 1 AS [a:x], :a").is_err(), "no brackets on MySQL: :x is read");
}
