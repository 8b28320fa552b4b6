//! What the SQLite store tells it holds per agency (`Store::usage`, checked
//! before every proof is spent): kept as items come and go, not counted by
//! reading every item, and counted again when the store opens.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use sealtip_api::ItemKind;
use sealtip_relay::store::sqlite::SqliteStore;
use sealtip_relay::store::{AgencyUsage, ItemMeta, Place, Store, Upload};

const TIP: Place = Place::Inbox(ItemKind::Tip);
const MESSAGE: Place = Place::Inbox(ItemKind::Message);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_usage_follows_items_and_is_counted_again_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("relay.db");
    let blobs = dir.path().join("blobs");
    let store = SqliteStore::open(&database, &blobs).unwrap();
    assert_eq!(
        store.usage().await.unwrap().of("demo"),
        AgencyUsage::default()
    );

    let mailbox = Place::Mailbox("ab".repeat(16));
    let first = put(&store, "demo", TIP, 5_000).await;
    put(&store, "demo", MESSAGE, 300_000).await;
    put(&store, "demo", TIP, 70).await;
    let reply = put(&store, "demo", mailbox.clone(), 1_000).await;
    put(&store, "other", TIP, 9).await;
    let expected = AgencyUsage {
        items: 3,
        replies: 1,
        bytes: 5_000 + 300_000 + 70 + 1_000,
        open_sessions: 0,
    };
    let usage = store.usage().await.unwrap();
    assert_eq!(usage.of("demo"), expected);
    assert_eq!(usage.of("other").items, 1);
    assert_eq!(usage.of("other").bytes, 9);

    // Deleted items leave the counts, with their bytes.
    assert!(store.delete("demo", &first.id).await.unwrap());
    let mailbox_id = "ab".repeat(16);
    assert!(
        store
            .delete_reply("demo", &mailbox_id, &reply.id)
            .await
            .unwrap()
    );
    let after_deletes = AgencyUsage {
        items: 2,
        replies: 0,
        bytes: 300_000 + 70,
        open_sessions: 0,
    };
    assert_eq!(store.usage().await.unwrap().of("demo"), after_deletes);
    // A failed commit (the inbox is full) counts nothing.
    let mut upload = store.begin().await.unwrap();
    upload.write(&[1; 100]).await.unwrap();
    assert!(store.commit(upload, "demo", TIP, None, 2).await.is_err());
    assert_eq!(store.usage().await.unwrap().of("demo"), after_deletes);
    drop(store);

    // Counts gone wrong, or missing as in a database from before they were
    // kept, are counted again from the items when the store opens.
    let conn = rusqlite::Connection::open(&database).unwrap();
    conn.execute_batch(
        "UPDATE totals SET items = 99, bytes = 1; DELETE FROM totals WHERE agency = 'other';",
    )
    .unwrap();
    drop(conn);
    let store = SqliteStore::open(&database, &blobs).unwrap();
    let usage = store.usage().await.unwrap();
    assert_eq!(usage.of("demo"), after_deletes);
    assert_eq!(usage.of("other").items, 1);
    assert_eq!(store.inbox_len("demo").await.unwrap(), 2);
    put(&store, "other", MESSAGE, 1).await;
    assert_eq!(store.usage().await.unwrap().of("other").bytes, 10);
}

/// Stores `len` bytes as an item of `agency` at `place`.
async fn put(store: &SqliteStore, agency: &str, place: Place, len: usize) -> ItemMeta {
    let mut upload = store.begin().await.unwrap();
    upload.write(&vec![7; len]).await.unwrap();
    store
        .commit(upload, agency, place, None, 1000)
        .await
        .unwrap()
}
