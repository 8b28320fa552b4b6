//! One test suite for the `Store` contract, run against every backend:
//! SQLite on a temporary folder, and PostgreSQL on a fresh database of the
//! server named by `SEALTIP_TEST_POSTGRES` (started by `cargo xtask test`).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::future::Future;
use std::time::Duration;

use sealtip_api::ItemKind;
use sealtip_relay::store::postgres::{CHUNK_BYTES, PgStore};
use sealtip_relay::store::sqlite::SqliteStore;
use sealtip_relay::store::{ItemMeta, Place, SpentTag, Store, StoreError, Upload};
use tokio::io::AsyncReadExt;

const TIP: Place = Place::Inbox(ItemKind::Tip);
const MESSAGE: Place = Place::Inbox(ItemKind::Message);
const LIMIT: u64 = 1000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_keeps_the_store_contract() {
    let dir = tempfile::tempdir().unwrap();
    let blobs = dir.path().join("blobs");
    let store = SqliteStore::open(&dir.path().join("relay.db"), &blobs).unwrap();
    contract(store, || async {
        // Leftovers are files in the blob folder that no listed item owns.
        std::fs::read_dir(&blobs)
            .unwrap()
            .filter(|e| {
                let name = e.as_ref().unwrap().file_name();
                name.to_string_lossy().ends_with(".part")
            })
            .count() as i64
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_keeps_the_store_contract() {
    let Some(db) = common::test_database("postgres_keeps_the_store_contract").await else {
        return;
    };
    let store = PgStore::open(&db.url, Duration::from_secs(3600))
        .await
        .unwrap();
    contract(store, || {
        db.query_i64(
            "SELECT (SELECT COUNT(*) FROM chunks WHERE blob NOT IN (SELECT id FROM items))
                  + (SELECT COUNT(*) FROM uploads)",
        )
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stores_opened_together_share_everything() {
    let Some(db) = common::test_database("postgres_stores_opened_together_share_everything").await
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
    .await;
    drop((a, b));
    let again = PgStore::open(&db.url, Duration::from_secs(600))
        .await
        .unwrap();
    assert_eq!(again.inbox_len("demo").await.unwrap(), 1);
    let left = "SELECT COUNT(*) FROM chunks WHERE blob NOT IN (SELECT id FROM items)";
    assert_eq!(
        db.query_i64(left).await,
        1,
        "only the recent upload is kept"
    );
    assert_eq!(db.query_i64("SELECT COUNT(*) FROM uploads").await, 1);
    assert_eq!(
        db.query_i64("SELECT MAX(version)::BIGINT FROM schema_version")
            .await,
        1
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
