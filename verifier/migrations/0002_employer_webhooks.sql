-- intyg-verifier schema 2: webhook subscriptions and the delivery outbox.
-- A delivery's state, due time and lease are columns so that one
-- UPDATE .. FOR UPDATE SKIP LOCKED hands each due delivery to one instance.

CREATE TABLE verifier_webhook_subscriptions (
    id text PRIMARY KEY,
    record text NOT NULL
);

CREATE TABLE verifier_webhook_deliveries (
    id text PRIMARY KEY,
    state text NOT NULL,
    next_attempt_at bigint NOT NULL,
    leased_until bigint NOT NULL,
    record text NOT NULL
);
CREATE INDEX verifier_webhook_deliveries_due ON verifier_webhook_deliveries (next_attempt_at)
    WHERE state = 'pending';
CREATE INDEX verifier_webhook_deliveries_state ON verifier_webhook_deliveries (state);
