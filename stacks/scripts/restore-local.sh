#!/usr/bin/env bash
# Restores a `pg_dump -Fc` backup into a deployed selfmx-local environment:
#   npm run restore -- <env> <backup file on this host>
# Stops the app and the backup container, restores into the running PostgreSQL container
# (objects in the backup are dropped and recreated, in one transaction), runs the release's
# migration job, then starts the app and waits until it is healthy, and restarts the backups.
# DOCKER names the docker CLI (default: docker).
set -euo pipefail

docker="${DOCKER:-docker}"
fail() {
  echo "restore-local: $*" >&2
  exit 1
}

[ "$#" -eq 2 ] || fail "usage: npm run restore -- <env> <backup file>   (e.g. dev ./selfmx-20250101T000000Z.dump)"
env="$1"
file="$2"
[ -r "$file" ] && [ -f "$file" ] || fail "$file: not a readable file (a backup from the backups volume or SELFMX_BACKUP_DIR)"

postgres="$env-selfmx-postgres"
app="$env-selfmx-app"
migrate="$env-selfmx-migrate"
backup="$env-selfmx-backup"
for container in "$postgres" "$app" "$migrate"; do
  "$docker" container inspect "$container" >/dev/null 2>&1 ||
    fail "no container $container: deploy the environment $env first (SELFMX_ENV=$env npx cdktf deploy selfmx-local)"
done

container_env() {
  "$docker" container inspect --format '{{range .Config.Env}}{{println .}}{{end}}' "$postgres" |
    sed -n "s/^$1=//p"
}
user="$(container_env POSTGRES_USER)"
database="$(container_env POSTGRES_DB)"

echo "restore-local: stopping $app and $backup"
"$docker" stop "$app" >/dev/null
"$docker" stop "$backup" >/dev/null 2>&1 || true
trap 'echo "restore-local: failed; $app is stopped: fix the cause and run the restore again, or start it as it was with: docker start $app $backup" >&2' ERR

echo "restore-local: restoring $file into $database on $postgres"
"$docker" exec -i "$postgres" pg_restore --clean --if-exists --no-owner --single-transaction \
  --exit-on-error --username="$user" --dbname="$database" <"$file"

echo "restore-local: running the migration job $migrate"
"$docker" start --attach "$migrate"

echo "restore-local: starting $app"
"$docker" start "$app" >/dev/null
for _ in $(seq 1 120); do
  status="$("$docker" container inspect --format '{{.State.Health.Status}}' "$app")"
  [ "$status" = healthy ] && break
  [ "$status" = unhealthy ] && fail "$app is unhealthy after the restore: docker logs $app"
  sleep 1
done
[ "$status" = healthy ] || fail "$app did not become healthy within 120 s: docker logs $app"
"$docker" start "$backup" >/dev/null 2>&1 || true
trap - ERR
echo "restore-local: done; $app serves the restored database"
