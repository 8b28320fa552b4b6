-- The SQLite schema, applied at every open (each statement is idempotent).
PRAGMA journal_mode = WAL;
CREATE TABLE IF NOT EXISTS items (
    id TEXT PRIMARY KEY NOT NULL,
    agency TEXT NOT NULL,
    kind TEXT NOT NULL,          -- tip, message or reply
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
-- Their bytes are in BLOBS/<blob>.session.
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY NOT NULL,
    blob TEXT NOT NULL,
    agency TEXT NOT NULL,
    kind TEXT NOT NULL,          -- tip or message
    received INTEGER NOT NULL,
    header_len INTEGER,
    expires INTEGER NOT NULL     -- Unix seconds, a multiple of 3600
) WITHOUT ROWID;
