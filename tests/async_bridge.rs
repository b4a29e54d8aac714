//! The async bridge (feature `tokio`) on every configured backend: results come back, a
//! transaction commits on `Ok` and rolls back on `Err`, concurrency never exceeds the pool, a
//! caller that waits too long gets `PoolTimeout`, a dropped future rolls its work back and
//! returns the connection, a panic rolls back and reaches the caller, and the bridge works on a
//! runtime without a timer and refuses (typed) outside a runtime.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed unwrap is a failed test

use athanor::prelude::*;
use athanor::testing;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A book with a stock.
#[derive(Model, Debug, Clone)]
#[model(table = "bridge_books")]
pub struct Book {
    /// Generated key.
    #[column(primary_key)]
    pub id: Option<i64>,
    /// Title.
    pub title: String,
    /// Copies in stock.
    pub stock: i32,
}

fn with_url(url: &str, options: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{options}")
}

/// Each configured backend: a fresh database with the books table, and an engine on it made
/// with `options` (URL query options).
fn each_backend(options: &str, test: impl Fn(&str, Engine)) {
    for (backend, db) in testing::configured_databases() {
        let engine = create_engine(&with_url(db.url(), options)).unwrap();
        Base::new().register::<Book>().metadata().create_all(&engine).unwrap();
        test(backend, engine);
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

fn titles(engine: &Engine) -> Vec<String> {
    let s = sessionmaker(engine).session();
    s.query::<Book>().order_by(Book::title.asc()).all().unwrap().iter().map(|b| b.get().title.clone()).collect()
}

#[derive(Debug)]
enum AppError {
    #[allow(dead_code)] // read by Debug in failure messages
    Db(Error),
    OutOfStock,
}
impl From<Error> for AppError {
    fn from(e: Error) -> Self {
        AppError::Db(e)
    }
}

#[test]
fn run_returns_results_and_run_transaction_commits_on_ok_only() {
    each_backend("", |backend, engine| {
        let sessions = sessionmaker(&engine);
        runtime().block_on(async {
            let id = sessions
                .run_transaction(|s| -> Result<i64, AppError> {
                    let b = s.add(Book { id: None, title: "kept".into(), stock: 3 });
                    s.flush()?;
                    let id = b.get().id.unwrap();
                    Ok(id)
                })
                .await
                .unwrap();
            let out = sessions
                .run_transaction(|s| -> Result<(), AppError> {
                    s.add(Book { id: None, title: "refused".into(), stock: 0 });
                    s.flush()?;
                    Err(AppError::OutOfStock)
                })
                .await;
            assert!(matches!(out, Err(AppError::OutOfStock)), "{backend}: {out:?}");
            // `run` commits nothing by itself.
            sessions
                .run(|s| {
                    s.add(Book { id: None, title: "not committed".into(), stock: 1 });
                    s.flush()
                })
                .await
                .unwrap();
            let n: u64 = sessions.run(|s| s.query::<Book>().count()).await.unwrap();
            assert_eq!(n, 1, "{backend}");
            let stock = sessions.run(move |s| Ok::<_, Error>(s.get::<Book>(id)?.unwrap().get().stock)).await.unwrap();
            assert_eq!(stock, 3);
        });
        assert_eq!(titles(&engine), ["kept"], "{backend}");
        assert_eq!(engine.free_slots(), engine.pool_metrics().max_size as usize, "{backend}: every slot back");
    });
}

#[test]
fn no_more_closures_run_at_once_than_the_pool_has_connections() {
    each_backend("pool_size=2", |backend, engine| {
        let sessions = sessionmaker(&engine);
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        runtime().block_on(async {
            let mut tasks = Vec::new();
            for i in 0..12 {
                let (sessions, running, most) = (sessions.clone(), running.clone(), most.clone());
                tasks.push(tokio::spawn(async move {
                    sessions
                        .run_transaction(move |s| {
                            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                            most.fetch_max(now, Ordering::SeqCst);
                            s.add(Book { id: None, title: format!("b{i:02}"), stock: i });
                            s.flush()?;
                            std::thread::sleep(Duration::from_millis(30));
                            running.fetch_sub(1, Ordering::SeqCst);
                            Ok::<_, Error>(())
                        })
                        .await
                }));
            }
            for t in tasks {
                t.await.unwrap().unwrap();
            }
        });
        let max = engine.pool_metrics().max_size as usize;
        assert!(max <= 2, "{backend}: pool of {max}");
        assert!(most.load(Ordering::SeqCst) <= max, "{backend}: {} at once", most.load(Ordering::SeqCst));
        assert_eq!(titles(&engine).len(), 12, "{backend}");
        assert_eq!(engine.pool_metrics().waiters, 0);
    });
}

#[test]
fn a_caller_that_waits_longer_than_pool_timeout_gets_pool_timeout() {
    each_backend("pool_size=1&pool_timeout=0.2", |backend, engine| {
        let sessions = sessionmaker(&engine);
        // A current-thread runtime without `enable_time`: the wait's deadline needs no runtime timer.
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let holder = sessions.clone();
        let hold = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
            rt.block_on(holder.run(move |s| {
                s.query::<Book>().count()?;
                started_tx.send(()).unwrap();
                std::thread::sleep(Duration::from_millis(800));
                Ok::<_, Error>(())
            }))
        });
        started_rx.recv().unwrap();
        let before = engine.pool_metrics().timeouts;
        let err = rt.block_on(sessions.run(|s| s.query::<Book>().count())).unwrap_err();
        assert!(matches!(err, Error::PoolTimeout { pool_size: 1, .. }), "{backend}: {err}");
        assert_eq!(engine.pool_metrics().timeouts, before + 1);
        hold.join().unwrap().unwrap();
        // The slot came back: the next call runs.
        assert_eq!(rt.block_on(sessions.run(|s| s.query::<Book>().count())).unwrap(), 0);
    });
}

#[test]
fn a_dropped_future_rolls_back_its_work_and_returns_the_connection() {
    each_backend("pool_size=1", |backend, engine| {
        let sessions = sessionmaker(&engine);
        let saw_cancel = Arc::new(AtomicBool::new(false));
        let (started_tx, started_rx) = tokio::sync::oneshot::channel::<()>();
        let (dropped_tx, dropped_rx) = std::sync::mpsc::channel::<()>();
        let seen = saw_cancel.clone();
        let rt = runtime();
        rt.block_on(async {
            let work = sessions.run_transaction(move |s| {
                s.add(Book { id: None, title: "abandoned".into(), stock: 1 });
                s.flush()?;
                started_tx.send(()).unwrap();
                dropped_rx.recv_timeout(Duration::from_secs(10)).unwrap();
                seen.store(s.is_cancelled(), Ordering::SeqCst);
                // The session sends nothing more once its caller is gone.
                let after = s.query::<Book>().count();
                assert!(matches!(after, Err(Error::InvalidRequest { .. })), "{after:?}");
                Ok::<_, Error>(())
            });
            tokio::select! {
                _ = work => panic!("the work should still be running"),
                _ = started_rx => {}
            }
            // `work` was dropped by select!: tell the closure to go on.
            dropped_tx.send(()).unwrap();
            // Its slot comes back once the closure ends; the next call waits for it and runs.
            let n = sessions.run(|s| s.query::<Book>().count()).await.unwrap();
            assert_eq!(n, 0, "{backend}: the abandoned row was rolled back");
        });
        assert!(saw_cancel.load(Ordering::SeqCst), "{backend}: the closure saw that its caller was gone");
        assert!(titles(&engine).is_empty());
        assert_eq!(engine.free_slots(), 1);
    });
}

#[test]
fn a_caller_dropped_while_queued_leaves_nothing_behind() {
    each_backend("pool_size=1", |_, engine| {
        let sessions = sessionmaker(&engine);
        runtime().block_on(async {
            let (started_tx, started_rx) = tokio::sync::oneshot::channel::<()>();
            let holder = sessions.clone();
            let hold = tokio::spawn(async move {
                holder
                    .run(move |_| {
                        started_tx.send(()).unwrap();
                        std::thread::sleep(Duration::from_millis(300));
                        Ok::<_, Error>(())
                    })
                    .await
            });
            started_rx.await.unwrap();
            let ran = Arc::new(AtomicBool::new(false));
            let r = ran.clone();
            let queued = sessions.run(move |_| {
                r.store(true, Ordering::SeqCst);
                Ok::<_, Error>(())
            });
            assert!(tokio::time::timeout(Duration::from_millis(50), queued).await.is_err());
            assert_eq!(engine.pool_metrics().waiters, 0, "the dropped waiter left the queue");
            hold.await.unwrap().unwrap();
            assert!(!ran.load(Ordering::SeqCst), "a closure whose caller left before it started never runs");
            assert_eq!(engine.free_slots(), 1);
        });
    });
}

#[test]
fn a_panic_in_the_closure_rolls_back_and_reaches_the_caller() {
    each_backend("", |backend, engine| {
        let sessions = sessionmaker(&engine);
        let rt = runtime();
        let joined = rt.block_on(rt.spawn({
            let sessions = sessions.clone();
            async move {
                sessions
                    .run_transaction(|s| -> Result<(), Error> {
                        s.add(Book { id: None, title: "panicked".into(), stock: 1 });
                        s.flush()?;
                        panic!("the handler's own bug");
                    })
                    .await
            }
        }));
        assert!(joined.unwrap_err().is_panic(), "{backend}");
        assert!(titles(&engine).is_empty(), "{backend}: rolled back");
        assert_eq!(rt.block_on(sessions.run(|s| s.query::<Book>().count())).unwrap(), 0);
        assert_eq!(engine.free_slots(), engine.pool_metrics().max_size as usize);
    });
}

#[test]
fn retries_run_on_the_blocking_thread_until_the_work_commits() {
    each_backend("", |backend, engine| {
        let sessions = sessionmaker(&engine);
        let tries = Arc::new(AtomicUsize::new(0));
        let t = tries.clone();
        let out = runtime().block_on(sessions.run_retrying(3, move |s| {
            s.add(Book { id: None, title: "retried".into(), stock: 1 });
            s.flush()?;
            if t.fetch_add(1, Ordering::SeqCst) == 0 {
                return Err(Error::SerializationFailure { message: "simulated".into(), deadlock: false, source: None });
            }
            Ok::<_, Error>(())
        }));
        out.unwrap();
        assert_eq!(tries.load(Ordering::SeqCst), 2, "{backend}");
        assert_eq!(titles(&engine), ["retried"], "{backend}: the first attempt was rolled back");
    });
}

#[test]
fn outside_a_runtime_the_bridge_is_a_typed_error_not_a_panic() {
    let engine = create_engine("sqlite::memory:").unwrap();
    let sessions = sessionmaker(&engine);
    let err = block_on_without_runtime(sessions.run(|s| s.query::<Book>().count())).unwrap_err();
    assert!(matches!(err, Error::InvalidRequest { .. }), "{err}");
    assert!(err.to_string().contains("tokio runtime"), "{err}");
}

/// Poll a future to its end on this thread with no runtime at all.
fn block_on_without_runtime<F: std::future::Future>(f: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = std::task::Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = std::task::Context::from_waker(&waker);
    let mut f = std::pin::pin!(f);
    loop {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}

/// The types a service shares between tasks are `Send + Sync`; the bridge's futures are `Send`.
#[test]
fn engine_sessionmaker_and_error_cross_threads_and_the_futures_are_send() {
    fn send_sync<T: Send + Sync + 'static>() {}
    fn send<T: Send>(_: &T) {}
    send_sync::<Engine>();
    send_sync::<SessionMaker>();
    send_sync::<Error>();
    let engine = create_engine("sqlite::memory:").unwrap();
    let sessions = sessionmaker(&engine);
    send(&sessions.run(|s| s.query::<Book>().count()));
    send(&sessions.run_transaction(|s| s.query::<Book>().count()));
    send(&sessions.run_retrying(2, |s| s.query::<Book>().count()));
}

/// Records each span's name and its parent's name.
#[derive(Clone, Default)]
struct Parents(Arc<std::sync::Mutex<Vec<SpanParent>>>);

/// A span's name and its parent's.
type SpanParent = (String, Option<String>);

impl<S> tracing_subscriber::Layer<S> for Parents
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let parent = ctx.span(id).and_then(|s| s.parent()).map(|p| p.name().to_string());
        self.0.lock().unwrap().push((attrs.metadata().name().to_string(), parent));
    }
}

#[test]
fn the_statements_spans_are_children_of_the_callers_span() {
    use tracing::Instrument as _;
    use tracing_subscriber::layer::SubscriberExt as _;
    let engine = create_engine("sqlite::memory:").unwrap();
    let sessions = sessionmaker(&engine);
    let parents = Parents::default();
    let subscriber = tracing_subscriber::registry().with(parents.clone());
    // The subscriber is this thread's only (not global): the bridge carries it to the blocking thread.
    let _default = tracing::subscriber::set_default(subscriber);
    runtime().block_on(
        async {
            sessions.run(|s| s.execute(text("SELECT 1")).map(drop)).await.unwrap();
        }
        .instrument(tracing::info_span!("request")),
    );
    let seen = parents.0.lock().unwrap().clone();
    let statements: Vec<_> = seen.iter().filter(|(name, _)| name == "db.statement").collect();
    assert!(!statements.is_empty(), "{seen:?}");
    assert!(statements.iter().all(|(_, p)| p.as_deref() == Some("request")), "{seen:?}");
}
