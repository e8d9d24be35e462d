-- intyg-issuer schema 1. Records are the JSON of the Rust types (text, so
-- a compare-and-swap compares exactly what was read, as on sled); columns
-- beside them are what queries select on.

CREATE TABLE issuer_offers (
    id text PRIMARY KEY,
    pre_authorized_code text NOT NULL UNIQUE,
    record text NOT NULL
);

CREATE TABLE issuer_grants (
    token_hash text PRIMARY KEY,
    expires_at bigint NOT NULL,
    record text NOT NULL
);

CREATE TABLE issuer_nonces (
    nonce text PRIMARY KEY,
    expires_at bigint NOT NULL
);
CREATE INDEX issuer_nonces_expiry ON issuer_nonces (expires_at);

CREATE TABLE issuer_credentials (
    id text PRIMARY KEY,
    subject text NOT NULL,
    created_at bigint NOT NULL,
    record text NOT NULL
);
CREATE INDEX issuer_credentials_subject ON issuer_credentials (subject, created_at DESC);

CREATE TABLE issuer_persons (
    personal_identity_number text PRIMARY KEY,
    record text NOT NULL
);

-- Status list indices come from a sequence: never handed out twice, even
-- by instances allocating at the same time; a gap (an index allocated for
-- a request that then failed) stays unused.
CREATE SEQUENCE issuer_status_index AS bigint MINVALUE 0 START WITH 0;

-- Every status change takes the next number, so a list's version (its
-- highest number) tells every instance whether its signed token is stale.
CREATE SEQUENCE issuer_status_change AS bigint MINVALUE 1 START WITH 1;

CREATE TABLE issuer_status (
    idx bigint PRIMARY KEY,
    status smallint NOT NULL,
    change bigint NOT NULL
);

-- The newest signed Status List Token of each list, shared so that every
-- instance serves the same token (and ETag) for the same version.
CREATE TABLE issuer_status_tokens (
    list bigint PRIMARY KEY,
    version bigint NOT NULL,
    signed_at bigint NOT NULL,
    jwt text NOT NULL
);

CREATE TABLE issuer_authorizations (
    kind text NOT NULL,
    key text NOT NULL,
    expires_at bigint NOT NULL,
    record text NOT NULL,
    PRIMARY KEY (kind, key)
);

CREATE TABLE issuer_portal_sessions (
    key text PRIMARY KEY,
    username text NOT NULL,
    name text NOT NULL,
    csrf text NOT NULL,
    expires_at bigint NOT NULL,
    data text NOT NULL
);

CREATE TABLE issuer_portal_attempts (
    username text PRIMARY KEY,
    count integer NOT NULL,
    locked_until bigint NOT NULL,
    last bigint NOT NULL
);
