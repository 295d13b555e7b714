#!/bin/sh
# Back up the booking database while the service runs.
#
#   deploy/backup.sh DIRECTORY [PG_DUMP_OPTION...]
#
# DATABASE_URL (the app's, as in /etc/booking/booking.env) names the database. pg_dump reads
# it all in one snapshot, taken as it starts: every booking acknowledged before then is in
# the dump, and nothing half-written is. The dump (pg_dump's custom format, compressed) is
# written under a temporary name, read back whole, and only then named
# DIRECTORY/booking-<UTC time>.dump, which is printed. Dumps in DIRECTORY older than
# BACKUP_KEEP_DAYS days (14) are removed: they hold personal data, kept no longer than needed,
# and readable by the user that made them alone. deploy/restore.sh puts one back.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
python=${BOOKING_PYTHON:-$here/../.venv/bin/python}
directory=${1:?usage: backup.sh DIRECTORY [PG_DUMP_OPTION...]}
shift
keep_days=${BACKUP_KEEP_DAYS:-14}
case $keep_days in
  '' | *[!0-9]*) echo "backup.sh: BACKUP_KEEP_DAYS must be a whole number of days" >&2; exit 2 ;;
esac

umask 077
libpq_environment=$("$python" "$here/pg_env.py")
eval "$libpq_environment"
mkdir -p "$directory"

name="booking-$(date -u +%Y%m%dT%H%M%SZ).dump"
partial="$directory/.$name.partial"
trap 'rm -f "$partial"' EXIT
trap 'exit 1' HUP INT TERM
pg_dump --format=custom --file="$partial" "$@"
# Every block of the archive read back (its data too), so a damaged dump fails here, tonight.
pg_restore --file=/dev/null "$partial"
mv "$partial" "$directory/$name"
find "$directory" -maxdepth 1 -type f \( -name 'booking-*.dump' -o -name '.booking-*.partial' \) \
  -mtime "+$keep_days" -delete
echo "$directory/$name"
