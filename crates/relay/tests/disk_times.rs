//! Nothing on the relay's disk tells when a tip came more precisely than the
//! hour: no file or folder is created, renamed or touched per tip (the
//! sealed bytes are rows of the one SQLite database and slots of its one
//! chunk file, whose times the store sets on its tick), and no stored value
//! is a finer time. A relay with blob files of an earlier version moves
//! them into the database and removes them.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{sealed, start};
use sealtip_api::ItemKind;
use sealtip_relay::store::sqlite::SqliteStore;
use sealtip_relay::store::{Place, SpentTag, Store, Upload};
use tokio::io::AsyncReadExt;

/// The database's own files: one for all tips, written at every change and
/// on the store's tick, so their times tell nothing per tip.
const DATABASE_FILES: [&str; 4] = [
    "relay.db",
    "relay.db-wal",
    "relay.db-shm",
    "relay.db-chunks",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tips_and_upload_sessions_leave_no_file_times() {
    let relay = start(|_| String::new(), |_| {}).await;
    let root = relay.dir.path().to_path_buf();
    // The relay has started: what is on its disk now, and since when.
    let before = walk(&root);
    assert!(
        before.keys().any(|path| path.ends_with("data/relay.db")),
        "{before:?}"
    );
    let started = SystemTime::now();
    // Times on this file system are finer than a second: wait past the
    // second the relay started in, so a change in it cannot hide.
    tokio::time::sleep(Duration::from_millis(1100)).await;

    // Tips at different moments, one deleted.
    let mut ids = Vec::new();
    for n in 0..3 {
        let response = relay
            .post_tip("demo", sealed(&relay.recipient, 1000 + 400_000 * n))
            .await;
        assert_eq!(response.status(), 201);
        let created: sealtip_api::Created = response.json().await.unwrap();
        ids.push(created.id);
        tokio::time::sleep(Duration::from_millis(700)).await;
    }
    assert_eq!(relay.delete_item(&ids[0]).await.status(), 204);

    // Upload sessions: one committed part by part, one left open, one dropped.
    let uploads = relay.uploads();
    let file = sealed(&relay.recipient, 700_000);
    let committed = uploads.open("tip").await;
    let half = file.len() / 2;
    uploads.append(&committed.upload, 0, &file[..half]).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    uploads
        .append(&committed.upload, half as u64, &file[half..])
        .await;
    assert_eq!(uploads.commit(&committed.upload).await.status(), 201);
    let open = uploads.open("message").await;
    uploads.append(&open.upload, 0, &file[..half]).await;
    let dropped = uploads.open("tip").await;
    uploads.append(&dropped.upload, 0, &file[..half]).await;
    assert_eq!(uploads.delete(&dropped.upload).await, 204);
    assert_eq!(relay.inbox().await.items.len(), 3);

    let after = walk(&root);
    assert_eq!(
        after.keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>(),
        "no file or folder comes or goes with tips"
    );
    for (path, times) in &after {
        if is_database_file(path) {
            continue;
        }
        assert!(
            times.created <= started && times.modified <= started && times.changed <= started,
            "{} changed after the relay started: {times:?}",
            path.display()
        );
        if !times.folder {
            // (Listing a folder, as this test does, reads it.)
            assert!(times.accessed <= started, "{} read", path.display());
        }
    }
    assert!(!root.join("data/blobs").exists());
    no_finer_time_than_the_hour(&root.join("data/relay.db"));

    // A tip whose bytes fill a slot of the chunk file, sent half way between
    // two ticks: once the next tick has passed, the file's times are the
    // tick's, not the tip's.
    let chunk_file = root.join("data/relay.db-chunks");
    let tick = sealtip_relay::store::sqlite::TICK_SECS as f64;
    let offset = |time: SystemTime| time.duration_since(UNIX_EPOCH).unwrap().as_secs_f64() % tick;
    let now = offset(SystemTime::now());
    tokio::time::sleep(Duration::from_secs_f64((tick * 1.5 - now) % tick)).await;
    let before_tip = times(&chunk_file).modified;
    let response = relay
        .post_tip("demo", sealed(&relay.recipient, 600_000))
        .await;
    assert_eq!(response.status(), 201);
    let written = times(&chunk_file);
    assert!(
        written.modified > before_tip,
        "the tip's bytes are in the chunk file"
    );
    // Some time after the first tick once the tip is answered (a tick may
    // come late on a loaded machine), the times are that tick's or later.
    let answered = SystemTime::now();
    let next_tick = answered + Duration::from_secs_f64(tick - offset(answered));
    tokio::time::sleep(Duration::from_secs_f64(tick - offset(answered) + 4.0)).await;
    let ticked = times(&chunk_file);
    for (what, time) in [("modified", ticked.modified), ("changed", ticked.changed)] {
        assert!(
            time >= next_tick - Duration::from_millis(50),
            "the chunk file's {what} time moved to the tick after the tip"
        );
        // (The kernel stamps a change with a clock that may lag by a few
        // milliseconds: just before a tick counts as on it.)
        let past = offset(time + Duration::from_millis(50)) - 0.05;
        assert!(
            past < 3.5,
            "the chunk file's {what} time is {past:.3} s past a tick"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blob_files_of_an_earlier_relay_move_into_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let (database, blobs) = (dir.path().join("relay.db"), dir.path().join("blobs"));
    // The tables, as an earlier relay left them (the new ones come on open).
    drop(SqliteStore::open(&database, &blobs).unwrap());
    assert!(!blobs.exists(), "a new relay makes no blob folder");
    let hour = sealtip_relay::time::this_hour();
    let (item, session, session_blob) = ("a1".repeat(16), "b2".repeat(16), "c3".repeat(16));
    let item_bytes = bytes(600_000, 1);
    let acknowledged = bytes(300_000, 2);
    let conn = rusqlite::Connection::open(&database).unwrap();
    conn.execute(
        "INSERT INTO items (id, agency, kind, size, received) VALUES (?1, 'demo', 'tip', ?2, ?3)",
        rusqlite::params![item, item_bytes.len(), hour],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO sessions (id, blob, agency, kind, received, header_len, expires)
         VALUES (?1, ?2, 'demo', 'message', ?3, 7, ?4)",
        rusqlite::params![session, session_blob, acknowledged.len(), hour + 86_400],
    )
    .unwrap();
    drop(conn);
    std::fs::create_dir(&blobs).unwrap();
    std::fs::write(blobs.join(&item), &item_bytes).unwrap();
    // A session's file with the start of a part never acknowledged.
    let mut session_file = acknowledged.clone();
    session_file.extend_from_slice(b"unacknowledged");
    std::fs::write(blobs.join(format!("{session_blob}.session")), session_file).unwrap();
    // Leftovers: an upload cut short, a blob with no row.
    std::fs::write(blobs.join(format!("{}.part", "d4".repeat(16))), b"cut").unwrap();
    std::fs::write(blobs.join("e5".repeat(16)), b"orphan").unwrap();

    let store = SqliteStore::open(&database, &blobs).unwrap();
    assert!(!blobs.exists(), "the files and their folder are gone");
    let inbox = store.inbox("demo").await.unwrap();
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].id, item);
    assert_eq!(read(&store, &item).await, item_bytes);
    let kept = store.session(&session).await.unwrap().unwrap();
    assert_eq!(
        (kept.received, kept.header_len),
        (acknowledged.len() as u64, Some(7))
    );
    // The session goes on where it stood, and its item is whole.
    let rest = bytes(400_000, 3);
    let mut part = store
        .begin_part(&session, kept.received)
        .await
        .unwrap()
        .unwrap();
    part.write(&rest).await.unwrap();
    store.append(part, None, hour + 86_400).await.unwrap();
    let total = kept.received + rest.len() as u64;
    let meta = store
        .commit_session(&session, total, 1000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(meta.place, Place::Inbox(ItemKind::Message));
    let mut whole = acknowledged;
    whole.extend_from_slice(&rest);
    assert_eq!(read(&store, &meta.id).await, whole);
    let tag = SpentTag {
        tag: [1; 16],
        expires: sealtip_relay::time::now() + 600,
    };
    assert!(store.spend(tag).await.unwrap());
    drop(store);
    // Opened again, nothing moves twice.
    let again = SqliteStore::open(&database, &blobs).unwrap();
    assert_eq!(again.inbox("demo").await.unwrap().len(), 2);
    assert_eq!(read(&again, &item).await, item_bytes);
}

/// A file's times, as statx gives them.
#[derive(Debug)]
struct Times {
    created: SystemTime,
    modified: SystemTime,
    accessed: SystemTime,
    /// The inode's change time (ctime).
    changed: SystemTime,
    folder: bool,
}

/// Every file and folder under `root` (with `root` itself) and its times.
fn walk(root: &Path) -> BTreeMap<PathBuf, Times> {
    let mut all = BTreeMap::new();
    let mut folders = vec![root.to_path_buf()];
    while let Some(folder) = folders.pop() {
        all.insert(folder.clone(), times(&folder));
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else {
                all.insert(path.clone(), times(&path));
            }
        }
    }
    all
}

fn times(path: &Path) -> Times {
    let meta = std::fs::symlink_metadata(path).unwrap();
    let changed = UNIX_EPOCH
        + Duration::from_secs(meta.ctime() as u64)
        + Duration::from_nanos(meta.ctime_nsec() as u64);
    Times {
        // Not every file system keeps a birth time; the change time is
        // never earlier.
        created: meta.created().unwrap_or(changed),
        modified: meta.modified().unwrap(),
        accessed: meta.accessed().unwrap(),
        changed,
        folder: meta.is_dir(),
    }
}

fn is_database_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|name| name.to_str())
        .is_some_and(|name| DATABASE_FILES.contains(&name))
}

/// Every integer the database holds that could be a time (a Unix second
/// between 2001 and 2100) is on the hour.
fn no_finer_time_than_the_hour(database: &Path) {
    let conn = rusqlite::Connection::open(database).unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(tables.contains(&"chunks".to_owned()), "{tables:?}");
    let mut checked = 0;
    for table in tables {
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{table}\"")).unwrap();
        let columns = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            for column in 0..columns {
                if let Ok(value) = row.get::<_, i64>(column) {
                    checked += 1;
                    if (1_000_000_000..4_102_444_800).contains(&value) {
                        assert_eq!(value % 3600, 0, "{table} column {column}: {value}");
                    }
                }
            }
        }
    }
    assert!(checked > 10, "checked {checked} values");
}

fn bytes(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31) ^ seed)
        .collect()
}

async fn read(store: &SqliteStore, id: &str) -> Vec<u8> {
    let (_, mut reader) = store
        .open("demo", &Place::Inbox(ItemKind::Tip), id)
        .await
        .unwrap()
        .unwrap();
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes).await.unwrap();
    bytes
}
