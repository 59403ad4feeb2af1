-- Up Migration

-- Two login roles for `serve` and `worker`, members of the group role selfmx_app that holds
-- every privilege (members INHERIT by default, including the default privileges that later
-- migrations' tables get). A password rotation sets the new password on the member not in use
-- and moves the service to it, so the running tasks' member keeps its password until they stop:
-- no connection is ever refused (docs/operations.md, "Rotating credentials").
-- Both cannot log in until `selfmx migrate` runs with APP_DB_USER and APP_DB_PASSWORD.
-- Roles belong to the whole server: another database on it may have created them already.
DO $$
BEGIN
  CREATE ROLE selfmx_app_a NOLOGIN;
EXCEPTION
  WHEN duplicate_object OR unique_violation THEN NULL;
END
$$;

DO $$
BEGIN
  CREATE ROLE selfmx_app_b NOLOGIN;
EXCEPTION
  WHEN duplicate_object OR unique_violation THEN NULL;
END
$$;

GRANT selfmx_app TO selfmx_app_a;
GRANT selfmx_app TO selfmx_app_b;

-- Down Migration

DO $$
BEGIN
  -- Kept while another database on the server still grants selfmx_app something: its app may
  -- be logged in as one of them.
  IF EXISTS (
    SELECT 1
      FROM pg_shdepend d
      JOIN pg_database db ON db.oid = d.dbid
     WHERE d.refclassid = 'pg_authid'::regclass
       AND d.refobjid = 'selfmx_app'::regrole
       AND db.datname <> current_database()
  ) THEN
    RAISE NOTICE 'roles selfmx_app_a and selfmx_app_b are kept: another database still uses selfmx_app';
  ELSE
    DROP ROLE IF EXISTS selfmx_app_a;
    DROP ROLE IF EXISTS selfmx_app_b;
  END IF;
END
$$;
