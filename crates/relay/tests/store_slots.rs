//! The SQLite store's chunk file (`relay.db-chunks`): full chunks of sealed
//! bytes written once into its slots, the rest inline in rows. Items read
//! back byte for byte across both, usage counts the same bytes, a deleted
//! item's slots are zeroed and taken again (the file does not grow with
//! every upload), also with many uploads, deletions and abandoned uploads
//! at once, and a database of a relay from before the chunk file (every
//! chunk inline) still reads, and goes on in slots.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::{Path, PathBuf};

use sealtip_api::ItemKind;
use sealtip_relay::store::sqlite::{CHUNK_BYTES, SqliteStore};
use sealtip_relay::store::{ItemMeta, Place, Store, Upload};
use tokio::io::AsyncReadExt;

const TIP: Place = Place::Inbox(ItemKind::Tip);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn items_read_back_across_slots_and_inline_rows_and_usage_counts_their_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("relay.db");
    let store = SqliteStore::open(&database, &dir.path().join("blobs")).unwrap();
    assert_eq!(std::fs::metadata(chunk_file(&database)).unwrap().len(), 0);

    let sizes = [
        10,
        CHUNK_BYTES - 1,
        CHUNK_BYTES,
        CHUNK_BYTES + 1,
        3 * CHUNK_BYTES + 77,
    ];
    let mut stored = Vec::new();
    for (n, size) in sizes.into_iter().enumerate() {
        let body = bytes(size, n as u8);
        let meta = put(&store, &body).await;
        stored.push((meta, body));
    }
    // A session whose parts start anywhere, not on a chunk's border.
    let body = bytes(2 * CHUNK_BYTES + 300_005, 9);
    let id = session(&store, &body, &[300_000, 400_000, 5]).await;
    let meta = store
        .commit_session(&id, body.len() as u64, 1000)
        .await
        .unwrap()
        .unwrap();
    stored.push((meta, body));

    for (meta, body) in &stored {
        assert_eq!(&read(&store, &meta.id).await, body, "{} bytes", meta.size);
    }
    // A full chunk is in a slot; only what is left is inline.
    let conn = rusqlite::Connection::open(&database).unwrap();
    for (meta, _) in &stored[..sizes.len()] {
        let (in_slots, inline): (u64, u64) = conn
            .query_row(
                "SELECT COUNT(slot), COALESCE(SUM(length(data)), 0) FROM chunks WHERE blob = ?1",
                [&meta.id],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .unwrap();
        let chunk = CHUNK_BYTES as u64;
        assert_eq!((in_slots, inline), (meta.size / chunk, meta.size % chunk));
    }
    // Usage counts the items' bytes, wherever they are.
    let total: u64 = stored.iter().map(|(meta, _)| meta.size).sum();
    assert_eq!(store.usage().await.unwrap().of("demo").bytes, total);
    let named: u64 = conn
        .query_row("SELECT COUNT(slot) FROM chunks", [], |row| row.get(0))
        .unwrap();
    assert_eq!(
        std::fs::metadata(chunk_file(&database)).unwrap().len(),
        named * CHUNK_BYTES as u64,
        "the file holds the slots named, no more"
    );
    drop(store);
    let again = SqliteStore::open(&database, &dir.path().join("blobs")).unwrap();
    assert_eq!(again.usage().await.unwrap().of("demo").bytes, total);
    for (meta, body) in &stored {
        assert_eq!(&read(&again, &meta.id).await, body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_items_slots_are_zeroed_and_taken_again() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("relay.db");
    let store = SqliteStore::open(&database, &dir.path().join("blobs")).unwrap();
    let kept_body = bytes(2 * CHUNK_BYTES, 1);
    let kept = put(&store, &kept_body).await;
    let size = 4 * CHUNK_BYTES + 1000;
    for round in 0..24u8 {
        let body = bytes(size, round.wrapping_add(2));
        let meta = put(&store, &body).await;
        assert_eq!(read(&store, &meta.id).await, body);
        assert!(store.delete("demo", &meta.id).await.unwrap());
        // An upload abandoned half way, its slots released too.
        let mut upload = store.begin().await.unwrap();
        upload.write(&bytes(3 * CHUNK_BYTES, round)).await.unwrap();
        drop(upload);
    }
    // Slots released are zeroed before the chunk file's next sync: once a
    // later upload is stored, every slot released before is zeroed (or
    // taken).
    let last = put(&store, &bytes(CHUNK_BYTES, 7)).await;
    let file = std::fs::read(chunk_file(&database)).unwrap();
    assert!(
        file.len() <= 2 * (2 + 4 + 3) * CHUNK_BYTES,
        "24 uploads and deletions grew the file to {} bytes",
        file.len()
    );
    let named = named_slots(&database);
    assert_eq!(named.len(), 2 + 1);
    for (slot, held) in file.chunks(CHUNK_BYTES).enumerate() {
        if !named.contains(&(slot as u64)) {
            assert!(held.iter().all(|b| *b == 0), "free slot {slot} holds bytes");
        }
    }
    assert_eq!(read(&store, &kept.id).await, kept_body);
    assert_eq!(read(&store, &last.id).await, bytes(CHUNK_BYTES, 7));
    // Opened again, the free slots at the end are cut off.
    drop(store);
    let again = SqliteStore::open(&database, &dir.path().join("blobs")).unwrap();
    let highest = named.iter().max().unwrap();
    assert_eq!(
        std::fs::metadata(chunk_file(&database)).unwrap().len(),
        (highest + 1) * CHUNK_BYTES as u64
    );
    assert_eq!(read(&again, &kept.id).await, kept_body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_uploads_deletions_and_abandoned_uploads_leave_items_exact_and_free_slots_zeroed()
 {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("relay.db");
    let store = SqliteStore::open(&database, &dir.path().join("blobs")).unwrap();
    let mut tasks = Vec::new();
    for task in 0..6u8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut kept = Vec::new();
            for round in 0..5u8 {
                let seed = task * 16 + round;
                let size = (1 + usize::from(seed % 4)) * CHUNK_BYTES + usize::from(seed) * 999;
                let body = bytes(size, seed);
                let meta = put(&store, &body).await;
                assert_eq!(read(&store, &meta.id).await, body);
                if round % 2 == 0 {
                    assert!(store.delete("demo", &meta.id).await.unwrap());
                } else {
                    kept.push((meta, body));
                }
                // Abandoned with its last chunk's write perhaps still going on.
                let mut upload = store.begin().await.unwrap();
                upload
                    .write(&bytes(2 * CHUNK_BYTES + 1, seed))
                    .await
                    .unwrap();
                drop(upload);
            }
            kept
        }));
    }
    let mut kept = Vec::new();
    for task in tasks {
        kept.extend(task.await.unwrap());
    }
    // Stored after every release: once it is, each released slot is zeroed.
    let last = bytes(CHUNK_BYTES, 200);
    kept.push((put(&store, &last).await, last));
    for (meta, body) in &kept {
        assert_eq!(&read(&store, &meta.id).await, body);
    }
    let mut named = named_slots(&database);
    let rows = named.len();
    named.sort_unstable();
    named.dedup();
    assert_eq!(named.len(), rows, "a slot named by two rows");
    let file = std::fs::read(chunk_file(&database)).unwrap();
    for (slot, held) in file.chunks(CHUNK_BYTES).enumerate() {
        if !named.contains(&(slot as u64)) {
            assert!(held.iter().all(|b| *b == 0), "free slot {slot} holds bytes");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_from_before_the_chunk_file_reads_and_goes_on_in_slots() {
    let dir = tempfile::tempdir().unwrap();
    let (database, blobs) = (dir.path().join("relay.db"), dir.path().join("blobs"));
    let hour = sealtip_relay::time::this_hour();
    // The tables as they were: every chunk's bytes inline, no slot column.
    drop(SqliteStore::open(&database, &blobs).unwrap());
    std::fs::remove_file(chunk_file(&database)).unwrap();
    let conn = rusqlite::Connection::open(&database).unwrap();
    conn.execute_batch("DROP INDEX chunks_by_slot; ALTER TABLE chunks DROP COLUMN slot;")
        .unwrap();
    let (item, session, session_blob) = ("a1".repeat(16), "b2".repeat(16), "c3".repeat(16));
    let item_bytes = bytes(2 * CHUNK_BYTES + 5_000, 1);
    let acknowledged = bytes(CHUNK_BYTES + 10, 2);
    insert_inline(&conn, &item, &item_bytes);
    insert_inline(&conn, &session_blob, &acknowledged);
    conn.execute(
        "INSERT INTO items (id, agency, kind, size, received) VALUES (?1, 'demo', 'tip', ?2, ?3)",
        rusqlite::params![item, item_bytes.len(), hour],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO sessions (id, blob, agency, kind, received, expires)
         VALUES (?1, ?2, 'demo', 'tip', ?3, ?4)",
        rusqlite::params![session, session_blob, acknowledged.len(), hour + 86_400],
    )
    .unwrap();
    drop(conn);

    let store = SqliteStore::open(&database, &blobs).unwrap();
    assert_eq!(read(&store, &item).await, item_bytes);
    // The session goes on, its new chunks in slots.
    let rest = bytes(3 * CHUNK_BYTES + 1, 3);
    let mut part = store
        .begin_part(&session, acknowledged.len() as u64)
        .await
        .unwrap()
        .unwrap();
    part.write(&rest).await.unwrap();
    store.append(part, None, hour + 86_400).await.unwrap();
    let total = (acknowledged.len() + rest.len()) as u64;
    let meta = store
        .commit_session(&session, total, 1000)
        .await
        .unwrap()
        .unwrap();
    let mut whole = acknowledged;
    whole.extend_from_slice(&rest);
    assert_eq!(read(&store, &meta.id).await, whole);
    assert_eq!(named_slots(&database).len(), 3);
    assert_eq!(
        store.usage().await.unwrap().of("demo").bytes,
        item_bytes.len() as u64 + total
    );
}

/// Stores `body` in one go, written in uneven pieces.
async fn put(store: &SqliteStore, body: &[u8]) -> ItemMeta {
    let mut upload = store.begin().await.unwrap();
    for piece in body.chunks(65_537) {
        upload.write(piece).await.unwrap();
    }
    store.commit(upload, "demo", TIP, None, 1000).await.unwrap()
}

/// Sends `body` to a new session in parts of `parts` bytes (the last takes
/// the rest); its id.
async fn session(store: &SqliteStore, body: &[u8], parts: &[usize]) -> String {
    let tag = sealtip_relay::store::SpentTag {
        tag: [3; 16],
        expires: sealtip_relay::time::now() + 600,
    };
    let expires = sealtip_relay::time::this_hour() + 86_400;
    let id = store
        .open_session("demo", ItemKind::Tip, tag, expires, 64)
        .await
        .unwrap();
    let mut offset = 0;
    for (n, len) in parts.iter().enumerate() {
        let end = if n + 1 == parts.len() {
            body.len()
        } else {
            offset + len
        };
        let mut part = store.begin_part(&id, offset as u64).await.unwrap().unwrap();
        for piece in body[offset..end].chunks(100_003) {
            part.write(piece).await.unwrap();
        }
        store.append(part, None, expires).await.unwrap();
        offset = end;
    }
    id
}

async fn read(store: &SqliteStore, id: &str) -> Vec<u8> {
    let (_, mut reader) = store.open("demo", &TIP, id).await.unwrap().unwrap();
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes).await.unwrap();
    bytes
}

/// Rows of inline chunks of `blob`, as a relay before the chunk file wrote them.
fn insert_inline(conn: &rusqlite::Connection, blob: &str, body: &[u8]) {
    for (n, chunk) in body.chunks(CHUNK_BYTES).enumerate() {
        conn.execute(
            "INSERT INTO chunks (blob, start, data) VALUES (?1, ?2, ?3)",
            rusqlite::params![blob, n * CHUNK_BYTES, chunk],
        )
        .unwrap();
    }
}

fn chunk_file(database: &Path) -> PathBuf {
    database.with_extension("db-chunks")
}

/// The slots the database's rows name.
fn named_slots(database: &Path) -> Vec<u64> {
    let conn = rusqlite::Connection::open(database).unwrap();
    let mut stmt = conn
        .prepare("SELECT slot FROM chunks WHERE slot IS NOT NULL")
        .unwrap();
    stmt.query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// `len` bytes that differ from one body to the next and along each body.
fn bytes(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[3] ^ seed)
        .collect()
}
