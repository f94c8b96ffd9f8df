-- The JWT revocation blocklist (src/security/revoke.c): the jti of every
-- token logged out before it expired, and that expiry (Unix seconds).  An
-- entry is useless once exp has passed (the token is refused as expired
-- anyway), so keel_revoke_purge deletes by the exp index.
CREATE TABLE keel_revoked_tokens (
    jti TEXT PRIMARY KEY,
    exp BIGINT NOT NULL
);
CREATE INDEX keel_revoked_tokens_exp ON keel_revoked_tokens (exp);
