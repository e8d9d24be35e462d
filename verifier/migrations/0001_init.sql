-- intyg-verifier schema 1. Records are the JSON of the Rust types (text, so
-- a compare-and-swap compares exactly what was read, as on sled); columns
-- beside them are what queries select on.

CREATE TABLE verifier_transactions (
    id text PRIMARY KEY,
    -- Completed with verified claims still held: what retention deletes.
    claims_completed_at bigint,
    record text NOT NULL
);
CREATE INDEX verifier_transactions_claims ON verifier_transactions (claims_completed_at)
    WHERE claims_completed_at IS NOT NULL;

CREATE TABLE verifier_consents (
    transaction_id text PRIMARY KEY,
    record text NOT NULL
);

CREATE TABLE verifier_postings (
    id text PRIMARY KEY,
    record text NOT NULL
);

CREATE TABLE verifier_applications (
    posting_id text NOT NULL,
    transaction_id text NOT NULL,
    record text NOT NULL,
    PRIMARY KEY (posting_id, transaction_id)
);

CREATE TABLE verifier_portal_sessions (
    key text PRIMARY KEY,
    username text NOT NULL,
    name text NOT NULL,
    csrf text NOT NULL,
    expires_at bigint NOT NULL,
    data text NOT NULL
);

CREATE TABLE verifier_portal_attempts (
    username text PRIMARY KEY,
    count integer NOT NULL,
    locked_until bigint NOT NULL,
    last bigint NOT NULL
);
