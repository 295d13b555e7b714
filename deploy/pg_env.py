"""DATABASE_URL (the app's SQLAlchemy URL) as libpq's environment variables, for backup.sh
and restore.sh: `eval "$(python deploy/pg_env.py)"`.

pg_dump, pg_restore and psql then connect as the app does, with the password (if the URL has
one) in their environment rather than on their command line, which every user of the machine
can read. Nothing from the URL is ever printed in an error.
"""

from __future__ import annotations

import os
import shlex
import sys

from psycopg import conninfo, errors, pq


def libpq_environment(url: str) -> dict[str, str]:
    """{"PGHOST": …, "PGDATABASE": …, …} for a `postgresql[+driver]://…` URL."""
    scheme, separator, rest = url.partition("://")
    if not separator or scheme.split("+", 1)[0] not in ("postgresql", "postgres"):
        raise ValueError("DATABASE_URL is not a PostgreSQL URL (postgresql+psycopg://…)")
    try:
        settings = conninfo.conninfo_to_dict(f"postgresql://{rest}")
    except errors.ProgrammingError:
        raise ValueError("DATABASE_URL is not a URL libpq can read") from None
    if not settings.get("dbname"):
        raise ValueError("DATABASE_URL names no database")
    variables = {
        option.keyword.decode(): option.envvar.decode()
        for option in pq.Conninfo.get_defaults()
        if option.envvar
    }
    unknown = sorted(set(settings) - set(variables))
    if unknown:
        raise ValueError(f"DATABASE_URL has settings libpq takes from no variable: {unknown}")
    return {variables[keyword]: str(value) for keyword, value in settings.items()}


def main() -> int:
    try:
        environment = libpq_environment(os.environ.get("DATABASE_URL", ""))
    except ValueError as error:
        print(f"pg_env.py: {error}", file=sys.stderr)
        return 2
    for name, value in environment.items():
        print(f"export {name}={shlex.quote(value)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
