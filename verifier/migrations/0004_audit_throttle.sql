-- Sign-in throttling with growing delays (intyg_service::session::throttle)
-- replaces the per-username lockout.
CREATE TABLE verifier_portal_throttle (
    key text PRIMARY KEY,
    failures integer NOT NULL,
    blocked_until bigint NOT NULL,
    last bigint NOT NULL,
    forgive_seconds bigint NOT NULL
);

DROP TABLE verifier_portal_attempts;
