-- civmap's PostGIS schema, version 1: the kind catalogue, one assets table, inspection reports
-- with their audit trail, the counters other civmap processes watch, and the analysts' views.
-- Geometries are EPSG:4326 lon/lat (as on the wire); distances in metres come from geography.
--
-- Applied once, in a transaction, by `PostgisStore::connect` (see src/store/postgis.rs).
-- Migrations are forward-only: never edit this file once released; add 0002_....sql instead.

CREATE EXTENSION IF NOT EXISTS postgis;

-- The kind catalogue: one entry per map layer (same fields as civmap_kinds in the GeoPackage).
CREATE TABLE kinds (
  kind text PRIMARY KEY CHECK (kind ~ '^[a-z][a-z0-9_]{0,39}$'),
  name_zh text NOT NULL,
  name_en text NOT NULL,
  geometry_type text NOT NULL CHECK (geometry_type IN ('point', 'linestring', 'polygon')),
  colour text NOT NULL,
  priority integer NOT NULL,
  snap_radius_m double precision NOT NULL DEFAULT 0,
  position integer NOT NULL
);

-- Every asset of every kind. `fid` keeps insertion order (and gives GIS clients an integer key).
CREATE TABLE assets (
  id text PRIMARY KEY,
  kind text NOT NULL REFERENCES kinds (kind) ON UPDATE CASCADE,
  name text NOT NULL,
  district text,
  unit text,
  properties jsonb NOT NULL DEFAULT '{}',
  geom geometry(Geometry, 4326) NOT NULL,
  fid bigint GENERATED ALWAYS AS IDENTITY UNIQUE
);
CREATE INDEX assets_geom ON assets USING gist (geom);
CREATE INDEX assets_geog ON assets USING gist ((geom::geography));
CREATE INDEX assets_kind ON assets (kind);

-- Inspection reports (问题): same columns as civmap_reports in the GeoPackage.
CREATE TABLE reports (
  id bigserial PRIMARY KEY,
  geom geometry(Point, 4326) NOT NULL,
  category text NOT NULL,
  description text NOT NULL,
  reporter text NOT NULL,
  observed_at timestamptz NOT NULL,
  reported_at timestamptz NOT NULL,
  status text NOT NULL
    CHECK (status IN ('reported', 'assigned', 'rectified', 'verified', 'closed')),
  asset_id text,
  asset_kind text,
  asset_name text,
  distance_m double precision,
  matched_unit text,
  unit text,
  district text,
  deadline_at timestamptz,
  permitted_zone text,
  duplicate_of bigint,
  close_reason text CHECK (close_reason IN ('resolved', 'invalid', 'duplicate')),
  photos jsonb NOT NULL DEFAULT '[]',
  input_crs text NOT NULL CHECK (input_crs IN ('wgs84', 'gcj02', 'bd09')),
  input_lon double precision NOT NULL,
  input_lat double precision NOT NULL,
  updated_at timestamptz NOT NULL,
  closed_at timestamptz
);
CREATE INDEX reports_geom ON reports USING gist (geom);
CREATE INDEX reports_status ON reports (status);

-- The audit trail: every change of a report, oldest first.
CREATE TABLE report_transitions (
  id bigserial PRIMARY KEY,
  report_id bigint NOT NULL REFERENCES reports (id),
  at timestamptz NOT NULL,
  actor text NOT NULL,
  from_status text NOT NULL,
  to_status text NOT NULL,
  unit text,
  deadline_at timestamptz,
  note text,
  reason text,
  photos jsonb NOT NULL DEFAULT '[]'
);
CREATE INDEX report_transitions_report ON report_transitions (report_id);

-- Counters other processes watch: asset_version grows with every change to kinds or assets,
-- whoever makes it (civmap, `civmap import`, an analyst editing in QGIS).
CREATE TABLE civmap_meta (key text PRIMARY KEY, value bigint NOT NULL);
INSERT INTO civmap_meta VALUES ('asset_version', 0);

CREATE FUNCTION civmap_bump_asset_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE civmap_meta SET value = value + 1 WHERE key = 'asset_version';
  RETURN NULL;
END
$$;
CREATE TRIGGER kinds_bump_asset_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON kinds
  FOR EACH STATEMENT EXECUTE FUNCTION civmap_bump_asset_version();
CREATE TRIGGER assets_bump_asset_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON assets
  FOR EACH STATEMENT EXECUTE FUNCTION civmap_bump_asset_version();

-- Every civmap sharing the database LISTENs on civmap_reports: the payload is the report id,
-- delivered when the transaction that filed or changed it commits.
CREATE FUNCTION civmap_notify_report() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('civmap_reports', NEW.id::text);
  RETURN NULL;
END
$$;
CREATE TRIGGER reports_notify AFTER INSERT OR UPDATE ON reports
  FOR EACH ROW EXECUTE FUNCTION civmap_notify_report();

-- Analysts' views (read them from psql, QGIS or GDAL).

-- Problems not yet closed, with the asset they were matched to and the unit responsible now.
CREATE VIEW open_problems AS
SELECT r.id, r.category, r.status, r.unit, r.district, r.deadline_at,
       r.deadline_at IS NOT NULL AND r.deadline_at < now() AND r.status = 'assigned' AS overdue,
       r.asset_id, a.kind AS asset_kind, a.name AS asset_name, r.distance_m,
       r.description, r.reporter, r.reported_at, r.updated_at, r.geom
FROM reports r
LEFT JOIN assets a ON a.id = r.asset_id
WHERE r.status <> 'closed';

-- Problems handed to a unit whose deadline (限时整改) has passed, most overdue first.
CREATE VIEW overdue_problems AS
SELECT r.id, r.category, r.unit, r.district, r.deadline_at, now() - r.deadline_at AS overdue_by,
       r.asset_id, a.kind AS asset_kind, a.name AS asset_name,
       r.description, r.reported_at, r.geom
FROM reports r
LEFT JOIN assets a ON a.id = r.asset_id
WHERE r.status = 'assigned' AND r.deadline_at < now()
ORDER BY r.deadline_at;

-- Counts of problems by district and status (district '(none)' when no district contains it).
CREATE VIEW problems_per_district AS
SELECT coalesce(r.district, '(none)') AS district, r.status, count(*) AS problems
FROM reports r
GROUP BY 1, 2
ORDER BY 1, 2;
