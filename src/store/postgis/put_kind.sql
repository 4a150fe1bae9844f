-- Adds or replaces a kind; a new kind goes last in the catalogue.
-- $1 kind, $2 name_zh, $3 name_en, $4 geometry_type, $5 colour, $6 priority, $7 snap_radius_m
INSERT INTO kinds (kind, name_zh, name_en, geometry_type, colour, priority, snap_radius_m, position)
VALUES ($1, $2, $3, $4, $5, $6, $7, (SELECT count(*)::integer FROM kinds))
ON CONFLICT (kind) DO UPDATE SET
  name_zh = EXCLUDED.name_zh,
  name_en = EXCLUDED.name_en,
  geometry_type = EXCLUDED.geometry_type,
  colour = EXCLUDED.colour,
  priority = EXCLUDED.priority,
  snap_radius_m = EXCLUDED.snap_radius_m
