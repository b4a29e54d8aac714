//! An order book with the column types real applications need: an instant (`jiff::Timestamp`),
//! money (`rust_decimal::Decimal`, exact on every database) and a typed JSON document
//! (`athanor::Json<T>`), plus a `#[derive(DbEnum)]` status. The same program prints the same
//! lines on every database:
//!
//! ```text
//! cargo run --example orders                                   # SQLite in memory
//! cargo run --example orders -- postgres://postgres@127.0.0.1/test
//! cargo run --example orders -- mysql://root@127.0.0.1/test
//! ```
#![allow(missing_docs)] // a program, not a library

use athanor::prelude::*;
use athanor::{func, Decimal, Json};

#[derive(DbEnum, Debug, Clone, Copy, PartialEq)]
pub enum Status {
    Open,
    Paid,
    Shipped,
}

/// A line of an order, kept in the order's JSON document.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Line {
    pub sku: String,
    pub qty: u32,
}

#[derive(Model, Debug, Clone)]
#[model(table = "orders_example")]
pub struct Order {
    #[column(primary_key)]
    pub id: Option<i64>,
    #[column(length = 40)]
    pub customer: String,
    /// When it was placed, in UTC, to the microsecond.
    pub placed_at: jiff::Timestamp,
    /// Money: up to 99,999,999.99.
    #[column(precision = 10, scale = 2)]
    pub total: Decimal,
    pub status: Status,
    pub lines: Json<Vec<Line>>,
}

fn order(customer: &str, placed: &str, cents: i64, status: Status, lines: &[(&str, u32)]) -> Result<Order> {
    let placed_at = placed.parse().map_err(|e| Error::invalid_request(format!("bad instant {placed}: {e}")))?;
    Ok(Order {
        id: None,
        customer: customer.into(),
        placed_at,
        total: Decimal::new(cents, 2),
        status,
        lines: Json(lines.iter().map(|(sku, qty)| Line { sku: (*sku).into(), qty: *qty }).collect()),
    })
}

fn main() -> Result<()> {
    let url = std::env::args().nth(1).unwrap_or_else(|| "sqlite::memory:".into());
    let engine = create_engine(&url)?;
    let base = Base::new().register::<Order>();
    base.metadata().drop_all(&engine)?;
    base.metadata().create_all(&engine)?;
    let session = sessionmaker(&engine).session();

    session.add_all([
        order("ada", "2026-11-30T09:15:00.125Z", 129_999, Status::Paid, &[("kbd-01", 1), ("cap-07", 4)])?,
        order("brian", "2026-11-30T11:00:00Z", 999, Status::Open, &[("cable-2m", 1)])?,
        order("chen", "2026-12-01T08:30:00.000001Z", 10_000, Status::Shipped, &[("mouse-3", 2)])?,
        order("dora", "2026-12-01T07:00:00Z", 1_000, Status::Paid, &[("pad-xl", 1)])?,
    ]);
    session.commit()?;

    // Decimals compare and sort as numbers everywhere (on SQLite too, where they are text).
    let at_least = Decimal::new(1_000, 2); // 10.00
    println!("orders of at least {at_least}, largest first:");
    for o in session.query::<Order>().filter(Order::total.ge(at_least)).order_by(Order::total.desc()).all()? {
        let o = o.get();
        let items: u32 = o.lines.iter().map(|l| l.qty).sum();
        println!("  {:<6} {:>8} {:?} placed {} ({items} item(s))", o.customer, o.total, o.status, o.placed_at);
    }

    // Instants compare with a bound instant, and with the database's clock.
    let cutoff: jiff::Timestamp = "2026-12-01T00:00:00Z".parse().map_err(|e| Error::invalid_request(format!("{e}")))?;
    let earlier = session.query::<Order>().filter(Order::placed_at.lt(cutoff)).count()?;
    let past = session.query::<Order>().filter(Order::placed_at.lt(func::now())).count()?;
    println!("placed before {cutoff}: {earlier}; placed before the database's now(): {past}");

    // The JSON document is edited like any field; the unit of work writes it back.
    let open = session.query::<Order>().filter(Order::status.eq(Status::Open)).one()?;
    open.edit(|o| {
        o.lines.push(Line { sku: "adapter".into(), qty: 1 });
        o.total += Decimal::new(450, 2);
    })?;
    session.commit()?;
    {
        let fresh = sessionmaker(&engine).session();
        let o = fresh.query::<Order>().filter(Order::customer.eq("brian")).one()?;
        println!("brian's order now: {} for {} line(s)", o.get().total, o.get().lines.len());
    } // the session, and its transaction, end here

    // A value the column cannot hold exactly is refused before anything is written.
    session.add(order("eve", "2026-12-01T10:00:00Z", 0, Status::Open, &[])?);
    if let Some(o) = session.query::<Order>().filter(Order::customer.eq("eve")).first()? {
        o.edit(|o| o.total = Decimal::new(1_005, 3))?;
    }
    match session.commit() {
        Err(e) => println!("refused: {e}"),
        Ok(()) => println!("unexpectedly stored 1.005 in a column of scale 2"),
    }
    session.rollback()?;
    drop(session);
    base.metadata().drop_all(&engine)?;
    Ok(())
}
