//! `Query::populate_existing()`: the objects a query returns that the session already holds are
//! refreshed from their rows (without it they keep the values they were loaded with), each once
//! per query, also when a joined collection repeats its parent's row.

use crate::harness::TestDb;
use crate::models::blog::{Post, User};
use crate::models::*;
use crate::scenarios::session::seed;
use athanor::prelude::*;

const SELECT_ALL: &str = "SELECT customers.id, customers.name, customers.address, customers.email, customers.age \
                          FROM customers ORDER BY customers.name ASC";

fn ages(cs: &[Handle<Customer>]) -> Vec<i32> {
    cs.iter().map(|c| c.get().age).collect()
}

fn selects(db: &TestDb) -> Vec<String> {
    db.take_sql().into_iter().filter(|q| q.starts_with("SELECT") || q.starts_with("UPDATE")).collect()
}

/// A change the identity map does not know about (raw SQL in the same transaction): a plain
/// query keeps the held values, `populate_existing()` reads the rows into the same objects.
pub fn populate_existing_refreshes_held_objects(db: &TestDb) -> Result<()> {
    seed(db)?;
    let s = db.session();
    let first = s.query::<Customer>().order_by(Customer::name.asc()).all()?;
    assert_eq!(ages(&first), [41, 34, 12]);
    s.execute_sql("UPDATE customers SET age = age + 1", &[])?;
    db.clear_sql();
    let stale = s.query::<Customer>().order_by(Customer::name.asc()).all()?;
    assert_eq!(ages(&stale), [41, 34, 12], "the identity map's values");
    let fresh = s.query::<Customer>().order_by(Customer::name.asc()).populate_existing().all()?;
    assert_eq!(ages(&fresh), [42, 35, 13]);
    assert!(fresh.iter().zip(&first).all(|(a, b)| Handle::ptr_eq(a, b)), "the same objects");
    assert_eq!(selects(db), [SELECT_ALL, SELECT_ALL]);
    // An edit is flushed first (autoflush), then read back as the row has it.
    first[0].edit(|c| c.age = 100)?;
    let one = s.query::<Customer>().filter(Customer::name.eq("ann")).populate_existing().one()?;
    assert_eq!(one.get().age, 100);
    assert!(!s.is_dirty());
    // The next plain query is back to the identity map's rule.
    s.execute_sql("UPDATE customers SET age = 7", &[])?;
    let plain = s.query::<Customer>().order_by(Customer::name.asc()).all()?;
    assert_eq!(ages(&plain), [100, 35, 13]);
    Ok(())
}

/// With a joined collection, each parent row repeats: the parent is refreshed once, and its
/// collection holds every child, with the children refreshed too.
pub fn populate_existing_with_a_joined_collection(db: &TestDb) -> Result<()> {
    crate::scenarios::relationships::seeded(db)?;
    let s = db.session();
    let users = s.query::<User>().order_by(User::name.asc()).options(joinedload(User::posts)).all()?;
    let scores = |us: &[Handle<User>]| -> Vec<Vec<i32>> {
        us.iter()
            .map(|u| u.get().posts.loaded().map(|ps| ps.iter().map(|p| p.get().score).collect()).unwrap_or_default())
            .collect()
    };
    assert_eq!(scores(&users), [vec![5, 2], vec![9]]);
    s.execute_sql("UPDATE posts SET score = score + 10", &[])?;
    let again = s.query::<User>().order_by(User::name.asc()).options(joinedload(User::posts)).all()?;
    assert_eq!(scores(&again), [vec![5, 2], vec![9]], "held values");
    let fresh =
        s.query::<User>().order_by(User::name.asc()).options(joinedload(User::posts)).populate_existing().all()?;
    assert_eq!(scores(&fresh), [vec![15, 12], vec![19]]);
    let held: Vec<i32> = s.query::<Post>().order_by(Post::id.asc()).all()?.iter().map(|p| p.get().score).collect();
    assert_eq!(held, [15, 12, 19], "the posts in the identity map were refreshed");
    Ok(())
}
