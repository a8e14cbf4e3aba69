-- Indexes the dashboard's reads use on the reporting database (PostgreSQL), for the ministry's
-- DBA. The dashboard never creates them: it only reads. Run once, after a bulk load, e.g.
--   psql "$REPORTING_DB_URL_FOR_THE_DBA" -f docs/indexes.sql
-- CONCURRENTLY keeps writers (the Hatua App, the registers) unblocked while an index builds.

-- Periods are half-open ranges on reported_at (UTC bounds of EAT dates); county pages add the
-- county. Without these, every incident query is a sequential scan of the whole table.
CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_incidents_reported_at ON incidents (reported_at);
CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_incidents_county_reported
    ON incidents (county_code, reported_at);
CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_referrals_county_referred
    ON rehab_referrals (county_code, referred_on);
CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_forums_county_held ON forums (county_code, held_on);
CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_forums_ra_held ON forums (ra_id, held_on);
CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_trainings_county_held
    ON trainings (county_code, held_on);
CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_reports_month ON ra_monthly_reports (month);

-- The serving copy (USALAMA_SERVING_COPY) fetches rows changed since its last refresh every
-- few minutes: `WHERE updated_at >= :watermark`. Without an index that is a full scan of each
-- table (about 1 s for 10 million incidents on a 2-core server); with one, milliseconds.
CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_incidents_updated_at ON incidents (updated_at);
CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_referrals_updated_at ON rehab_referrals (updated_at);
CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_forums_updated_at ON forums (updated_at);
CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_reports_updated_at ON ra_monthly_reports (updated_at);
CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_trainings_updated_at ON trainings (updated_at);

-- Weekly charts group by date_trunc('week', reported_at): the planner misestimates the groups
-- and spills the sort to disk unless it has statistics on the expression (measured: 3.2 s ->
-- 1.0 s at 10M rows). Only for deployments that read the source directly.
CREATE STATISTICS IF NOT EXISTS st_incidents_week_category
    ON (date_trunc('week', reported_at)), category FROM incidents;
ANALYZE incidents;
