-- The hash-chained audit trail (intyg_service::audit): one row per entry,
-- the entry's JSON as hashed; rows are only ever inserted.
CREATE TABLE verifier_audit (
    seq bigint PRIMARY KEY,
    subject text,
    entry text NOT NULL
);

CREATE INDEX verifier_audit_subject ON verifier_audit (subject) WHERE subject IS NOT NULL;
