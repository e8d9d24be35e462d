-- intyg-verifier schema 6: the OpenID Provider bridge's authorization codes
-- and access tokens, keyed by the SHA-256 of the value; a code is taken by
-- one DELETE .. RETURNING.

CREATE TABLE verifier_oidc_grants (
    key text PRIMARY KEY,
    expires_at bigint NOT NULL,
    record text NOT NULL
);
