//! A server that accepts TCP connections and never answers must not stall the process: the
//! engine pointed at it fails with a "timed out" connection error within its `connect_timeout`,
//! and every other engine keeps connecting at once, during the stall and after it.
#![allow(clippy::unwrap_used)] // a test: a failed unwrap is a failed test

use athanor::prelude::*;
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Listen on a free local port; accept every connection and keep it open without a word.
fn silent_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a local port");
    let port = listener.local_addr().expect("local address").port();
    std::thread::spawn(move || {
        let mut held: Vec<TcpStream> = Vec::new();
        for s in listener.incoming() {
            match s {
                Ok(s) => held.push(s),
                Err(_) => break,
            }
        }
    });
    port
}

/// A fresh in-memory SQLite engine connects and answers quickly.
fn other_engine_works(when: &str) {
    let start = Instant::now();
    let engine = create_engine("sqlite::memory:?pool_timeout=3").expect("sqlite engine");
    let mut c = engine.connect().unwrap_or_else(|e| panic!("{when}: sqlite connect failed: {e:?}"));
    let one: i64 = c.query_scalar("SELECT 1", &[]).expect("SELECT 1");
    assert_eq!(one, 1);
    assert!(start.elapsed() < Duration::from_secs(2), "{when}: sqlite took {:?}", start.elapsed());
}

fn stalled_engine_times_out(scheme: &str) {
    let port = silent_server();
    let url = format!("{scheme}://u@127.0.0.1:{port}/x?connect_timeout=1&pool_timeout=5");
    let (tx, rx) = mpsc::channel();
    // Several engines (and several connects) against the silent server at once.
    let workers: Vec<_> = (0..3)
        .map(|_| {
            let (url, tx) = (url.clone(), tx.clone());
            std::thread::spawn(move || {
                let engine = create_engine(&url).expect("engine");
                let start = Instant::now();
                let r = engine.connect().map(|_| ());
                let _ = tx.send((r, start.elapsed()));
            })
        })
        .collect();
    drop(tx);
    std::thread::sleep(Duration::from_millis(300));
    other_engine_works(&format!("{scheme}: during the stall"));
    for _ in 0..workers.len() {
        let (r, took) = rx.recv_timeout(Duration::from_secs(15)).unwrap_or_else(|_| panic!("{scheme}: connect hung"));
        match r {
            Err(Error::Connection { message, disconnect: false, .. }) => {
                assert!(message.contains("timed out"), "{scheme}: {message}")
            }
            other => panic!("{scheme}: expected a timed-out connection error, got {other:?}"),
        }
        assert!(took < Duration::from_secs(4), "{scheme}: gave up after {took:?}, connect_timeout is 1 s");
    }
    for w in workers {
        w.join().expect("worker");
    }
    other_engine_works(&format!("{scheme}: after the stall"));
}

#[test]
fn stalled_postgres_handshake_times_out_and_blocks_no_one() {
    stalled_engine_times_out("postgres");
}

#[test]
fn stalled_mysql_handshake_times_out_and_blocks_no_one() {
    stalled_engine_times_out("mysql");
}
