//! Readers that follow a log with `?after=` (events, queues, catch-up errors) never pass an entry:
//! on PostgreSQL, entries are numbered in one order and committed in another.

use std::sync::mpsc;
use std::sync::Arc;

use serde_json::json;

use crate::support::{TestApp, TestDb};
use dualwrite_server::store::{EventKind, Store, StoreError};

/// Appends a probe event in a transaction of its own on `store`; `hold` keeps it open until told.
fn append(store: &Store, writer: &str, hold: Option<(&mpsc::Sender<i64>, &mpsc::Receiver<()>)>) -> i64 {
    store
        .write(|tx| {
            let seq = tx.append_event(EventKind::TwinWrite, None, &json!({ "writer": writer }))?;
            if let Some((started, go)) = hold {
                started.send(seq).expect("the test listens");
                go.recv().expect("the test lets the writer go");
            }
            Ok::<_, StoreError>(seq)
        })
        .expect("append a probe event")
}

/// The probe events of one page of `GET /events?after=`, and the cursor it hands back.
async fn probes_after(app: &TestApp, after: i64) -> (Vec<String>, i64) {
    let (_, page) = app.get(&format!("/api/v1/events?after={after}&limit=1000")).await;
    let items = page["items"].as_array().cloned().unwrap_or_default();
    let probes = items
        .iter()
        .filter(|e| e["kind"] == EventKind::TwinWrite.as_str())
        .map(|e| e["writer"].as_str().unwrap_or("").to_owned());
    (probes.collect(), page["next"].as_i64().unwrap_or(after))
}

#[cfg_attr(not(postgres_tests), ignore = "needs PostgreSQL: set DUALWRITE_TEST_POSTGRES_URL")]
#[tokio::test]
async fn the_event_cursor_never_passes_an_event_whose_transaction_commits_later() {
    let Some(db) = TestDb::postgres() else { return };
    let url = db.url.clone();
    let app = TestApp::on(db).await;
    let store =
        Arc::new(tokio::task::spawn_blocking(move || Store::open(&url)).await.expect("join").expect("open"));

    // The first writer numbers its event and stays open; the second numbers a later one and commits.
    let (started, first_seq) = mpsc::channel();
    let (go, release) = mpsc::channel();
    let first = {
        let store = store.clone();
        std::thread::spawn(move || append(&store, "first", Some((&started, &release))))
    };
    let first_seq = first_seq.recv().expect("the first writer numbered its event");
    let second = {
        let store = store.clone();
        std::thread::spawn(move || append(&store, "second", None))
    };
    let second_seq = second.join().expect("the second writer committed");
    assert!(second_seq > first_seq, "the second event is numbered after the first");

    let (seen, cursor) = probes_after(&app, 0).await;
    assert!(
        seen.is_empty(),
        "while the first writer is open, nothing after its number is handed out: {seen:?}"
    );

    go.send(()).expect("release the first writer");
    first.join().expect("the first writer committed");
    let (seen, _) = probes_after(&app, cursor).await;
    assert_eq!(seen, ["first", "second"], "following the cursor finds both, in order");
}

#[cfg_attr(not(postgres_tests), ignore = "needs PostgreSQL: set DUALWRITE_TEST_POSTGRES_URL")]
#[tokio::test]
async fn a_writer_in_another_database_of_the_server_holds_back_no_reader() {
    let (Some(other), Some(db)) = (TestDb::postgres(), TestDb::postgres()) else { return };
    let other_url = other.url.clone();
    let other_store = tokio::task::spawn_blocking(move || Arc::new(Store::open(&other_url).expect("open")))
        .await
        .expect("join");
    let app = TestApp::on(db).await;
    // A writer of another dualwrite database on the same PostgreSQL server stays open...
    let (started, numbered) = mpsc::channel();
    let (go, release) = mpsc::channel();
    let open = {
        let other = other_store.clone();
        std::thread::spawn(move || append(&other, "elsewhere", Some((&started, &release))))
    };
    numbered.recv().expect("the other writer numbered its event");
    // ... while this database's writer commits: readers here see its event.
    let url = app.db().url.clone();
    let here = tokio::task::spawn_blocking(move || Store::open(&url)).await.expect("join").expect("open");
    tokio::task::spawn_blocking(move || append(&here, "here", None)).await.expect("commit");
    let (seen, _) = probes_after(&app, 0).await;
    go.send(()).expect("release the other writer");
    open.join().expect("the other writer committed");
    assert_eq!(seen, ["here"], "another database's writers hold back nothing here");
    drop(other);
}
