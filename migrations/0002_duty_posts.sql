-- civmap's PostGIS schema, version 2: duty posts at intersections (包路口) and their audit trail,
-- as the GeoPackage keeps them (civmap_duty_posts, civmap_duty_post_changes): each post is one
-- JSON record (unit, intersections, time windows, from/to dates, ended_at). The unit and the
-- intersections are also columns, for analysts' SQL.

CREATE TABLE duty_posts (
  id bigserial PRIMARY KEY,
  record jsonb NOT NULL,
  updated_at timestamptz NOT NULL,
  unit text GENERATED ALWAYS AS (record ->> 'unit') STORED,
  intersections jsonb GENERATED ALWAYS AS (record -> 'intersections') STORED,
  ended boolean GENERATED ALWAYS AS (record ->> 'ended_at' IS NOT NULL) STORED
);

CREATE TABLE duty_post_changes (
  id bigserial PRIMARY KEY,
  post_id bigint NOT NULL REFERENCES duty_posts (id),
  at timestamptz NOT NULL,
  actor text NOT NULL,
  action text NOT NULL,
  record jsonb NOT NULL
);
CREATE INDEX duty_post_changes_post ON duty_post_changes (post_id);
