-- civmap's PostGIS schema, version 3: the civmap_reports notifications (one per filed or changed
-- report, payload its id) come from statement-level triggers over the statement's transition
-- table instead of a row-level trigger: the same notifications, one trigger call per statement,
-- which matters when the group committer files hundreds of reports in one INSERT.

DROP TRIGGER reports_notify ON reports;
DROP FUNCTION civmap_notify_report();

CREATE FUNCTION civmap_notify_reports() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('civmap_reports', changed.id::text) FROM changed_reports AS changed;
  RETURN NULL;
END
$$;
CREATE TRIGGER reports_notify_insert AFTER INSERT ON reports
  REFERENCING NEW TABLE AS changed_reports
  FOR EACH STATEMENT EXECUTE FUNCTION civmap_notify_reports();
CREATE TRIGGER reports_notify_update AFTER UPDATE ON reports
  REFERENCING NEW TABLE AS changed_reports
  FOR EACH STATEMENT EXECUTE FUNCTION civmap_notify_reports();
