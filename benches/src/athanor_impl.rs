//! The Athanor contender: the same code for every database (the engine URL picks the backend).

use crate::data::{
    check_assoc, flipped_age, AssocComment, AssocPost, AssocUser, BPost, BUser, Customer, PostWithComments,
    UserWithPosts,
};
use crate::harness::{timed, Contender, Params, Res, Workload};
use athanor::prelude::*;
use std::hint::black_box;
use std::time::Duration;

/// Athanor's Session/Query API over one engine (default settings: autoflush, expire on commit).
pub struct AthanorContender {
    maker: athanor::SessionMaker,
    statements: Option<u64>,
    assoc_shape: Option<(usize, usize, usize)>,
    assoc_checked: bool,
}

impl AthanorContender {
    /// A contender on `engine`.
    pub fn new(engine: &Engine) -> Self {
        AthanorContender { maker: sessionmaker(engine), statements: None, assoc_shape: None, assoc_checked: false }
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

/// Check a loaded `load_assoc` graph in full (the first, untimed run only): the same nested
/// result as the raw drivers', and the many-to-one sides filled by `back_populates` pointing at
/// the very instances that hold them.
fn check_graph(users: &[Handle<BUser>]) -> Res<()> {
    let mut nested = Vec::with_capacity(users.len());
    for uh in users {
        let u = uh.get();
        let mut posts = Vec::new();
        for ph in u.posts.loaded().ok_or("user.posts not loaded")? {
            let p = ph.get();
            if !p.user.get().is_some_and(|x| Handle::ptr_eq(x, uh)) {
                return Err(format!("post {:?}: post.user is not its user", p.id).into());
            }
            let mut comments = Vec::new();
            for ch in p.comments.loaded().ok_or("post.comments not loaded")? {
                let c = ch.get();
                if !c.post.get().is_some_and(|x| Handle::ptr_eq(x, ph)) {
                    return Err(format!("comment {:?}: comment.post is not its post", c.id).into());
                }
                comments.push(AssocComment {
                    id: c.id.ok_or("comment without id")?,
                    post_id: c.post_id,
                    body: c.body.clone(),
                });
            }
            let post = AssocPost { id: p.id.ok_or("post without id")?, user_id: p.user_id, title: p.title.clone() };
            posts.push(PostWithComments { post, comments });
        }
        nested.push(UserWithPosts {
            user: AssocUser { id: u.id.ok_or("user without id")?, name: u.name.clone() },
            posts,
        });
    }
    check_assoc(&nested)?;
    Ok(())
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
            Workload::FilterOne => timed(|| {
                let s = maker.session();
                let mut n = 0;
                for email in p.lookup_emails() {
                    let h = s.query::<Customer>().filter(Customer::email.eq(email)).one()?;
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
            Workload::LoadAssoc => {
                let check = !self.assoc_checked;
                let (d, shape) = timed(|| {
                    let s = maker.session();
                    let users =
                        s.query::<BUser>().options(selectinload(BUser::posts).selectinload(BPost::comments)).all()?;
                    // Walk the graph through the loaded fields (no I/O: a field not loaded fails).
                    let mut shape = (users.len(), 0, 0);
                    for u in &users {
                        let u = u.get();
                        let posts = u.posts.loaded().ok_or("user.posts not loaded")?;
                        shape.1 += posts.len();
                        for p in posts {
                            shape.2 += p.get().comments.loaded().ok_or("post.comments not loaded")?.len();
                        }
                    }
                    if check {
                        check_graph(&users)?;
                    }
                    Ok(black_box(shape))
                })?;
                self.assoc_checked = true;
                self.assoc_shape = Some(shape);
                (d, shape.2)
            }
        };
        self.statements = Some(maker.engine().statement_count() - before);
        Ok(Some(r))
    }

    fn statements(&self) -> Option<u64> {
        self.statements
    }

    fn assoc_shape(&self) -> Option<(usize, usize, usize)> {
        self.assoc_shape
    }
}
