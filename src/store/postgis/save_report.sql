-- Writes a report's new state if its stored status is still the expected one, and its audit
-- entry in the same statement (so the same transaction). Answers the number of reports
-- written: 0 means the status changed meanwhile (or there is no such report) and nothing was.
-- $1 id, $2 expected status, $3 status, $4 asset_id, $5 asset_kind, $6 asset_name,
-- $7 distance_m, $8 matched_unit, $9 unit, $10 district, $11 deadline_at, $12 permitted_zone,
-- $13 duplicate_of, $14 close_reason, $15 updated_at, $16 closed_at,
-- $17 whether there is an audit entry, $18 at, $19 actor, $20 from_status, $21 to_status,
-- $22 unit, $23 deadline_at, $24 note, $25 reason, $26 photos (jsonb)
WITH updated AS (
  UPDATE reports SET
    status = $3, asset_id = $4, asset_kind = $5, asset_name = $6, distance_m = $7,
    matched_unit = $8, unit = $9, district = $10, deadline_at = $11, permitted_zone = $12,
    duplicate_of = $13, close_reason = $14, updated_at = $15, closed_at = $16
  WHERE id = $1 AND status = $2
  RETURNING id
),
audit AS (
  INSERT INTO report_transitions
    (report_id, at, actor, from_status, to_status, unit, deadline_at, note, reason, photos)
  SELECT u.id, $18::timestamptz, $19::text, $20::text, $21::text, $22::text, $23::timestamptz,
         $24::text, $25::text, $26::jsonb
  FROM updated u
  WHERE $17::boolean
  RETURNING id
)
SELECT count(*) FROM updated
