-- intyg-issuer schema 2: single-use identifiers (DPoP and wallet
-- attestation PoP `jti`s) remembered until they expire.

CREATE TABLE issuer_replay (
    key text PRIMARY KEY,
    expires_at bigint NOT NULL
);
CREATE INDEX issuer_replay_expiry ON issuer_replay (expires_at);
