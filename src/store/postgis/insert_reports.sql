-- Files a batch of reports given as column arrays of equal length, in one statement (so in one
-- transaction), and answers (position in the batch, new id) for each, ids growing with position.
-- $1 lon, $2 lat (WGS84), $3 category, $4 description, $5 reporter, $6 observed_at,
-- $7 reported_at, $8 asset_id, $9 asset_kind, $10 asset_name, $11 distance_m, $12 matched_unit,
-- $13 district, $14 permitted_zone, $15 photos (jsonb), $16 input_crs, $17 input_lon, $18 input_lat
WITH input AS (
  SELECT *
  FROM unnest($1::float8[], $2::float8[], $3::text[], $4::text[], $5::text[],
              $6::timestamptz[], $7::timestamptz[], $8::text[], $9::text[], $10::text[],
              $11::float8[], $12::text[], $13::text[], $14::text[], $15::jsonb[],
              $16::text[], $17::float8[], $18::float8[])
    WITH ORDINALITY AS r (lon, lat, category, description, reporter, observed_at, reported_at,
                          asset_id, asset_kind, asset_name, distance_m, matched_unit, district,
                          permitted_zone, photos, input_crs, input_lon, input_lat, ord)
),
numbered AS MATERIALIZED (
  SELECT nextval('reports_id_seq') AS id, input.*
  FROM input
  ORDER BY input.ord
),
inserted AS (
  INSERT INTO reports (id, geom, category, description, reporter, observed_at, reported_at,
                       status, asset_id, asset_kind, asset_name, distance_m, matched_unit, unit,
                       district, permitted_zone, photos, input_crs, input_lon, input_lat,
                       updated_at)
  SELECT n.id, ST_SetSRID(ST_MakePoint(n.lon, n.lat), 4326), n.category, n.description,
         n.reporter, n.observed_at, n.reported_at, 'reported', n.asset_id, n.asset_kind,
         n.asset_name, n.distance_m, n.matched_unit, n.matched_unit, n.district,
         n.permitted_zone, n.photos, n.input_crs, n.input_lon, n.input_lat, n.reported_at
  FROM numbered n
  ORDER BY n.id
  RETURNING id
)
SELECT n.ord, n.id FROM numbered n ORDER BY n.ord
