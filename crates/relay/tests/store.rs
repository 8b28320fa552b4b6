//! One test suite for the `Store` contract, run against every backend
//! (with an agency's retention):
//! SQLite on a temporary folder, and PostgreSQL on a fresh database of the
//! server named by `SEALTIP_TEST_POSTGRES` (started by `cargo xtask test`).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::future::{Future, Ready, ready};
use std::time::Duration;

use sealtip_api::ItemKind;
use sealtip_relay::store::postgres::{CHUNK_BYTES, PgStore};
use sealtip_relay::store::sqlite::SqliteStore;
use sealtip_relay::store::{ItemMeta, Place, Session, SpentTag, Store, StoreError, Upload};
use tokio::io::AsyncReadExt;

const TIP: Place = Place::Inbox(ItemKind::Tip);
const MESSAGE: Place = Place::Inbox(ItemKind::Message);
const LIMIT: u64 = 1000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_keeps_the_store_contract() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("relay.db");
    let store = SqliteStore::open(&database, &dir.path().join("blobs")).unwrap();
    // Leftovers are chunks that no listed item owns.
    contract(store, || async { sqlite_count(&database, UNOWNED_CHUNKS) }).await;
    only_database_files(dir.path());
}

/// Chunks no item owns: an upload's or a session's.
const UNOWNED_CHUNKS: &str = "SELECT COUNT(*) FROM chunks WHERE blob NOT IN (SELECT id FROM items)";

/// The files of a SQLite store (the log and its index while it is open, and
/// the chunk file).
const DATABASE_FILES: [&str; 4] = [
    "relay.db",
    "relay.db-shm",
    "relay.db-wal",
    "relay.db-chunks",
];

/// What `sql` counts in the SQLite database `database`.
fn sqlite_count(database: &std::path::Path, sql: &str) -> i64 {
    sqlite_connect(database)
        .query_row(sql, [], |row| row.get(0))
        .unwrap()
}

/// A connection to the SQLite database `database`, beside the store's.
fn sqlite_connect(database: &std::path::Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(database).unwrap();
    conn.busy_timeout(Duration::from_secs(10)).unwrap();
    conn
}

/// Moves item `id`'s hour `secs` back in the SQLite database `database`
/// (done when it returns).
fn sqlite_backdate(database: &std::path::Path, id: &str, secs: u64) -> Ready<()> {
    let sql = "UPDATE items SET received = received - ?1 WHERE id = ?2";
    let moved = sqlite_connect(database).execute(sql, rusqlite::params![secs, id]);
    assert_eq!(moved.unwrap(), 1);
    ready(())
}

/// A fresh PostgreSQL database and a store on it, if the tests have a server.
async fn postgres_store(test: &str) -> Option<(sealtip_harness::TestDatabase, PgStore)> {
    let db = sealtip_harness::test_database(test).await.unwrap()?;
    let store = PgStore::open(&db.url, Duration::from_secs(3600))
        .await
        .unwrap();
    Some((db, store))
}

/// Whether blob `id`'s bytes are stored in the SQLite database `database`.
fn sqlite_has_bytes(database: &std::path::Path, id: &str) -> bool {
    let sql = format!("SELECT COUNT(*) FROM chunks WHERE blob = '{id}'");
    sqlite_count(database, &sql) > 0
}

/// Moves item `id`'s hour `secs` back in PostgreSQL.
async fn postgres_backdate(db: &sealtip_harness::TestDatabase, id: String, secs: u64) {
    db.execute(&format!(
        "UPDATE items SET received = received - {secs} WHERE id = '{id}'"
    ))
    .await
    .unwrap()
}

/// Whether blob `id`'s bytes are stored in PostgreSQL.
async fn postgres_has_bytes(db: &sealtip_harness::TestDatabase, id: String) -> bool {
    db.query_i64(&format!("SELECT COUNT(*) FROM chunks WHERE blob = '{id}'"))
        .await
        .unwrap()
        > 0
}

/// Folder `dir` holds the database's files and nothing else: no file per
/// item or session.
fn only_database_files(dir: &std::path::Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(DATABASE_FILES.contains(&name.as_str()), "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_keeps_the_store_contract() {
    let Some(db) = sealtip_harness::test_database("postgres_keeps_the_store_contract")
        .await
        .unwrap()
    else {
        return;
    };
    let store = PgStore::open(&db.url, Duration::from_secs(3600))
        .await
        .unwrap();
    contract(store, || async {
        db.query_i64(
            "SELECT (SELECT COUNT(*) FROM chunks WHERE blob NOT IN (SELECT id FROM items))
                  + (SELECT COUNT(*) FROM uploads)",
        )
        .await
        .unwrap()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_keeps_the_session_contract() {
    let dir = tempfile::tempdir().unwrap();
    let blobs = dir.path().join("blobs");
    let database = dir.path().join("relay.db");
    let store = SqliteStore::open(&database, &blobs).unwrap();
    let session_bytes = || async { sqlite_count(&database, UNOWNED_CHUNKS) };
    let kept = sessions(store.clone(), session_bytes).await;
    only_database_files(dir.path());
    let held = sqlite_count(&database, UNOWNED_CHUNKS);
    // What a stop in the middle of a part leaves: its chunks after the
    // session's recorded length, and chunks of an upload never committed.
    drop(store);
    let conn = rusqlite::Connection::open(&database).unwrap();
    conn.execute(
        "INSERT INTO chunks (blob, start, data)
         SELECT blob, received, x'0102' FROM sessions WHERE id = ?1",
        [&kept.0],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO chunks (blob, start, data) VALUES (?1, 0, x'03')",
        ["f0".repeat(16)],
    )
    .unwrap();
    drop(conn);
    assert_eq!(sqlite_count(&database, UNOWNED_CHUNKS), held + 2);
    // Reopened, the session is cut back to exactly what it held.
    let store = SqliteStore::open(&database, &blobs).unwrap();
    assert_eq!(sqlite_count(&database, UNOWNED_CHUNKS), held);
    assert_eq!(store.session(&kept.0).await.unwrap(), Some(kept.1));
    let tag = SpentTag {
        tag: [42; 16],
        expires: sealtip_relay::time::now() + 600,
    };
    assert!(!store.spend(tag).await.unwrap(), "spent with its session");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_keeps_the_session_contract() {
    let Some(db) = sealtip_harness::test_database("postgres_keeps_the_session_contract")
        .await
        .unwrap()
    else {
        return;
    };
    let store = PgStore::open(&db.url, Duration::from_secs(3600))
        .await
        .unwrap();
    let kept = sessions(store, || async {
        db.query_i64("SELECT COUNT(*) FROM chunks WHERE blob NOT IN (SELECT id FROM items)")
            .await
            .unwrap()
    })
    .await;
    let again = PgStore::open(&db.url, Duration::from_secs(3600))
        .await
        .unwrap();
    assert_eq!(again.session(&kept.0).await.unwrap(), Some(kept.1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_deletes_and_expires_replies_and_keeps_no_trace_of_a_mailbox() {
    let dir = tempfile::tempdir().unwrap();
    let blobs = dir.path().join("blobs");
    let database = dir.path().join("relay.db");
    let store = SqliteStore::open(&database, &blobs).unwrap();
    replies(
        store,
        |id, secs| sqlite_backdate(&database, &id, secs),
        |id| ready(sqlite_has_bytes(&database, &id)),
        |mailbox| {
            let conn = sqlite_connect(&database);
            let database = database.clone();
            async move {
                let sql = "SELECT COUNT(*) FROM items WHERE mailbox = ?1";
                let rows: i64 = conn.query_row(sql, [&mailbox], |r| r.get(0)).unwrap();
                // Deleted rows are overwritten, not left in free space: once
                // the log is folded into the database, no byte of it holds
                // the mailbox id.
                conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
                    .unwrap();
                let files = [database.clone(), database.with_extension("db-wal")];
                let holding = files
                    .iter()
                    .filter_map(|file| std::fs::read(file).ok())
                    .filter(|bytes| contains(bytes, mailbox.as_bytes()))
                    .count();
                rows + holding as i64
            }
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_deletes_and_expires_replies_and_keeps_no_trace_of_a_mailbox() {
    let Some((db, store)) = postgres_store("postgres_deletes_and_expires_replies").await else {
        return;
    };
    let db = &db;
    replies(
        store,
        move |id, secs| postgres_backdate(db, id, secs),
        move |id| postgres_has_bytes(db, id),
        move |mailbox| async move {
            db.query_i64(&format!(
                "SELECT COUNT(*) FROM items WHERE mailbox = '{mailbox}'"
            ))
            .await
            .unwrap()
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_deletes_an_agencys_items_past_its_retention() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("relay.db");
    let store = SqliteStore::open(&database, &dir.path().join("blobs")).unwrap();
    retention(
        store,
        |id, secs| sqlite_backdate(&database, &id, secs),
        |id| ready(sqlite_has_bytes(&database, &id)),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_deletes_an_agencys_items_past_its_retention() {
    let Some((db, store)) = postgres_store("postgres_deletes_items_past_retention").await else {
        return;
    };
    let db = &db;
    retention(
        store,
        move |id, secs| postgres_backdate(db, id, secs),
        move |id| postgres_has_bytes(db, id),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stores_opened_together_share_everything() {
    let Some(db) =
        sealtip_harness::test_database("postgres_stores_opened_together_share_everything")
            .await
            .unwrap()
    else {
        return;
    };
    // Two relays starting at the same moment: the schema is made once.
    let (a, b) = tokio::join!(
        PgStore::open(&db.url, Duration::from_secs(3600)),
        PgStore::open(&db.url, Duration::from_secs(3600))
    );
    let (a, b) = (a.unwrap(), b.unwrap());

    let tag = SpentTag {
        tag: [9; 16],
        expires: sealtip_relay::time::now() + 600,
    };
    assert!(a.spend(tag).await.unwrap());
    assert!(
        !b.spend(tag).await.unwrap(),
        "a tag spent on one relay is spent on all"
    );

    let body = bytes(3 * CHUNK_BYTES / 2, 5);
    let meta = put(&a, "demo", TIP, &body, Some(tag)).await.unwrap();
    assert_eq!(b.inbox("demo").await.unwrap(), vec![meta.clone()]);
    assert_eq!(b.inbox_len("demo").await.unwrap(), 1);
    assert_eq!(read(&b, "demo", &TIP, &meta.id).await, Some(body));
    assert!(b.delete("demo", &meta.id).await.unwrap());
    assert!(a.inbox("demo").await.unwrap().is_empty());
    assert_eq!(a.inbox_len("demo").await.unwrap(), 0);
    assert!(!a.delete("demo", &meta.id).await.unwrap());

    // A session takes one part at a time across relays: both may receive a
    // part at the same offset (neither holds anything while its bytes
    // arrive), the first stored wins and the other is refused, leaving the
    // session exactly as the first made it.
    let later = sealtip_relay::time::this_hour() + 86_400;
    let session = a
        .open_session(
            "demo",
            ItemKind::Tip,
            SpentTag {
                tag: [10; 16],
                ..tag
            },
            later,
            LIMIT,
        )
        .await
        .unwrap();
    let mut slow = a.begin_part(&session, 0).await.unwrap().unwrap();
    let mut fast = b.begin_part(&session, 0).await.unwrap().unwrap();
    slow.write(&bytes(CHUNK_BYTES + 10, 1)).await.unwrap();
    let first = bytes(CHUNK_BYTES / 2, 2);
    fast.write(&first).await.unwrap();
    assert_eq!(
        b.append(fast, Some(5), later).await.unwrap(),
        Some(first.len() as u64)
    );
    assert!(matches!(
        a.append(slow, Some(5), later).await,
        Err(StoreError::Conflict(n)) if n == first.len() as u64
    ));
    let mut next = a
        .begin_part(&session, first.len() as u64)
        .await
        .unwrap()
        .unwrap();
    next.write(b"end").await.unwrap();
    assert_eq!(
        a.append(next, None, later).await.unwrap(),
        Some(first.len() as u64 + 3)
    );
    let item = b
        .commit_session(&session, first.len() as u64 + 3, LIMIT)
        .await
        .unwrap()
        .unwrap();
    let mut whole = first.clone();
    whole.extend_from_slice(b"end");
    assert_eq!(read(&a, "demo", &TIP, &item.id).await, Some(whole));
    assert!(a.delete("demo", &item.id).await.unwrap());

    // Reopening finds the schema at its version and the data in place, and
    // removes what uploads cut short by a crash left, once older than the
    // longest upload (here: one that started an hour and a half ago, with
    // uploads allowed ten minutes; and one that may still be running).
    put(&b, "demo", TIP, b"kept", None).await.unwrap();
    let hour = sealtip_relay::time::this_hour();
    db.execute(&format!(
        "INSERT INTO uploads (id, started) VALUES ('{}', {}), ('{}', {hour});
         INSERT INTO chunks (blob, n, data) VALUES ('{0}', 0, '\\x00'), ('{2}', 0, '\\x00');",
        "a".repeat(32),
        hour - 2 * 3600,
        "b".repeat(32),
    ))
    .await
    .unwrap();
    drop((a, b));
    let again = PgStore::open(&db.url, Duration::from_secs(600))
        .await
        .unwrap();
    assert_eq!(again.inbox_len("demo").await.unwrap(), 1);
    let left = "SELECT COUNT(*) FROM chunks WHERE blob NOT IN (SELECT id FROM items)";
    assert_eq!(
        db.query_i64(left).await.unwrap(),
        1,
        "only the recent upload is kept"
    );
    assert_eq!(
        db.query_i64("SELECT COUNT(*) FROM uploads").await.unwrap(),
        1
    );
    assert_eq!(
        db.query_i64("SELECT MAX(version)::BIGINT FROM schema_version")
            .await
            .unwrap(),
        2
    );
}

/// What every backend must do. `leftovers` counts stored bytes that belong
/// to no item (unfinished or abandoned uploads).
async fn contract<S: Store, F, Fut>(store: S, leftovers: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = i64>,
{
    // Bodies of every size class, read back byte for byte, listed oldest first.
    let sizes = [
        1,
        4096,
        CHUNK_BYTES - 1,
        CHUNK_BYTES,
        CHUNK_BYTES + 1,
        5 * CHUNK_BYTES / 2,
    ];
    let mut stored = Vec::new();
    for (i, size) in sizes.into_iter().enumerate() {
        let body = bytes(size, i as u8);
        let place = if i % 2 == 0 { TIP } else { MESSAGE };
        let meta = put(&store, "demo", place.clone(), &body, None)
            .await
            .unwrap();
        assert_eq!(meta.size, size as u64);
        assert_eq!(meta.place, place);
        assert_eq!(meta.id.len(), 32);
        assert_eq!(meta.received % 3600, 0, "times are kept to the hour");
        stored.push((meta, body));
    }
    let listed = store.inbox("demo").await.unwrap();
    let expected: Vec<ItemMeta> = stored.iter().map(|(meta, _)| meta.clone()).collect();
    assert_eq!(listed, expected);
    assert_eq!(store.inbox_len("demo").await.unwrap(), sizes.len() as u64);
    for (meta, body) in &stored {
        // Any inbox kind opens an inbox item.
        assert_eq!(
            read(&store, "demo", &TIP, &meta.id).await.as_ref(),
            Some(body)
        );
    }

    // Agencies and places are kept apart.
    let first = &stored[0].0.id;
    assert!(store.inbox("other").await.unwrap().is_empty());
    assert_eq!(store.inbox_len("other").await.unwrap(), 0);
    assert_eq!(read(&store, "other", &TIP, first).await, None);
    let mailbox = Place::Mailbox("ab".repeat(16));
    assert_eq!(read(&store, "demo", &mailbox, first).await, None);
    assert_eq!(read(&store, "demo", &TIP, &"0".repeat(32)).await, None);
    assert_eq!(read(&store, "demo", &TIP, "../../etc/passwd").await, None);

    // Replies live in their mailbox only, and do not count against the inbox.
    let reply = put(&store, "demo", mailbox.clone(), b"reply", None)
        .await
        .unwrap();
    let Place::Mailbox(mailbox_id) = &mailbox else {
        unreachable!()
    };
    assert_eq!(
        store.mailbox("demo", mailbox_id).await.unwrap(),
        vec![reply.clone()]
    );
    assert!(
        store
            .mailbox("demo", &"cd".repeat(16))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.mailbox("other", mailbox_id).await.unwrap().is_empty());
    assert_eq!(
        read(&store, "demo", &mailbox, &reply.id).await,
        Some(b"reply".to_vec())
    );
    assert_eq!(read(&store, "demo", &TIP, &reply.id).await, None);
    assert_eq!(store.inbox("demo").await.unwrap().len(), sizes.len());
    assert!(
        !store.delete("demo", &reply.id).await.unwrap(),
        "replies are not deleted through the inbox"
    );

    // Deleting: once, and the item is gone from the list and from reading.
    let (gone, _) = stored.remove(2);
    assert!(!store.delete("other", &gone.id).await.unwrap());
    assert!(store.delete("demo", &gone.id).await.unwrap());
    assert!(!store.delete("demo", &gone.id).await.unwrap());
    assert_eq!(read(&store, "demo", &TIP, &gone.id).await, None);
    let listed = store.inbox("demo").await.unwrap();
    assert!(listed.iter().all(|m| m.id != gone.id));
    assert_eq!(listed.len(), sizes.len() - 1);
    assert_eq!(
        store.inbox_len("demo").await.unwrap(),
        sizes.len() as u64 - 1
    );

    // Limits: per agency inbox, per mailbox.
    let n = store.inbox_len("demo").await.unwrap();
    assert!(matches!(
        put_with(&store, "demo", TIP, &bytes(2 * CHUNK_BYTES, 1), None, n).await,
        Err(StoreError::Full)
    ));
    put_limited(&store, "small", TIP, b"one", 2).await.unwrap();
    put_limited(&store, "small", MESSAGE, b"two", 2)
        .await
        .unwrap();
    assert!(matches!(
        put_limited(&store, "small", TIP, b"three", 2).await,
        Err(StoreError::Full)
    ));
    put_limited(&store, "demo", mailbox.clone(), b"second", 2)
        .await
        .unwrap();
    assert!(matches!(
        put_limited(&store, "demo", mailbox.clone(), b"third", 2).await,
        Err(StoreError::Full)
    ));
    assert_eq!(store.inbox_len("small").await.unwrap(), 2);
    assert_eq!(store.mailbox("demo", mailbox_id).await.unwrap().len(), 2);

    // Proof-of-work tags are single-use.
    let expires = sealtip_relay::time::now() + 600;
    let tag = SpentTag {
        tag: [7; 16],
        expires,
    };
    assert!(store.spend(tag).await.unwrap());
    assert!(!store.spend(tag).await.unwrap());
    let other = SpentTag {
        tag: [8; 16],
        expires,
    };
    assert!(store.spend(other).await.unwrap());
    put(&store, "demo", TIP, b"paid", Some(other))
        .await
        .unwrap();
    assert!(!store.spend(other).await.unwrap());

    // An upload dropped before commit, or refused as full, leaves nothing.
    let mut dropped = store.begin().await.unwrap();
    for piece in bytes(3 * CHUNK_BYTES, 3).chunks(100_003) {
        dropped.write(piece).await.unwrap();
    }
    assert_eq!(dropped.written(), 3 * CHUNK_BYTES as u64);
    drop(dropped);
    let mut waited = 0;
    while leftovers().await != 0 {
        waited += 1;
        assert!(waited < 100, "a dropped upload left data behind");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(store.inbox_len("demo").await.unwrap(), sizes.len() as u64);
}

/// What every backend must do with upload sessions. `session_bytes` counts
/// stored bytes of sessions (bytes that belong to no item). Returns a
/// session left open, with what it holds.
async fn sessions<S: Store, F, Fut>(store: S, session_bytes: F) -> (String, Session)
where
    F: Fn() -> Fut,
    Fut: Future<Output = i64>,
{
    let hour = sealtip_relay::time::this_hour();
    let later = hour + 86_400;
    let tag = SpentTag {
        tag: [42; 16],
        expires: sealtip_relay::time::now() + 600,
    };
    // The relay spends the proof, then opens the session with it.
    assert!(store.spend(tag).await.unwrap());
    let id = store
        .open_session("demo", ItemKind::Message, tag, later, LIMIT)
        .await
        .unwrap();
    assert_eq!(id.len(), 32);
    let fresh = Session {
        agency: "demo".into(),
        kind: ItemKind::Message,
        received: 0,
        header_len: None,
    };
    assert_eq!(store.session(&id).await.unwrap(), Some(fresh));
    for unknown in ["0".repeat(32), "../x".into(), String::new()] {
        assert_eq!(store.session(&unknown).await.unwrap(), None);
        assert!(store.begin_part(&unknown, 0).await.unwrap().is_none());
        assert!(!store.drop_session(&unknown).await.unwrap());
        assert!(
            store
                .commit_session(&unknown, 0, LIMIT)
                .await
                .unwrap()
                .is_none()
        );
    }

    // Parts go in order, each at the length the session holds.
    let body = bytes(5 * CHUNK_BYTES / 2 + 123, 9);
    let cuts = [0, CHUNK_BYTES / 2 + 3, 2 * CHUNK_BYTES + 10, body.len()];
    assert!(matches!(
        store.begin_part(&id, 5).await,
        Err(StoreError::Conflict(0))
    ));
    for (n, window) in cuts.windows(2).enumerate() {
        let (from, to) = (window[0], window[1]);
        let received = append(
            &store,
            &id,
            from as u64,
            &body[from..to],
            (n == 0).then_some(7),
        )
        .await
        .unwrap();
        assert_eq!(received, to as u64);
        assert!(matches!(
            store.begin_part(&id, from as u64).await,
            Err(StoreError::Conflict(n)) if n == to as u64
        ));
        // Nothing of a session is listed before its commit.
        assert_eq!(
            store.inbox("demo").await.unwrap().len() as u64,
            store.inbox_len("demo").await.unwrap()
        );
    }
    let total = body.len() as u64;
    let session = store.session(&id).await.unwrap().unwrap();
    assert_eq!((session.received, session.header_len), (total, Some(7)));

    // A part dropped before it is appended counts for nothing, and holds
    // the session only while it is being written.
    let mut part = store.begin_part(&id, total).await.unwrap().unwrap();
    part.write(&bytes(CHUNK_BYTES + 5, 1)).await.unwrap();
    assert!(matches!(
        store.begin_part(&id, total).await,
        Err(StoreError::Conflict(n)) if n == total
    ));
    assert!(matches!(
        store.commit_session(&id, total, LIMIT).await,
        Err(StoreError::Conflict(n)) if n == total
    ));
    assert!(matches!(
        store.drop_session(&id).await,
        Err(StoreError::Conflict(n)) if n == total
    ));
    drop(part);
    let mut waited = 0;
    let part = loop {
        // (A write the dropped part left running may hold it a moment longer.)
        match store.begin_part(&id, total).await {
            Ok(Some(part)) => break part,
            Err(StoreError::Conflict(n)) if n == total && waited < 100 => {
                waited += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            _ => panic!("the dropped part still holds the session"),
        }
    };
    drop(part);
    assert_eq!(store.session(&id).await.unwrap().unwrap().received, total);

    // Committing: refused while the length differs, and when the inbox is
    // full (the session stays); then one item with the very bytes.
    let before = store.inbox("demo").await.unwrap();
    assert!(matches!(
        retry(|| store.commit_session(&id, total, before.len() as u64)).await,
        Err(StoreError::Full)
    ));
    assert!(matches!(
        store.commit_session(&id, total - 1, LIMIT).await,
        Err(StoreError::Conflict(n)) if n == total
    ));
    assert_eq!(store.session(&id).await.unwrap().unwrap().received, total);
    let meta = store
        .commit_session(&id, total, LIMIT)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(meta.id, id, "the item's id is not the session's");
    assert_eq!(meta.size, total);
    assert_eq!(meta.place, MESSAGE);
    assert_eq!(meta.received, sealtip_relay::time::this_hour());
    let after = store.inbox("demo").await.unwrap();
    assert_eq!(after.len(), before.len() + 1);
    assert_eq!(after.last(), Some(&meta));
    assert_eq!(
        read(&store, "demo", &TIP, &meta.id).await,
        Some(body.clone())
    );
    // The session is gone.
    assert_eq!(store.session(&id).await.unwrap(), None);
    assert!(
        store
            .commit_session(&id, total, LIMIT)
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.begin_part(&id, total).await.unwrap().is_none());
    assert!(!store.drop_session(&id).await.unwrap());
    assert_eq!(session_bytes().await, 0);

    // Dropping removes a session and its bytes.
    let spent = |n: u8| SpentTag {
        tag: [n; 16],
        expires: sealtip_relay::time::now() + 600,
    };
    let dropped = store
        .open_session("demo", ItemKind::Tip, spent(43), later, LIMIT)
        .await
        .unwrap();
    append(&store, &dropped, 0, &bytes(CHUNK_BYTES + 1, 2), Some(1))
        .await
        .unwrap();
    assert!(session_bytes().await > 0);
    assert!(store.drop_session(&dropped).await.unwrap());
    assert!(!store.drop_session(&dropped).await.unwrap());
    assert_eq!(store.session(&dropped).await.unwrap(), None);
    assert_eq!(session_bytes().await, 0);

    // An expired session is unknown, and removed with its bytes.
    let expiring = store
        .open_session("demo", ItemKind::Tip, spent(44), later, LIMIT)
        .await
        .unwrap();
    append(&store, &expiring, 0, &bytes(100, 3), Some(1))
        .await
        .unwrap();
    let mut part = store.begin_part(&expiring, 100).await.unwrap().unwrap();
    part.write(b"last").await.unwrap();
    assert_eq!(store.append(part, None, hour).await.unwrap(), Some(104));
    assert_eq!(store.session(&expiring).await.unwrap(), None);
    assert!(store.begin_part(&expiring, 104).await.unwrap().is_none());
    assert!(session_bytes().await > 0);
    assert!(store.remove_expired_sessions().await.unwrap() >= 1);
    assert_eq!(session_bytes().await, 0);
    assert!(!store.drop_session(&expiring).await.unwrap());

    // Open sessions are limited; expired ones do not count.
    let kept = store
        .open_session("demo", ItemKind::Tip, spent(45), later, 1)
        .await
        .unwrap();
    assert!(matches!(
        store
            .open_session("demo", ItemKind::Tip, spent(46), later, 1)
            .await,
        Err(StoreError::TooManySessions)
    ));
    append(&store, &kept, 0, &bytes(10, 4), Some(3))
        .await
        .unwrap();
    let session = store.session(&kept).await.unwrap().unwrap();
    assert_eq!(session.received, 10);
    assert_eq!(
        store.inbox("demo").await.unwrap(),
        after,
        "still not listed"
    );
    (kept, session)
}

/// What every backend must do with replies. `backdate(id, secs)` moves a
/// stored item's hour `secs` back; `has_bytes(id)` tells whether a blob's
/// bytes are still stored; `traces(mailbox)` counts what the store still
/// holds that names the mailbox.
async fn replies<S, B, BF, H, HF, T, TF>(store: S, backdate: B, has_bytes: H, traces: T)
where
    S: Store,
    B: Fn(String, u64) -> BF,
    BF: Future<Output = ()>,
    H: Fn(String) -> HF,
    HF: Future<Output = bool>,
    T: Fn(String) -> TF,
    TF: Future<Output = i64>,
{
    const DAY: u64 = 86_400;
    let mailbox = "5ea17a11ba5e0b0e5ea17a11ba5e0b0e".to_owned();
    let other = "cd".repeat(16);
    let here = Place::Mailbox(mailbox.clone());
    let there = Place::Mailbox(other.clone());
    let first = put(&store, "demo", here.clone(), b"first", None)
        .await
        .unwrap();
    let second = put(
        &store,
        "demo",
        here.clone(),
        &bytes(3 * CHUNK_BYTES / 2, 1),
        None,
    )
    .await
    .unwrap();
    let elsewhere = put(&store, "demo", there.clone(), b"elsewhere", None)
        .await
        .unwrap();
    let tip = put(&store, "demo", TIP, b"tip", None).await.unwrap();

    // A reply is deleted in its own agency and mailbox only, and an inbox
    // item is not a reply.
    assert!(
        !store
            .delete_reply("other", &mailbox, &first.id)
            .await
            .unwrap()
    );
    assert!(!store.delete_reply("demo", &other, &first.id).await.unwrap());
    assert!(
        !store
            .delete_reply("demo", &mailbox, &"0".repeat(32))
            .await
            .unwrap()
    );
    assert!(!store.delete_reply("demo", &mailbox, "../x").await.unwrap());
    assert!(!store.delete_reply("demo", &mailbox, &tip.id).await.unwrap());
    assert_eq!(
        read(&store, "demo", &TIP, &tip.id).await,
        Some(b"tip".to_vec())
    );
    assert_eq!(store.mailbox("demo", &mailbox).await.unwrap().len(), 2);

    // Deleted: once, gone from the list, from reading, and its bytes too.
    assert!(
        store
            .delete_reply("demo", &mailbox, &first.id)
            .await
            .unwrap()
    );
    assert!(
        !store
            .delete_reply("demo", &mailbox, &first.id)
            .await
            .unwrap()
    );
    assert_eq!(
        store.mailbox("demo", &mailbox).await.unwrap(),
        vec![second.clone()]
    );
    assert_eq!(read(&store, "demo", &here, &first.id).await, None);
    assert!(!has_bytes(first.id.clone()).await);
    assert_eq!(
        store.inbox_len("demo").await.unwrap(),
        1,
        "the inbox count is kept"
    );

    // Replies older than the cutoff go; one received at the cutoff hour and
    // a recent one stay, and inbox items are not replies, however old.
    let hour = sealtip_relay::time::this_hour();
    let cutoff = hour - 90 * DAY;
    backdate(second.id.clone(), 91 * DAY).await;
    backdate(elsewhere.id.clone(), 90 * DAY).await;
    backdate(tip.id.clone(), 365 * DAY).await;
    let recent = put(&store, "demo", here.clone(), b"recent", None)
        .await
        .unwrap();
    assert!(has_bytes(second.id.clone()).await);
    assert_eq!(store.remove_replies_before(cutoff).await.unwrap(), 1);
    assert_eq!(
        store.mailbox("demo", &mailbox).await.unwrap(),
        vec![recent.clone()]
    );
    assert_eq!(read(&store, "demo", &here, &second.id).await, None);
    assert!(!has_bytes(second.id.clone()).await);
    let kept = store.mailbox("demo", &other).await.unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].received, cutoff, "times stay on the hour");
    assert_eq!(
        read(&store, "demo", &there, &elsewhere.id).await,
        Some(b"elsewhere".to_vec())
    );
    assert_eq!(store.inbox("demo").await.unwrap().len(), 1);
    assert_eq!(store.remove_replies_before(cutoff).await.unwrap(), 0);

    // Once its last reply is gone, nothing of a mailbox is left.
    assert!(traces(mailbox.clone()).await > 0);
    assert!(
        store
            .delete_reply("demo", &mailbox, &recent.id)
            .await
            .unwrap()
    );
    assert!(store.mailbox("demo", &mailbox).await.unwrap().is_empty());
    assert_eq!(traces(mailbox.clone()).await, 0);
    assert!(store.remove_replies_before(hour + 3600).await.unwrap() >= 1);
    assert!(store.mailbox("demo", &other).await.unwrap().is_empty());
    assert_eq!(traces(other).await, 0);
}

/// What every backend does with an agency's `retention_days`: its items of
/// every kind and its replies older than the cutoff go with their bytes, in
/// more than one batch; one received at the cutoff hour and newer ones
/// stay, as do other agencies' however old; the inbox count follows.
/// `backdate(id, secs)` moves a stored item's hour `secs` back;
/// `has_bytes(id)` tells whether a blob's bytes are still stored.
async fn retention<S, B, BF, H, HF>(store: S, backdate: B, has_bytes: H)
where
    S: Store,
    B: Fn(String, u64) -> BF,
    BF: Future<Output = ()>,
    H: Fn(String) -> HF,
    HF: Future<Output = bool>,
{
    const DAY: u64 = 86_400;
    let mailbox = "5ea17a11ba5e0b0e5ea17a11ba5e0b0e";
    let here = Place::Mailbox(mailbox.into());
    let stored = |meta: Result<ItemMeta, StoreError>| meta.unwrap().id;
    // Older than 30 days: a tip of several chunks, a message, a reply, and
    // more small tips than one batch of deletions takes.
    let large = stored(put(&store, "demo", TIP, &bytes(3 * CHUNK_BYTES / 2, 3), None).await);
    let old_reply = stored(put(&store, "demo", here.clone(), b"old reply", None).await);
    let mut old = vec![
        large.clone(),
        old_reply.clone(),
        stored(put(&store, "demo", MESSAGE, b"old message", None).await),
    ];
    for i in 0..70u8 {
        old.push(stored(put(&store, "demo", TIP, &[i; 100], None).await));
    }
    for id in &old {
        backdate(id.clone(), 31 * DAY).await;
    }
    // Received exactly at the cutoff hour, and new ones.
    let at_cutoff = stored(put(&store, "demo", TIP, b"at the cutoff", None).await);
    backdate(at_cutoff.clone(), 30 * DAY).await;
    let new_tip = stored(put(&store, "demo", TIP, b"new tip", None).await);
    let new_reply = stored(put(&store, "demo", here.clone(), b"new reply", None).await);
    // Another agency's, however old.
    let other = stored(put(&store, "news", TIP, b"news tip", None).await);
    let other_reply = stored(put(&store, "news", here, b"news reply", None).await);
    backdate(other.clone(), 400 * DAY).await;
    backdate(other_reply.clone(), 400 * DAY).await;
    assert_eq!(store.inbox_len("demo").await.unwrap(), 74);

    let cutoff = sealtip_relay::time::retention_cutoff(sealtip_relay::time::now(), 30);
    assert_eq!(cutoff, sealtip_relay::time::this_hour() - 30 * DAY);
    let removed = store.remove_agency_items_before("demo", cutoff).await;
    assert_eq!(removed.unwrap(), old.len() as u64);

    let ids = |items: Vec<ItemMeta>| items.into_iter().map(|i| i.id).collect::<Vec<_>>();
    let inbox = ids(store.inbox("demo").await.unwrap());
    assert_eq!(inbox, [at_cutoff, new_tip.clone()]);
    assert_eq!(
        store.inbox_len("demo").await.unwrap(),
        2,
        "the count follows"
    );
    let replies = ids(store.mailbox("demo", mailbox).await.unwrap());
    assert_eq!(replies, [new_reply]);
    for id in [&large, &old_reply] {
        assert!(store.open("demo", &TIP, id).await.unwrap().is_none());
        assert!(!has_bytes(id.clone()).await, "the bytes of {id} are gone");
    }
    assert!(has_bytes(new_tip).await);
    assert_eq!(ids(store.inbox("news").await.unwrap()), [other]);
    assert_eq!(
        ids(store.mailbox("news", mailbox).await.unwrap()),
        [other_reply]
    );
    let again = store.remove_agency_items_before("demo", cutoff).await;
    assert_eq!(again.unwrap(), 0);
    // The limit is checked against the count that followed: room again.
    assert!(put_limited(&store, "demo", TIP, b"fits", 3).await.is_ok());
}

/// Whether `needle` occurs in `haystack`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Appends `part` at `offset` of session `id`, in uneven pieces.
async fn append<S: Store>(
    store: &S,
    id: &str,
    offset: u64,
    part: &[u8],
    header_len: Option<u64>,
) -> Result<u64, StoreError> {
    let mut writing = retry(|| store.begin_part(id, offset)).await?.unwrap();
    for piece in part.chunks(65_537) {
        writing.write(piece).await?;
    }
    assert_eq!(writing.written(), part.len() as u64);
    let later = sealtip_relay::time::this_hour() + 86_400;
    let received = store.append(writing, header_len, later).await?;
    Ok(received.expect("the session is there"))
}

/// Runs `f` again while a part just dropped may still hold the session (a
/// rollback on its way), at most a second.
async fn retry<T, F, Fut>(f: F) -> Result<T, StoreError>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, StoreError>>,
{
    for _ in 0..50 {
        match f().await {
            Err(StoreError::Conflict(_)) => tokio::time::sleep(Duration::from_millis(20)).await,
            other => return other,
        }
    }
    f().await
}

/// Stores `body` in one go with the test's default limit.
async fn put<S: Store>(
    store: &S,
    agency: &str,
    place: Place,
    body: &[u8],
    spent: Option<SpentTag>,
) -> Result<ItemMeta, StoreError> {
    put_with(store, agency, place, body, spent, LIMIT).await
}

async fn put_limited<S: Store>(
    store: &S,
    agency: &str,
    place: Place,
    body: &[u8],
    max_items: u64,
) -> Result<ItemMeta, StoreError> {
    put_with(store, agency, place, body, None, max_items).await
}

/// Stores `body`, written in uneven pieces as a network would deliver it.
async fn put_with<S: Store>(
    store: &S,
    agency: &str,
    place: Place,
    body: &[u8],
    spent: Option<SpentTag>,
    max_items: u64,
) -> Result<ItemMeta, StoreError> {
    let mut upload = store.begin().await?;
    for piece in body.chunks(65_537) {
        upload.write(piece).await?;
    }
    store.commit(upload, agency, place, spent, max_items).await
}

async fn read<S: Store>(store: &S, agency: &str, place: &Place, id: &str) -> Option<Vec<u8>> {
    let (meta, mut reader) = store.open(agency, place, id).await.unwrap()?;
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes).await.unwrap();
    assert_eq!(bytes.len() as u64, meta.size);
    Some(bytes)
}

/// `len` bytes that differ from one body to the next and along each body.
fn bytes(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[3] ^ seed)
        .collect()
}
