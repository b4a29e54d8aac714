//! The Athanor contender: the same code for every database (the engine URL picks the backend).

use crate::data::{flipped_age, Customer};
use crate::harness::{timed, Contender, Params, Res, Workload};
use athanor::prelude::*;
use std::hint::black_box;
use std::time::Duration;

/// Athanor's Session/Query API over one engine (default settings: autoflush, expire on commit).
pub struct AthanorContender {
    maker: athanor::SessionMaker,
    statements: Option<u64>,
}

impl AthanorContender {
    /// A contender on `engine`.
    pub fn new(engine: &Engine) -> Self {
        AthanorContender { maker: sessionmaker(engine), statements: None }
    }
}

fn objects(p: &Params) -> Vec<Customer> {
    p.rows
        .iter()
        .map(|r| Customer {
            id: None,
            name: r.name.clone(),
            address: r.address.clone(),
            email: r.email.clone(),
            age: r.age,
        })
        .collect()
}

fn missing(id: i64) -> crate::harness::BoxError {
    format!("no customer with id {id}").into()
}

impl Contender for AthanorContender {
    fn run(&mut self, w: Workload, p: &Params) -> Res<Option<(Duration, usize)>> {
        let maker = &self.maker;
        let mut before = maker.engine().statement_count();
        let r = match w {
            Workload::InsertN => {
                // The objects exist before the unit of work starts (as the raw driver's rows do).
                // They outlive it too: the handles are dropped after the clock stops, as the raw
                // driver's rows are never freed inside its timing.
                let objs = objects(p);
                let (d, (n, handles)) = timed(|| {
                    let s = maker.session();
                    let handles = s.add_all(objs);
                    s.commit()?;
                    Ok((handles.iter().filter(|h| h.get().id.is_some()).count(), handles))
                })?;
                drop(handles);
                (d, n)
            }
            Workload::SelectAll => timed(|| {
                let s = maker.session();
                let all = s.query::<Customer>().all()?;
                Ok(black_box(all).len())
            })?,
            Workload::GetByPk | Workload::GetByPkTxEach => timed(|| {
                let mut n = 0;
                for &id in &p.lookup {
                    let s = maker.session();
                    let h = s.get::<Customer>(id)?.ok_or_else(|| missing(id))?;
                    black_box(h.get().age);
                    n += 1;
                }
                Ok(n)
            })?,
            Workload::GetByPkOneSession => timed(|| {
                let s = maker.session();
                let mut n = 0;
                for &id in &p.lookup {
                    let h = s.get::<Customer>(id)?.ok_or_else(|| missing(id))?;
                    black_box(h.get().age);
                    n += 1;
                }
                Ok(n)
            })?,
            Workload::GetByPkHit => {
                let s = maker.session();
                let loaded = s.query::<Customer>().filter(Customer::id.in_(p.lookup.iter().copied())).all()?;
                if loaded.len() != p.lookup.len() {
                    return Err(format!("preloaded {} of {} customers", loaded.len(), p.lookup.len()).into());
                }
                before = maker.engine().statement_count();
                let r = timed(|| {
                    let mut n = 0;
                    for &id in &p.lookup {
                        let h = s.get::<Customer>(id)?.ok_or_else(|| missing(id))?;
                        black_box(h.get().age);
                        n += 1;
                    }
                    Ok(n)
                })?;
                if maker.engine().statement_count() != before {
                    return Err("identity-map hits sent SQL".into());
                }
                drop(s);
                // The preloading session's ROLLBACK is not part of the workload.
                before = maker.engine().statement_count();
                r
            }
            Workload::FilterOrder => timed(|| {
                let s = maker.session();
                let adults = s.query::<Customer>().filter(Customer::age.ge(18)).order_by(Customer::name.asc()).all()?;
                Ok(black_box(adults).len())
            })?,
            Workload::UpdateDirty => {
                let (lo, hi) = p.update_range();
                timed(|| {
                    let s = maker.session();
                    let some = s.query::<Customer>().filter(Customer::id.between(lo, hi)).all()?;
                    for h in &some {
                        h.edit(|c| c.age = flipped_age(c.age))?;
                    }
                    s.commit()?;
                    Ok(some.len())
                })?
            }
        };
        self.statements = Some(maker.engine().statement_count() - before);
        Ok(Some(r))
    }

    fn statements(&self) -> Option<u64> {
        self.statements
    }
}
