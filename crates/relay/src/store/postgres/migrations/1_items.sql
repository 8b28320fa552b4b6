-- Version 1: items, their chunks, unfinished uploads, spent tags, inbox counters.
CREATE TABLE items (
    seq BIGINT GENERATED ALWAYS AS IDENTITY,
    id TEXT PRIMARY KEY,
    agency TEXT NOT NULL,
    kind TEXT NOT NULL,          -- tip, message or reply
    mailbox TEXT,                -- replies only
    size BIGINT NOT NULL,
    received BIGINT NOT NULL     -- Unix seconds, a multiple of 3600
);
CREATE INDEX items_by_place ON items (agency, kind, mailbox, seq);
CREATE TABLE chunks (
    blob TEXT NOT NULL,
    n INTEGER NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (blob, n)
);
-- Ciphertext does not compress: do not try.
ALTER TABLE chunks ALTER COLUMN data SET STORAGE EXTERNAL;
-- Blobs being received, with the hour they started.
CREATE TABLE uploads (
    id TEXT PRIMARY KEY,
    started BIGINT NOT NULL
);
-- Expiries rounded up to the hour, so they do not tell when a proof was spent.
CREATE TABLE spent (
    tag BYTEA PRIMARY KEY,
    expires BIGINT NOT NULL
);
CREATE TABLE inbox_counts (
    agency TEXT NOT NULL,
    shard SMALLINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (agency, shard)
);
