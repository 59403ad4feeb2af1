#!/bin/sh
# The PostgreSQL container's command, run as the postgres user. The image's entrypoint gives
# POSTGRES_USER the password POSTGRES_PASSWORD only when it initialises an empty PGDATA; a data
# volume kept across `destroy` meets a newly generated password. So on an initialised PGDATA,
# this first sets that password on a server listening on its Unix socket only (where the
# image trusts local connections), then hands over to the image's entrypoint, which starts the
# server for TCP. That first server's socket lives in PGDATA, not the default directory, so the
# healthcheck's pg_isready cannot call it ready. No dollar-brace expansions: Terraform would
# read them as its own.
set -eu
if [ -s "$PGDATA/PG_VERSION" ]; then
  pg_ctl --pgdata="$PGDATA" --options="-c listen_addresses='' -k '$PGDATA'" --wait --silent start
  # A failed statement is never logged: its text holds the password.
  psql --no-psqlrc --quiet --set=ON_ERROR_STOP=1 --host="$PGDATA" \
    --username="$POSTGRES_USER" --dbname=postgres <<'SQL'
SET log_min_error_statement = panic;
\getenv role POSTGRES_USER
\getenv password POSTGRES_PASSWORD
ALTER ROLE :"role" WITH PASSWORD :'password';
SQL
  pg_ctl --pgdata="$PGDATA" --mode=fast --wait --silent stop
  echo "selfmx-start-postgres: set the password of $POSTGRES_USER from POSTGRES_PASSWORD"
fi
exec docker-entrypoint.sh postgres
