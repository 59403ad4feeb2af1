-- Up Migration

-- The least-privilege role that `serve` and `worker` connect as: it reads and writes rows but
-- cannot change the schema. It cannot log in until `selfmx migrate` runs with APP_DB_PASSWORD.
-- Roles belong to the whole server: another database on it may have created this one already,
-- possibly at this very moment (then CREATE ROLE fails with unique_violation).
DO $$
BEGIN
  CREATE ROLE selfmx_app NOLOGIN;
EXCEPTION
  WHEN duplicate_object OR unique_violation THEN NULL;
END
$$;

DO $$
BEGIN
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO selfmx_app', current_database());
END
$$;

-- No DDL: PostgreSQL 15 already withholds CREATE on public from PUBLIC, but a database upgraded
-- from an older version keeps the old grant.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO selfmx_app;

GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO selfmx_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO selfmx_app;
-- The migration ledger is read (DB_AUTO_MIGRATE=false verifies it), never written, by the app.
REVOKE INSERT, UPDATE, DELETE ON pgmigrations FROM selfmx_app;
REVOKE INSERT, UPDATE, DELETE ON selfmx_migration_checksums FROM selfmx_app;

-- Tables and sequences that later migrations create (as the migrating role) get the same grants.
ALTER DEFAULT PRIVILEGES IN SCHEMA public
  GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO selfmx_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
  GRANT USAGE, SELECT ON SEQUENCES TO selfmx_app;

-- Down Migration

ALTER DEFAULT PRIVILEGES IN SCHEMA public
  REVOKE USAGE, SELECT ON SEQUENCES FROM selfmx_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
  REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM selfmx_app;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM selfmx_app;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM selfmx_app;
REVOKE USAGE ON SCHEMA public FROM selfmx_app;
-- CREATE on public stays withheld from PUBLIC: PostgreSQL 15's own default.

DO $$
BEGIN
  EXECUTE format('REVOKE CONNECT ON DATABASE %I FROM selfmx_app', current_database());
END
$$;

DO $$
BEGIN
  -- Kept when another database on the server still grants it something.
  DROP ROLE selfmx_app;
EXCEPTION
  WHEN dependent_objects_still_exist THEN
    RAISE NOTICE 'role selfmx_app is kept: another database still grants it privileges';
END
$$;
