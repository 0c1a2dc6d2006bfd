-- Presence partitioned by signing key: a registration only ever creates or refreshes the record
-- of its own key, never another key's; the registering client address is kept for the
-- one-key-per-address rule.
ALTER TABLE presence ADD COLUMN client_addr TEXT NOT NULL DEFAULT '';
ALTER TABLE presence DROP CONSTRAINT presence_pkey;
ALTER TABLE presence ADD PRIMARY KEY (circle_hint, node_id, signing_key);
DROP INDEX idx_presence_circle;
CREATE INDEX idx_presence_key ON presence (circle_hint, signing_key, observed_at);
