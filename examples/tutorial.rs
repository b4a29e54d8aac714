//! The SQLAlchemy ORM tutorial (../shared/seed/sqlalchemy-orm-notes.md), step by step, in Athanor.
//!
//! ```text
//! cargo run --example tutorial                                   # an SQLite file, no server
//! cargo run --example tutorial -- postgres://postgres@127.0.0.1/test
//! cargo run --example tutorial -- mysql://root@127.0.0.1/test
//! ```
//! The program is the same on every database: only the URL changes. Set `RUST_LOG`-style
//! logging with `?echo=true` on the URL to see every statement.
#![allow(missing_docs)] // a program, not a library: its mapped structs are its documentation

use athanor::prelude::*;

// Declare mapping: the struct is the mapped class; the derive writes its table metadata.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "customers")]
pub struct Customer {
    #[column(primary_key)]
    pub id: Option<i64>, // None until the flush fills it in
    pub name: String,
    pub address: Option<String>, // Option<T>: NULL allowed
    #[column(unique, length = 255)]
    pub email: String,
    pub age: i32,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "orders")]
pub struct Order {
    #[column(primary_key)]
    pub id: Option<i64>,
    #[column(foreign_key = "customers.id", index)]
    pub customer_id: i64,
    pub total_cents: i64,
}

fn show(label: &str, customers: &[Handle<Customer>]) {
    println!("{label}:");
    for c in customers {
        let c = c.get();
        let addr = c.address.as_deref().unwrap_or("-");
        println!("  #{} {:<6} age {:>2}  {:<22} {}", c.id.unwrap_or_default(), c.name, c.age, c.email, addr);
    }
}

fn main() -> athanor::Result<()> {
    let url = std::env::args().nth(1).unwrap_or_else(|| "sqlite://tutorial.db".into());
    if url.contains("echo=true") {
        tracing_subscriber::fmt().with_target(false).init();
    }

    // create_engine: parses the URL and picks the backend; nothing connects yet.
    let engine = create_engine(&url)?;
    // Lines that differ per database (the URL, the dialect's SQL) go to stderr; the results on
    // stdout are the same on every database.
    eprintln!("   engine for {} (dialect {})", engine.url(), engine.dialect().name());
    println!("1. engine created, not connected yet");

    // The declarative base: a catalog of the mapped classes and their tables.
    let base = Base::new().register::<Customer>().register::<Order>();
    for t in base.metadata().sorted_tables()? {
        let cols: Vec<&str> = t.columns.iter().map(|c| c.name).collect();
        println!("2. mapped table {} ({})", t.name, cols.join(", "));
    }

    // Start from a clean slate so the walk-through is repeatable, then create_all: only the
    // missing tables, parents before children.
    base.metadata().drop_all(&engine)?;
    base.metadata().create_all(&engine)?;
    base.metadata().create_all(&engine)?; // a second call is a no-op
    println!("3. create_all: tables created (the second call did nothing)");

    // sessionmaker(bind=engine) and session = Session()
    let sessions = sessionmaker(&engine);
    let session = sessions.session();

    // add, add_all, commit: pending until the flush that commit() starts.
    let brian = session.add(Customer {
        id: None,
        name: "brian".into(),
        address: None,
        email: "brian@example.com".into(),
        age: 34,
    });
    println!("4. added brian: state {:?}, id {:?}", brian.state(), brian.get().id);
    session.add_all(vec![
        Customer {
            id: None,
            name: "ann".into(),
            address: Some("7 Elm St".into()),
            email: "ann@example.com".into(),
            age: 41,
        },
        Customer { id: None, name: "zed".into(), address: None, email: "zed@example.com".into(), age: 12 },
        Customer { id: None, name: "carl".into(), address: None, email: "carl@example.com".into(), age: 18 },
    ]);
    session.commit()?;
    println!("5. committed: brian is {:?} with generated id {:?}", brian.state(), brian.get().id);

    // An order that references brian: the foreign key is enforced by the database.
    let brian_id = brian.get().id.unwrap_or_default();
    session.add(Order { id: None, customer_id: brian_id, total_cents: 4200 });
    session.commit()?;
    println!("6. order for customer #{brian_id} committed");

    // The whole table: session.query(Customers).all()
    show("7. query(Customer).all() ordered by id", &session.query::<Customer>().order_by(Customer::id.asc()).all()?);

    // Generative query: filter(age >= 18).order_by(name)
    let adults = session.query::<Customer>().filter(Customer::age.ge(18)).order_by(Customer::name.asc());
    eprintln!("   SQL: {}", adults.sql()?);
    show("8. adults by name", &adults.all()?);
    println!(
        "   count = {}, exists(age > 100) = {}",
        adults.count()?,
        session.query::<Customer>().filter(Customer::age.gt(100)).exists()?
    );

    // Update: a tracked change, written as an UPDATE of the changed column only.
    brian.edit(|c| c.address = Some("1 Main St".into()))?;
    session.commit()?;
    let reloaded = sessions.session().get::<Customer>(brian_id)?;
    println!("9. updated brian's address -> {:?}", reloaded.map(|c| c.get().address.clone()).unwrap_or_default());

    // Delete, then roll back: nothing is deleted.
    let zed = session.query::<Customer>().filter(Customer::name.eq("zed")).one()?;
    session.delete(&zed)?;
    session.flush()?;
    println!(
        "10. deleted zed (flushed, not committed): {} customers visible in this transaction",
        session.query::<Customer>().count()?
    );
    session.rollback()?;
    println!("11. rolled back: {} customers, zed is {:?} again", session.query::<Customer>().count()?, zed.state());

    // Delete for real.
    session.delete(&zed)?;
    session.commit()?;
    println!("12. deleted zed and committed: {} customers", session.query::<Customer>().count()?);

    // ACID: a failing flush writes nothing; after rollback the session works again.
    session.add(Customer { id: None, name: "eve".into(), address: None, email: "eve@example.com".into(), age: 29 });
    session.add(Customer { id: None, name: "dup".into(), address: None, email: "ann@example.com".into(), age: 30 });
    match session.commit() {
        Err(e) => println!(
            "13. duplicate email refused: {}",
            e.constraint().map_or_else(|| e.to_string(), |c| format!("integrity error on {c}"))
        ),
        Ok(()) => println!("13. unexpected: the duplicate was accepted"),
    }
    session.rollback()?;
    println!("14. after rollback: {} customers, eve was not written", session.query::<Customer>().count()?);
    show("15. final table", &session.query::<Customer>().order_by(Customer::id.asc()).all()?);
    Ok(())
}
