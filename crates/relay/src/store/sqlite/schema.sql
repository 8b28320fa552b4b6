-- The SQLite schema, applied at every open (each statement is idempotent).
-- No column holds a time finer than the hour, and no table an arrival order
-- beyond the rowid the inbox is listed by.
-- Pages of 16 KiB: few per chunk of sealed bytes, while a commit of small
-- rows stays small (64 KiB pages halved the tips per second). Set before
-- the first table, it applies to a new database only.
PRAGMA page_size = 16384;
PRAGMA journal_mode = WAL;
CREATE TABLE IF NOT EXISTS items (
    id TEXT PRIMARY KEY NOT NULL,
    agency TEXT NOT NULL,
    kind TEXT NOT NULL,          -- tip, message, case or reply
    mailbox TEXT,                -- replies only
    size INTEGER NOT NULL,
    received INTEGER NOT NULL    -- Unix seconds, a multiple of 3600
);
CREATE INDEX IF NOT EXISTS items_by_place ON items (agency, kind, mailbox);
-- Finds the replies past their retention without reading every item.
CREATE INDEX IF NOT EXISTS replies_by_hour ON items (received) WHERE kind = 'reply';
-- Kept in tag order (random) with expiries rounded up to the hour, so
-- that it reveals neither when a proof was spent nor in what order.
CREATE TABLE IF NOT EXISTS spent (
    tag BLOB PRIMARY KEY NOT NULL,
    expires INTEGER NOT NULL
) WITHOUT ROWID;
-- Upload sessions, likewise in id order, with expiries on the hour.
-- Their bytes are the chunks of `blob`, the id the item will have.
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY NOT NULL,
    blob TEXT NOT NULL,
    agency TEXT NOT NULL,
    kind TEXT NOT NULL,          -- tip or message
    received INTEGER NOT NULL,
    header_len INTEGER,
    expires INTEGER NOT NULL     -- Unix seconds, a multiple of 3600
) WITHOUT ROWID;
-- The sealed bytes of items and sessions: the bytes of blob `blob` from
-- byte `start` on, either in `data` (less than CHUNK_BYTES: an item's or a
-- part's last bytes; or from a relay before the chunk file) or, with `data`
-- empty, CHUNK_BYTES of them in slot `slot` of the chunk file
-- (relay.db-chunks, slots.rs). A database from before the chunk file has
-- the column added at open (migration.rs).
CREATE TABLE IF NOT EXISTS chunks (
    blob TEXT NOT NULL,
    start INTEGER NOT NULL,
    data BLOB NOT NULL,
    slot INTEGER,
    PRIMARY KEY (blob, start)
);
-- No two rows name one slot; the slots named are read at open.
CREATE UNIQUE INDEX IF NOT EXISTS chunks_by_slot ON chunks (slot) WHERE slot IS NOT NULL;
-- Items and bytes per agency and kind, kept by the triggers below, so that
-- what each agency holds (checked before every proof is spent) is read
-- without reading every item. Counts only; filled again from `items` at
-- every open (recovery.rs).
CREATE TABLE IF NOT EXISTS totals (
    agency TEXT NOT NULL,
    kind TEXT NOT NULL,
    items INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    PRIMARY KEY (agency, kind)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS totals_item_added AFTER INSERT ON items BEGIN
    INSERT INTO totals (agency, kind, items, bytes) VALUES (NEW.agency, NEW.kind, 1, NEW.size)
    ON CONFLICT (agency, kind) DO UPDATE SET items = items + 1, bytes = bytes + NEW.size;
END;
CREATE TRIGGER IF NOT EXISTS totals_item_removed AFTER DELETE ON items BEGIN
    UPDATE totals SET items = items - 1, bytes = bytes - OLD.size
    WHERE agency = OLD.agency AND kind = OLD.kind;
END;
-- Written on a fixed wall-clock grid (see committer.rs), so that the
-- database files' times show the grid, not when a tip came.
CREATE TABLE IF NOT EXISTS tick (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    flip INTEGER NOT NULL
);
INSERT OR IGNORE INTO tick (one, flip) VALUES (1, 0);
