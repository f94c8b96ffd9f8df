-- Server-side sessions (src/security/session.c).  id_hash is the SHA-256
-- of the 256-bit session id in lowercase hex: the id itself is never
-- stored.  data is a JSON object of string values.  Times are Unix
-- seconds; expires_at is the earlier of the idle and absolute deadlines
-- as of the last write, indexed so keel_session_purge is a range delete.
CREATE TABLE keel_sessions (
    id_hash TEXT PRIMARY KEY,
    data TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX keel_sessions_expires_at ON keel_sessions (expires_at);
