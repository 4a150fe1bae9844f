-- Adds or replaces (by id) assets of kind $1, given as column arrays of equal length with
-- distinct ids. An id that belongs to another kind is left alone (the row is not returned, and
-- the caller rolls back and says which id).
-- $2 ids, $3 names, $4 districts, $5 units, $6 properties (jsonb), $7 geometries (WKB, EPSG:4326)
INSERT INTO assets (id, kind, name, district, unit, properties, geom)
SELECT a.id, $1::text, a.name, a.district, a.unit, a.properties, ST_GeomFromWKB(a.wkb, 4326)
FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::bytea[])
  WITH ORDINALITY AS a (id, name, district, unit, properties, wkb, ord)
ORDER BY a.ord
ON CONFLICT (id) DO UPDATE SET
  name = EXCLUDED.name,
  district = EXCLUDED.district,
  unit = EXCLUDED.unit,
  properties = EXCLUDED.properties,
  geom = EXCLUDED.geom
WHERE assets.kind = EXCLUDED.kind
