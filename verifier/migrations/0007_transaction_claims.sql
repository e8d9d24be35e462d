-- intyg-verifier schema 7: a response takes its transaction by setting
-- `claimed` (one small UPDATE), not by rewriting the record; the outcome
-- is then written once, from the claimed row. (A record an earlier
-- version left with `"processing": true` is refused as a replay by the
-- record itself.)

ALTER TABLE verifier_transactions ADD COLUMN claimed boolean NOT NULL DEFAULT false;
