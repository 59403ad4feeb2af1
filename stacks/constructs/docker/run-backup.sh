#!/bin/sh
# One backup of the SelfMX database: `pg_dump -Fc` into $BACKUP_DIR, then only the newest
# $BACKUP_KEEP are kept. A failure exits non-zero, logs a line and leaves
# $BACKUP_DIR/LAST_BACKUP_FAILED, which the backup container's healthcheck reads; the next good
# backup removes it. The connection comes from PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE.
# No dollar-brace expansions: Terraform would read them as its own interpolations.
set -u
dir="$BACKUP_DIR"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
file="$dir/selfmx-$stamp.dump"
if output=$(pg_dump --format=custom --file="$file.partial" 2>&1) && mv "$file.partial" "$file"; then
  rm -f "$dir/LAST_BACKUP_FAILED"
  printf '%s %s\n' "$stamp" "$file" >"$dir/LAST_BACKUP_OK"
  echo "selfmx-backup: ok $file"
  ls -1 "$dir"/selfmx-*.dump | sort -r | tail -n "+$(($BACKUP_KEEP + 1))" | while read -r old; do
    rm -f "$old" && echo "selfmx-backup: removed $old (keeping $BACKUP_KEEP)"
  done
else
  rm -f "$file.partial"
  printf '%s pg_dump failed: %s\n' "$stamp" "$output" >"$dir/LAST_BACKUP_FAILED"
  echo "selfmx-backup: FAILED at $stamp: $output" >&2
  exit 1
fi
