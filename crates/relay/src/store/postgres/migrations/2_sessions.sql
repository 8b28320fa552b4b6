-- Upload sessions; their bytes are the chunks of `blob`, the item's id to be.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    blob TEXT NOT NULL UNIQUE,
    agency TEXT NOT NULL,
    kind TEXT NOT NULL,          -- tip or message
    received BIGINT NOT NULL DEFAULT 0,
    header_len BIGINT,
    chunks INTEGER NOT NULL DEFAULT 0,
    expires BIGINT NOT NULL      -- Unix seconds, a multiple of 3600
);
CREATE INDEX sessions_by_expiry ON sessions (expires);
