//! The store contract: what every backend must do alike. Runs on SQLite always and on PostgreSQL
//! when `DUALWRITE_TEST_POSTGRES_URL` is set.

use dualwrite_core::error_code::ErrorCode;
use dualwrite_core::lifecycle::MapStatus;
use dualwrite_core::schema::Side;
use dualwrite_server::environment::write::{Applied, Written};
use dualwrite_server::store::{
    DuplicateKey, EventKind, ExecutionError, Lease, Row, RowKey, Store, StoreError, Tx,
};
use serde_json::json;

use crate::support::TestDb;

fn row(v: serde_json::Value) -> Row {
    match v {
        serde_json::Value::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}

/// A queued insert of `after` into finops table `T`.
fn inserted(after: serde_json::Value) -> Written {
    Written {
        side: Side::Finops,
        table: "T".into(),
        applied: Applied::Inserted,
        before: None,
        after: Some(row(after)),
    }
}

fn key(name: &str, value: &str) -> RowKey {
    RowKey { name: name.into(), value: value.into() }
}

/// Runs `check` against every backend, naming the backend in any failure.
fn each_backend(check: impl Fn(&str, &Store)) {
    for db in TestDb::all() {
        let store = db.open();
        check(db.backend, &store);
    }
}

fn write<T>(store: &Store, work: impl FnMut(&mut dyn Tx) -> Result<T, StoreError>) -> T {
    store.write(work).expect("write")
}

#[test]
fn a_new_store_is_migrated_and_reopening_it_keeps_its_data() {
    for db in TestDb::all() {
        let store = db.open();
        assert!(store.migration_level().expect("level") >= 2, "{}: migrations applied", db.backend);
        write(&store, |tx| tx.put_document("schema", &json!({"format": "x"})));
        drop(store);
        let again = db.open();
        let doc = again.read(|tx| tx.get_document("schema")).expect("read");
        assert_eq!(doc, Some(json!({"format": "x"})), "{}", db.backend);
    }
}

#[test]
fn rows_are_found_by_any_of_their_keys_and_keys_are_unique() {
    each_backend(|backend, store| {
        let id = write(store, |tx| {
            tx.insert_row(
                Side::Dataverse,
                "account",
                &row(json!({"accountnumber": "A1"})),
                &[key("id", "g1"), key("ak", "a1")],
            )
        })
        .expect("inserted");
        let by_ak = store.read(|tx| tx.find_row(Side::Dataverse, "account", "ak", "a1")).expect("read");
        assert_eq!(by_ak.map(|r| r.id), Some(id), "{backend}");
        let dup = write(store, |tx| {
            tx.insert_row(
                Side::Dataverse,
                "account",
                &row(json!({"accountnumber": "a1"})),
                &[key("id", "g2"), key("ak", "a1")],
            )
        });
        assert_eq!(dup, Err(DuplicateKey { key: "ak".into() }), "{backend}");
        // The refused insert left nothing behind.
        assert_eq!(
            store.read(|tx| tx.count_rows(Side::Dataverse, "account")).expect("count"),
            1,
            "{backend}"
        );
        assert!(store
            .read(|tx| tx.find_row(Side::Dataverse, "account", "id", "g2"))
            .expect("read")
            .is_none());
        // The same key value in another table or on the other side is no clash.
        let other =
            write(store, |tx| tx.insert_row(Side::Finops, "account", &row(json!({})), &[key("ak", "a1")]));
        assert!(other.is_ok(), "{backend}");
    });
}

#[test]
fn rows_inserted_together_all_land_in_order_or_none_when_a_key_is_taken_or_given_twice() {
    each_backend(|backend, store| {
        let held = write(store, |tx| {
            tx.insert_row(Side::Finops, "T", &row(json!({"K": "held"})), &[key("key", "held")])
        })
        .expect("held");
        let (a, b, c) = (row(json!({"K": "a"})), row(json!({"K": "b"})), row(json!({"K": "held"})));
        let (ka, kb, kheld) = ([key("key", "a")], [key("key", "b")], [key("key", "held")]);
        let taken = write(store, |tx| {
            tx.insert_rows(Side::Finops, "T", &[(&a, &ka[..]), (&b, &kb[..]), (&c, &kheld[..])])
        });
        assert_eq!(taken, Err(DuplicateKey { key: "key".into() }), "{backend}");
        let twice = write(store, |tx| tx.insert_rows(Side::Finops, "T", &[(&a, &ka[..]), (&b, &ka[..])]));
        assert_eq!(twice, Err(DuplicateKey { key: "key".into() }), "{backend}: two of them share a key");
        assert_eq!(
            store.read(|tx| tx.count_rows(Side::Finops, "T")).expect("count"),
            1,
            "{backend}: a refused set leaves none of its rows"
        );
        let ids = write(store, |tx| tx.insert_rows(Side::Finops, "T", &[(&a, &ka[..]), (&b, &kb[..])]))
            .expect("inserted");
        assert_eq!(ids.len(), 2, "{backend}");
        assert!(
            held < ids[0] && ids[0] < ids[1],
            "{backend}: ids follow the order of insertion: {held} {ids:?}"
        );
        for (id, name, value) in [(ids[0], "a", "a"), (ids[1], "b", "b")] {
            let found = store.read(|tx| tx.find_row(Side::Finops, "T", "key", value)).expect("read");
            assert_eq!(found.map(|r| (r.id, r.data["K"].clone())), Some((id, json!(name))), "{backend}");
        }
        let none = write(store, |tx| tx.insert_rows(Side::Finops, "T", &[]));
        assert_eq!(none, Ok(Vec::new()), "{backend}");
    });
}

/// The same for sets as large as a load's or an initial sync's chunk, which a backend may write
/// another way, with keys and data holding tabs, backslashes, quotes and non-ASCII letters.
#[test]
fn large_sets_of_rows_inserted_together_all_land_in_order_or_none() {
    each_backend(|backend, store| {
        let held = write(store, |tx| {
            tx.insert_row(Side::Finops, "T", &row(json!({"K": "held"})), &[key("key", "held")])
        })
        .expect("held");
        let text = |n: usize| format!("r{n}\t\\\"ü\n");
        let rows: Vec<(Row, Vec<RowKey>)> = (0..500)
            .map(|n| (row(json!({"K": text(n)})), vec![key("key", &text(n)), key("other", &format!("o{n}"))]))
            .collect();
        let insert = |rows: &[(Row, Vec<RowKey>)]| {
            let set: Vec<(&Row, &[RowKey])> = rows.iter().map(|(r, k)| (r, k.as_slice())).collect();
            write(store, |tx| tx.insert_rows(Side::Finops, "T", &set))
        };
        let mut taken = rows.clone();
        taken[499].1[0] = key("key", "held");
        assert_eq!(insert(&taken), Err(DuplicateKey { key: "key".into() }), "{backend}");
        let mut twice = rows.clone();
        twice[250].1[1] = key("other", "o10");
        assert_eq!(insert(&twice), Err(DuplicateKey { key: "other".into() }), "{backend}: two share a key");
        assert_eq!(
            store.read(|tx| tx.count_rows(Side::Finops, "T")).expect("count"),
            1,
            "{backend}: a refused set leaves none of its rows"
        );
        let ids = insert(&rows).expect("inserted");
        assert_eq!(ids.len(), 500, "{backend}");
        assert!(held < ids[0] && ids.windows(2).all(|w| w[0] < w[1]), "{backend}: ids in insertion order");
        for n in [0, 123, 499] {
            let found = store
                .read(|tx| tx.find_row(Side::Finops, "T", "key", &text(n)))
                .expect("read")
                .expect("found");
            assert_eq!((found.id, found.data["K"].as_str()), (ids[n], Some(text(n).as_str())), "{backend}");
            let by_other = store
                .read(|tx| tx.find_row(Side::Finops, "T", "other", &format!("o{n}")))
                .expect("read")
                .map(|r| r.id);
            assert_eq!(by_other, Some(ids[n]), "{backend}");
        }
        assert_eq!(store.read(|tx| tx.count_rows(Side::Finops, "T")).expect("count"), 501, "{backend}");
    });
}

#[test]
fn updating_a_row_moves_its_keys_and_refuses_a_taken_one() {
    each_backend(|backend, store| {
        let a =
            write(store, |tx| tx.insert_row(Side::Finops, "T", &row(json!({"K": "a"})), &[key("key", "a")]))
                .expect("a");
        write(store, |tx| tx.insert_row(Side::Finops, "T", &row(json!({"K": "b"})), &[key("key", "b")]))
            .expect("b");
        let moved = write(store, |tx| {
            tx.update_row(a, Side::Finops, "T", &row(json!({"K": "c"})), &[key("key", "c")])
        });
        assert_eq!(moved, Ok(()), "{backend}");
        assert!(
            store.read(|tx| tx.find_row(Side::Finops, "T", "key", "a")).expect("read").is_none(),
            "{backend}"
        );
        let found =
            store.read(|tx| tx.find_row(Side::Finops, "T", "key", "c")).expect("read").expect("row c");
        assert_eq!(found.data["K"], "c");
        let clash = write(store, |tx| {
            tx.update_row(a, Side::Finops, "T", &row(json!({"K": "b"})), &[key("key", "b")])
        });
        assert_eq!(clash, Err(DuplicateKey { key: "key".into() }), "{backend}");
        assert_eq!(store.read(|tx| tx.get_row(a)).expect("read").expect("a").data["K"], "c", "{backend}");
    });
}

#[test]
fn deleting_a_row_frees_its_keys() {
    each_backend(|backend, store| {
        let id = write(store, |tx| tx.insert_row(Side::Finops, "T", &row(json!({})), &[key("key", "x")]))
            .expect("x");
        write(store, |tx| tx.delete_row(id));
        assert!(store.read(|tx| tx.get_row(id)).expect("read").is_none(), "{backend}");
        let again = write(store, |tx| tx.insert_row(Side::Finops, "T", &row(json!({})), &[key("key", "x")]));
        assert!(again.is_ok(), "{backend}: the key is free again");
    });
}

#[test]
fn scanning_pages_through_a_table_in_insertion_order() {
    each_backend(|backend, store| {
        write(store, |tx| {
            for i in 0..25 {
                tx.insert_row(Side::Finops, "T", &row(json!({"n": i})), &[key("key", &i.to_string())])?
                    .expect("unique");
            }
            tx.insert_row(Side::Finops, "Other", &row(json!({"n": 99})), &[])?.expect("unique");
            Ok(())
        });
        let mut seen = Vec::new();
        let mut after = 0;
        loop {
            let page = store.read(|tx| tx.scan_rows(Side::Finops, "T", after, 10)).expect("scan");
            let Some(last) = page.last() else { break };
            after = last.id;
            seen.extend(page.iter().map(|r| r.data["n"].as_i64().expect("n")));
        }
        assert_eq!(seen, (0..25).collect::<Vec<_>>(), "{backend}");
        assert_eq!(store.read(|tx| tx.count_rows(Side::Finops, "T")).expect("count"), 25);
    });
}

#[test]
fn a_failed_transaction_leaves_nothing_behind() {
    each_backend(|backend, store| {
        let failed: Result<(), StoreError> = store.write(|tx| {
            tx.insert_row(Side::Finops, "T", &row(json!({})), &[key("key", "x")])?.expect("unique");
            tx.append_event(EventKind::TwinWrite, None, &json!({}))?;
            Err(StoreError::Corrupt("the work failed".into()))
        });
        assert!(failed.is_err());
        assert_eq!(store.read(|tx| tx.count_rows(Side::Finops, "T")).expect("count"), 0, "{backend}");
        assert!(store.read(|tx| tx.events_after(0, 10)).expect("events").is_empty(), "{backend}");
    });
}

#[test]
fn maps_keep_their_body_and_status() {
    each_backend(|backend, store| {
        let id = write(store, |tx| tx.insert_map(&json!({"name": "m"})));
        write(store, |tx| tx.set_map_status(id, MapStatus::Running));
        write(store, |tx| tx.update_map(id, &json!({"name": "m2"})));
        let map = store.read(|tx| tx.get_map(id)).expect("read").expect("map");
        assert_eq!((map.body["name"].as_str(), map.status), (Some("m2"), MapStatus::Running), "{backend}");
        write(store, |tx| tx.delete_map(id));
        assert!(store.read(|tx| tx.list_maps()).expect("list").is_empty(), "{backend}");
    });
}

#[test]
fn held_updates_are_read_back_written_together_and_refused_or_undone_as_a_set() {
    each_backend(|backend, store| {
        let (a, b) = write(store, |tx| {
            let a =
                tx.insert_row(Side::Finops, "T", &row(json!({"K": "a"})), &[key("key", "a")])?.expect("a");
            let b =
                tx.insert_row(Side::Finops, "T", &row(json!({"K": "b"})), &[key("key", "b")])?.expect("b");
            Ok((a, b))
        });
        let find = |tx: &mut dyn Tx, k: &str| -> Result<Option<String>, StoreError> {
            Ok(tx
                .find_row(Side::Finops, "T", "key", k)?
                .map(|r| r.data["K"].as_str().unwrap_or("").to_owned()))
        };
        // Held, then written: the transaction reads its own updates throughout.
        write(store, |tx| {
            tx.savepoint()?;
            tx.hold_updates();
            tx.update_row(a, Side::Finops, "T", &row(json!({"K": "a2"})), &[key("key", "a2")])?
                .expect("free key");
            assert_eq!(find(tx, "a2")?, Some("a2".into()), "{backend}: found by its new key");
            assert_eq!(find(tx, "a")?, None, "{backend}: no longer by its old one");
            assert_eq!(tx.get_row(a)?.map(|r| r.data["K"].clone()), Some(json!("a2")), "{backend}");
            tx.update_row(a, Side::Finops, "T", &row(json!({"K": "a3"})), &[key("key", "a3")])?
                .expect("free key");
            assert_eq!(find(tx, "a2")?, None, "{backend}: a second update moves it again");
            assert_eq!(tx.write_held()?, Ok(()), "{backend}");
            tx.release_savepoint()?;
            Ok(())
        });
        let after = |k: &str| store.read(|tx| find(tx, k)).expect("read");
        assert_eq!(
            (after("a"), after("a3"), after("b")),
            (None, Some("a3".into()), Some("b".into())),
            "{backend}"
        );
        // A key another row holds refuses the set (from the update itself where nothing is held).
        write(store, |tx| {
            tx.savepoint()?;
            tx.hold_updates();
            let renamed =
                tx.update_row(b, Side::Finops, "T", &row(json!({"K": "b2"})), &[key("key", "b")])?;
            let taken = tx.update_row(a, Side::Finops, "T", &row(json!({"K": "b"})), &[key("key", "b")])?;
            let held = tx.write_held()?;
            assert_eq!(renamed, Ok(()), "{backend}");
            assert!(taken.is_err() || held.is_err(), "{backend}: the set is refused: {taken:?} {held:?}");
            tx.rollback_to_savepoint()?;
            Ok(())
        });
        assert_eq!((after("a3"), after("b")), (Some("a3".into()), Some("b".into())), "{backend}: as it was");
        // Rolled back while held: nothing of the set is written, and the transaction commits.
        write(store, |tx| {
            tx.savepoint()?;
            tx.hold_updates();
            tx.update_row(b, Side::Finops, "T", &row(json!({"K": "b4"})), &[key("key", "b4")])?
                .expect("free");
            tx.rollback_to_savepoint()?;
            tx.update_row(a, Side::Finops, "T", &row(json!({"K": "a5"})), &[key("key", "a5")])?
                .expect("free");
            Ok(())
        });
        assert_eq!(
            (after("a5"), after("b"), after("b4")),
            (Some("a5".into()), Some("b".into()), None),
            "{backend}"
        );
    });
}

/// The `i` of each event after `after`, in the log's order.
fn event_order(tx: &mut dyn Tx, after: i64) -> Result<Vec<i64>, StoreError> {
    Ok(tx.events_after(after, 100)?.iter().map(|e| e.body["i"].as_i64().unwrap_or(-100)).collect())
}

#[test]
fn recorded_events_land_in_order_with_appended_ones_and_go_with_what_is_undone() {
    each_backend(|backend, store| {
        let record =
            |tx: &mut dyn Tx, i: i64| tx.record_event(EventKind::TwinWrite, Some(1), &json!({ "i": i }));
        let seen_inside = write(store, |tx| {
            record(tx, 0)?;
            tx.savepoint()?;
            record(tx, -1)?;
            tx.rollback_to_savepoint()?;
            tx.append_event(EventKind::TwinWrite, Some(1), &json!({"i": 1}))?;
            tx.savepoint()?;
            record(tx, 2)?;
            tx.release_savepoint()?;
            record(tx, 3)?;
            let seen = event_order(tx, 0)?;
            tx.savepoint()?;
            record(tx, -2)?;
            tx.rollback_to_savepoint()?;
            record(tx, 4)?;
            Ok(seen)
        });
        assert_eq!(seen_inside, vec![0, 1, 2, 3], "{backend}: the transaction reads what it recorded");
        let failed: Result<(), StoreError> = store.write(|tx| {
            record(tx, -3)?;
            Err(StoreError::Corrupt("the work failed".into()))
        });
        assert!(failed.is_err());
        let order = store.read(|tx| event_order(tx, 0)).expect("events");
        assert_eq!(order, vec![0, 1, 2, 3, 4], "{backend}: in order, nothing undone kept");
    });
}

#[test]
fn events_come_back_in_order_after_a_sequence_number() {
    each_backend(|backend, store| {
        let seqs: Vec<i64> = (0..5)
            .map(|i| write(store, |tx| tx.append_event(EventKind::TwinWrite, Some(1), &json!({"i": i}))))
            .collect();
        let after_second = store.read(|tx| tx.events_after(seqs[1], 100)).expect("events");
        let order: Vec<i64> = after_second.iter().map(|e| e.body["i"].as_i64().expect("i")).collect();
        assert_eq!(order, vec![2, 3, 4], "{backend}");
        assert!(
            after_second[0].at.ends_with('Z'),
            "{backend}: timestamps are UTC RFC 3339: {}",
            after_second[0].at
        );
    });
}

#[test]
fn environments_are_available_until_marked_otherwise() {
    each_backend(|backend, store| {
        assert!(store.read(|tx| tx.is_available(Side::Finops)).expect("read"), "{backend}");
        write(store, |tx| tx.set_available(Side::Finops, false));
        assert!(!store.read(|tx| tx.is_available(Side::Finops)).expect("read"), "{backend}");
        assert!(store.read(|tx| tx.is_available(Side::Dataverse)).expect("read"), "{backend}");
    });
}

#[test]
fn a_keys_first_catch_up_error_is_the_oldest_change_of_that_key_and_map() {
    each_backend(|backend, store| {
        let first =
            |key: &str, map: i64| store.read(|tx| tx.first_catch_up_error_of_key(map, key)).expect("read");
        assert_eq!(first("k1", 1), None, "{backend}");
        let errors: Vec<i64> = write(store, |tx| {
            let mut ids = Vec::new();
            for (map, key) in [(1, "k1"), (1, "k2"), (1, "k1"), (2, "k1")] {
                let seq = tx.enqueue(map, key, &inserted(json!({"key": key})))?;
                let change = tx.queued(map, Some(key), seq - 1, 1)?.remove(0);
                tx.add_catch_up_error(map, &change, ErrorCode::TwinFailed, "failed")?;
                tx.dequeue(seq)?;
                ids.push(seq);
            }
            Ok(ids)
        });
        assert_eq!(first("k1", 1), Some(errors[0]), "{backend}");
        assert_eq!(first("k2", 1), Some(errors[1]), "{backend}");
        assert_eq!(first("k1", 2), Some(errors[3]), "{backend}: per map");
        assert_eq!(first("k3", 1), None, "{backend}");
    });
}

#[test]
fn a_batch_reads_its_keys_later_changes_at_once_and_leaves_the_queue_together() {
    each_backend(|backend, store| {
        let seqs: Vec<i64> = write(store, |tx| {
            [(1, "a"), (1, "b"), (2, "a"), (1, "c"), (1, "a"), (1, ""), (1, "b")]
                .iter()
                .map(|(map, key)| tx.enqueue(*map, key, &inserted(json!({ "key": key }))))
                .collect()
        });
        let under = |keys: &[&str], after: i64| {
            store
                .read(|tx| tx.queued_under(1, keys, after))
                .expect("read")
                .iter()
                .map(|c| (c.seq, c.key.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            under(&["a", "b"], seqs[0]),
            vec![(seqs[1], "b".into()), (seqs[4], "a".into()), (seqs[6], "b".into())],
            "{backend}: the keys' changes of the map after the first, oldest first"
        );
        assert_eq!(under(&[], 0), vec![], "{backend}");
        write(store, |tx| tx.dequeue_all(&[seqs[0], seqs[1], seqs[3]]));
        let left: Vec<i64> =
            store.read(|tx| tx.queued(1, None, 0, 100)).expect("read").iter().map(|c| c.seq).collect();
        assert_eq!(left, vec![seqs[4], seqs[5], seqs[6]], "{backend}: exactly those taken off");
        assert_eq!(
            store.read(|tx| tx.queue_len(2, None)).expect("read"),
            1,
            "{backend}: other maps keep theirs"
        );
    });
}

#[test]
fn a_transaction_that_panics_leaves_the_store_usable_and_nothing_written() {
    for db in TestDb::all() {
        let backend = db.backend;
        let store = std::sync::Arc::new(db.open());
        // On a thread of its own, so that a store waiting for ever for a lost connection fails the
        // test at the deadline instead of hanging it.
        let (done, answer) = std::sync::mpsc::channel();
        let worker = std::sync::Arc::clone(&store);
        std::thread::spawn(move || {
            let _ = done.send(panic_then_write(&worker));
        });
        let outcome = answer
            .recv_timeout(std::time::Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("{backend}: the store stopped answering after panics"));
        let (written, count) = outcome.unwrap_or_else(|e| panic!("{backend}: {e}"));
        assert!(written, "{backend}: the ordinary write went through");
        // Only the ordinary write is there: every panicking transaction was rolled back.
        assert_eq!(count, 1, "{backend}");
    }
}

/// Panics inside more write and read transactions than the store has connections (a connection lost
/// or a lock poisoned by each would leave none), then writes a row and counts the rows.
fn panic_then_write(store: &Store) -> Result<(bool, u64), String> {
    for i in 0..store.connections() + 2 {
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            store.write(|tx| -> Result<(), StoreError> {
                tx.insert_row(Side::Finops, "T", &row(json!({"i": i})), &[key("key", &format!("p{i}"))])?
                    .expect("unique");
                panic!("the work panics mid-transaction");
            })
        }));
        if let Ok(answer) = caught {
            return Err(format!(
                "write {i} should have reached its work and panicked; the store answered {answer:?}"
            ));
        }
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            store.read(|_| -> Result<(), StoreError> { panic!("the read panics") })
        }));
        if let Ok(answer) = caught {
            return Err(format!(
                "read {i} should have reached its work and panicked; the store answered {answer:?}"
            ));
        }
    }
    let written = store
        .write(|tx| tx.insert_row(Side::Finops, "T", &row(json!({"i": "after"})), &[key("key", "after")]))
        .map_err(|e| format!("a write after the panics: {e}"))?;
    let count = store
        .read(|tx| tx.count_rows(Side::Finops, "T"))
        .map_err(|e| format!("a read after the panics: {e}"))?;
    Ok((written.is_ok(), count))
}

#[test]
fn a_queued_change_keeps_its_place_when_its_body_is_replaced() {
    each_backend(|backend, store| {
        let seqs: Vec<i64> =
            (0..3).map(|i| write(store, |tx| tx.enqueue(7, "k", &inserted(json!({"i": i}))))).collect();
        write(store, |tx| tx.set_queued_write(seqs[1], &inserted(json!({"i": 10}))));
        let queued = store.read(|tx| tx.queued(7, Some("k"), 0, 10)).expect("queued");
        let seen: Vec<(i64, i64)> = queued
            .iter()
            .map(|c| (c.seq, c.write.after.as_ref().expect("after")["i"].as_i64().expect("i")))
            .collect();
        assert_eq!(seen, vec![(seqs[0], 0), (seqs[1], 10), (seqs[2], 2)], "{backend}");
    });
}

#[test]
fn an_initial_sync_error_keeps_its_key_as_shown_and_its_company_and_is_found_by_either() {
    each_backend(|backend, store| {
        let error = ExecutionError {
            id: 0,
            side: Side::Finops,
            key: "de-100|demf".into(),
            display_key: "De-100".into(),
            company: Some("DEMF".into()),
            code: ErrorCode::LookupNotFound,
            message: "no contact".into(),
        };
        write(store, |tx| tx.add_execution_error(7, &error));
        let found =
            |search: &str| store.read(|tx| tx.execution_errors(7, Some(search), 0, 0, 10)).expect("read").1;
        let all = found("");
        assert_eq!(all, vec![ExecutionError { id: all[0].id, ..error.clone() }], "{backend}");
        for search in ["de-100", "DE-1", "demf", "lookup", "NO CONTACT"] {
            assert_eq!(found(search).len(), 1, "{backend}: `{search}`");
        }
        assert_eq!(found("usmf").len(), 0, "{backend}");
    });
}

#[test]
fn a_lease_has_one_owner_until_it_expires() {
    each_backend(|backend, store| {
        let claim = |owner: &str, seconds: u64| write(store, |tx| tx.claim_lease("map:1", owner, seconds));
        assert_eq!(claim("a", 60), Lease::Taken { previous: None }, "{backend}: a free lease is taken");
        assert_eq!(claim("a", 60), Lease::Renewed, "{backend}: its owner renews it");
        assert_eq!(claim("b", 60), Lease::HeldBy { owner: "a".into() }, "{backend}: held, not taken");
        assert_eq!(
            write(store, |tx| tx.claim_lease("map:2", "b", 60)),
            Lease::Taken { previous: None },
            "{backend}: leases are independent"
        );
        // An owner that renews for no time at all lets its lease lapse at once.
        assert_eq!(claim("a", 0), Lease::Renewed, "{backend}");
        assert_eq!(
            claim("b", 60),
            Lease::Taken { previous: Some("a".into()) },
            "{backend}: expired, taken over"
        );
        // A claim that rolls back leaves the lease as it was.
        let rolled_back: Result<(), StoreError> = store.write(|tx| {
            tx.claim_lease("map:3", "a", 60)?;
            Err(StoreError::Corrupt("roll back".into()))
        });
        assert!(rolled_back.is_err());
        assert_eq!(claim_on(store, "map:3", "b"), Lease::Taken { previous: None }, "{backend}");
    });
}

fn claim_on(store: &Store, name: &str, owner: &str) -> Lease {
    write(store, |tx| tx.claim_lease(name, owner, 60))
}

fn serializable(client: &mut postgres::Client) -> postgres::Transaction<'_> {
    client.build_transaction().isolation_level(postgres::IsolationLevel::Serializable).start().expect("begin")
}

/// A transaction that keeps losing to concurrent ones is no server failure: once its reruns are
/// spent the client is told to send the request again (503 with `Retry-After`), never a 500.
#[cfg_attr(not(postgres_tests), ignore = "needs PostgreSQL: set DUALWRITE_TEST_POSTGRES_URL")]
#[test]
fn a_transaction_that_lost_every_race_answers_503_to_send_again() {
    use axum::response::IntoResponse;
    use dualwrite_server::error::{ApiError, CONTENDED};
    let Some(db) = TestDb::postgres() else { return };
    // Write skew under SERIALIZABLE: each reads what the other writes; the second to commit loses.
    let connect = || postgres::Client::connect(&db.url, postgres::NoTls).expect("connect");
    let (mut a, mut b) = (connect(), connect());
    a.batch_execute("CREATE TABLE skew (x INT)").expect("create");
    let (mut first, mut second) = (serializable(&mut a), serializable(&mut b));
    for tx in [&mut first, &mut second] {
        tx.query_one("SELECT COUNT(*) FROM skew", &[]).expect("read");
        tx.execute("INSERT INTO skew VALUES (1)", &[]).expect("write");
    }
    first.commit().expect("the first commits");
    let lost = second.commit().expect_err("the second loses the race");
    let error = StoreError::Postgres(lost);
    assert!(error.is_retryable(), "a serialization failure: {error}");

    let response = ApiError::from(error).into_response();
    assert_eq!(response.status(), axum::http::StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("1"));
    let body = tokio::runtime::Runtime::new().expect("runtime").block_on(async {
        use http_body_util::BodyExt;
        response.into_body().collect().await.expect("body").to_bytes()
    });
    let body: serde_json::Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(body["error"]["code"], CONTENDED, "{body}");
}
