-- Positions on the reference `since` cursor (see felund-relay's store::since_pos): every message
-- gets `pos`, at least its stored_at and two above the previous message of its circle
-- (pos_i = max over j <= i of stored_at_j + 2 (i - j)); circle_clock keeps each circle's next
-- position. Positions are never below stored_at, so a client cursor taken before this version
-- loses nothing. No default: an instance of an older version (which would store pos 0, below
-- every cursor) fails its inserts instead of hiding messages from `since` readers.
ALTER TABLE relay_messages ADD COLUMN pos BIGINT NOT NULL DEFAULT 0;
UPDATE relay_messages m SET pos = p.pos
FROM (SELECT seq, 2 * rn + MAX(stored_at - 2 * rn) OVER (
                 PARTITION BY circle_hint ORDER BY seq ROWS UNBOUNDED PRECEDING) AS pos
      FROM (SELECT seq, circle_hint, stored_at,
                   ROW_NUMBER() OVER (PARTITION BY circle_hint ORDER BY seq) AS rn
            FROM relay_messages) numbered) p
WHERE p.seq = m.seq;
ALTER TABLE relay_messages ALTER COLUMN pos DROP DEFAULT;
CREATE INDEX idx_rmsg_pos ON relay_messages (circle_hint, pos);
CREATE TABLE circle_clock (
    circle_hint TEXT   PRIMARY KEY,
    next_pos    BIGINT NOT NULL
);
INSERT INTO circle_clock (circle_hint, next_pos)
    SELECT circle_hint, MAX(pos) + 2 FROM relay_messages GROUP BY circle_hint;
