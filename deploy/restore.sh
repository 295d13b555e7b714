#!/bin/sh
# Restore a dump made by deploy/backup.sh into a new, empty database.
#
#   deploy/restore.sh DUMP
#
# DATABASE_URL (as the app will have it) names the database to restore into. Create it first,
# empty and owned by the app's role; a database with any table, view or sequence in it is
# refused and left as it is. The restore is one transaction: all of the dump, or nothing.
# The objects belong to the role that restores (the app's), whoever owned them before. Then
# the planner's statistics are gathered (a dump has none), and the migration the dump is at
# is printed: `flask db upgrade` brings a dump of an earlier release up to this one.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
python=${BOOKING_PYTHON:-$here/../.venv/bin/python}
dump=${1:?usage: restore.sh DUMP}
if [ ! -f "$dump" ] || [ ! -r "$dump" ]; then
  echo "restore.sh: no dump to read at $dump" >&2
  exit 2
fi

libpq_environment=$("$python" "$here/pg_env.py")
eval "$libpq_environment"

pg_restore --list "$dump" >/dev/null
objects=$(psql -X -A -t -v ON_ERROR_STOP=1 -c "
  SELECT count(*) FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
    AND n.nspname NOT IN ('pg_catalog', 'information_schema')
    AND n.nspname NOT LIKE 'pg_toast%'")
if [ "$objects" != 0 ]; then
  echo "restore.sh: the database is not empty ($objects tables, views or sequences):" \
    "restore into a new, empty one" >&2
  exit 1
fi

pg_restore --exit-on-error --single-transaction --no-owner --no-privileges \
  --dbname="$PGDATABASE" "$dump"
psql -X -q -v ON_ERROR_STOP=1 -c "ANALYZE"
version=$(psql -X -A -t -v ON_ERROR_STOP=1 -c "SELECT version_num FROM alembic_version")
echo "Restored $dump: migration $version"
