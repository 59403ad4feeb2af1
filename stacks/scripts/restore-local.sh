#!/usr/bin/env bash
# Restores a `pg_dump -Fc` backup into a deployed selfmx-local environment:
#   npm run restore -- <env> <backup file on this host>
# Stops the app and the backup container, restores into the running PostgreSQL container
# (objects in the backup are dropped and recreated, in one transaction), runs the release's
# migration job of the release that serves, then starts the app and waits until it is healthy,
# and restarts the backups. The app and the job are found by their labels.
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
backup="$env-selfmx-backup"
"$docker" container inspect "$postgres" >/dev/null 2>&1 ||
  fail "no container $postgres: deploy the environment $env first (SELFMX_ENV=$env npx cdktf deploy selfmx-local)"
# The app and the migration job are named after their release: find them by their labels.
labelled() {
  "$docker" ps "$@" --filter "label=selfmx.env=$env" --format '{{.Names}}'
}
app="$(labelled --filter label=selfmx.role=app --filter health=healthy)"
[ -n "$app" ] && [ "$(printf '%s\n' "$app" | wc -l)" -eq 1 ] ||
  fail "expected one healthy app container of $env (found: ${app:-none}): deploy until one release serves, then restore"
release="$("$docker" container inspect --format '{{index .Config.Labels "selfmx.release"}}' "$app")"
migrate="$(labelled -a --filter label=selfmx.role=migrate --filter "label=selfmx.release=$release" | head -n 1)"
[ -n "$migrate" ] || fail "no migration job container of release $release: deploy the environment $env again"

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
