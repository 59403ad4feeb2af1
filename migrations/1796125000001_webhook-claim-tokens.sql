-- Up Migration

SET lock_timeout = '5s';

-- The claim that holds an event. A webhook worker claims several due events of one endpoint at
-- once and sends them one after another: they share this token, and the per-endpoint bound
-- (WEBHOOK_ENDPOINT_CONCURRENCY) counts tokens, i.e. requests that can be in flight, not rows.
-- An outcome is recorded only under the token that claimed it, so a replay or a reclaim in
-- between wins. NULL for an event no claim holds (and for claims made before this column).
ALTER TABLE webhook_events ADD COLUMN claim_token uuid;

-- Down Migration

ALTER TABLE webhook_events DROP COLUMN claim_token;
