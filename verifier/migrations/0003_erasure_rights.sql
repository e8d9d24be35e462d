-- intyg-verifier schema 3: erasure on request.
-- Single-use erasure request `jti`s; per-transaction keys of personal
-- data (deleting a row is what erases the data: the records hold only
-- ciphertext); transactions whose erasure is under way.

CREATE TABLE verifier_replay (
    key text PRIMARY KEY,
    expires_at bigint NOT NULL
);
CREATE INDEX verifier_replay_expiry ON verifier_replay (expires_at);

CREATE TABLE verifier_transaction_keys (
    transaction_id text PRIMARY KEY,
    key bytea NOT NULL
);

ALTER TABLE verifier_transactions ADD COLUMN erasure_pending boolean NOT NULL DEFAULT false;
CREATE INDEX verifier_transactions_erasure ON verifier_transactions (erasure_pending)
    WHERE erasure_pending;
