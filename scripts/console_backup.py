"""Backups of the console's own PostgreSQL database, and the drill that proves they restore.

    python scripts/console_backup.py dump  --dir /backups [--keep-days 14]
    python scripts/console_backup.py drill --dir /backups --scratch postgres://.../nexusops_drill

``dump`` opens a read-only REPEATABLE READ transaction, exports its snapshot, counts the rows
of every table in it, and runs ``pg_dump --format=custom --snapshot=<that snapshot>``: the
dump and ``<name>.counts.json`` beside it describe the same instant, however busy the console
is. Files are written under a temporary name and renamed when complete. ``--keep-days``
deletes older pairs, never the newest.

``drill`` takes a dump (``--dump FILE``, or the newest complete pair in ``--dir``), drops and
recreates the scratch database, ``pg_restore``s into it, counts every table again and compares
with the counts taken at dump time. It exits 1 and names each table that differs, is missing
or is extra. The scratch database is dropped afterwards unless ``--keep`` (or the drill
failed, to leave something to look at). It refuses a scratch database that is the console's
own (``DATABASE_URL``).

Needs only psycopg and the PostgreSQL client tools (the image's postgresql-client), not Django,
so it runs in the CronJobs of deploy/kubernetes and by hand. pg_dump must be at least the
server's major version. Used by deploy/kubernetes/base/console/backup.yaml; README "Backups
of the console"; tests/scripts/test_console_backup.py.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psycopg
from psycopg import sql

PREFIX = "nexusops-"
STAMP = "%Y%m%dT%H%M%SZ"
# Every ordinary table outside PostgreSQL's own schemas.
TABLES = """
    SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'
    ORDER BY 1, 2
"""


def libpq_url(url: str) -> str:
    """Django's URLs may say postgres:// or pgsql://; libpq takes postgresql:// and postgres://."""
    parts = urlparse(url)
    if parts.scheme == "pgsql":
        parts = parts._replace(scheme="postgresql")
    return urlunparse(parts)


def row_counts(conn: psycopg.Connection) -> dict[str, int]:
    counts = {}
    for schema, table in conn.execute(TABLES).fetchall():
        query = sql.SQL("SELECT count(*) FROM {}.{}").format(
            sql.Identifier(schema), sql.Identifier(table)
        )
        counts[f"{schema}.{table}"] = conn.execute(query).fetchone()[0]
    return counts


def dump(database_url: str, directory: Path, keep_days: int) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    taken = dt.datetime.now(dt.UTC)
    name = f"{PREFIX}{taken.strftime(STAMP)}"
    target, partial = directory / f"{name}.dump", directory / f"{name}.dump.partial"
    started = time.monotonic()
    with psycopg.connect(libpq_url(database_url)) as conn:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
        counts = row_counts(conn)
        server = conn.execute("SHOW server_version").fetchone()[0]
        # The snapshot lives as long as this transaction: pg_dump runs inside it.
        done = subprocess.run(
            [
                "pg_dump",
                "--format=custom",
                f"--snapshot={snapshot}",
                f"--file={partial}",
                f"--dbname={libpq_url(database_url)}",
            ],
            capture_output=True,
            text=True,
        )
        conn.rollback()
    if done.returncode:
        partial.unlink(missing_ok=True)
        raise SystemExit(f"pg_dump failed: {done.stderr.strip()}")
    manifest = {
        "dump": target.name,
        "database": urlparse(database_url).path.lstrip("/"),
        "taken_at": taken.isoformat(),
        "server_version": server,
        "tables": counts,
    }
    (directory / f"{name}.counts.json").write_text(json.dumps(manifest, indent=2) + "\n")
    partial.rename(target)  # last: a .dump exists only once its counts do
    print(
        f"dumped {manifest['database']} to {target} ({target.stat().st_size / 1e6:.1f} MB, "
        f"{len(counts)} tables, {sum(counts.values())} rows) in {time.monotonic() - started:.1f} s"
    )
    if keep_days > 0:
        prune(directory, keep_days, now=taken)
    return target


def complete_dumps(directory: Path) -> list[Path]:
    """Dumps with their counts beside them, oldest first (names sort by time)."""
    return sorted(
        p
        for p in directory.glob(f"{PREFIX}*.dump")
        if p.with_name(p.name.removesuffix(".dump") + ".counts.json").exists()
    )


def prune(directory: Path, keep_days: int, *, now: dt.datetime) -> list[Path]:
    dumps = complete_dumps(directory)
    removed = []
    for path in dumps[:-1]:  # never the newest
        stamp = path.name.removeprefix(PREFIX).removesuffix(".dump")
        taken = dt.datetime.strptime(stamp, STAMP).replace(tzinfo=dt.UTC)
        if now - taken > dt.timedelta(days=keep_days):
            path.unlink()
            path.with_name(path.name.removesuffix(".dump") + ".counts.json").unlink()
            removed.append(path)
    if removed:
        print(f"pruned {len(removed)} dumps older than {keep_days} days")
    return removed


def _same_database(a: str, b: str) -> bool:
    pa, pb = urlparse(a), urlparse(b)
    return (pa.hostname, pa.port or 5432, pa.path) == (pb.hostname, pb.port or 5432, pb.path)


def drill(dump_path: Path, scratch_url: str, *, keep: bool) -> bool:
    live = os.environ.get("DATABASE_URL", "")
    if live and _same_database(live, scratch_url):
        raise SystemExit("refusing to drill into the console's own database (DATABASE_URL)")
    manifest_path = dump_path.with_name(dump_path.name.removesuffix(".dump") + ".counts.json")
    expected = json.loads(manifest_path.read_text())["tables"]
    scratch = urlparse(scratch_url).path.lstrip("/")
    if not scratch:
        raise SystemExit("--scratch must name a database")
    maintenance = libpq_url(urlunparse(urlparse(scratch_url)._replace(path="/postgres")))
    started = time.monotonic()
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(scratch))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(scratch)))
    done = subprocess.run(
        [
            "pg_restore",
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            f"--dbname={libpq_url(scratch_url)}",
            str(dump_path),
        ],
        capture_output=True,
        text=True,
    )
    if done.returncode:
        print(f"restore drill FAILED: pg_restore: {done.stderr.strip()}", file=sys.stderr)
        return False
    restored_in = time.monotonic() - started
    with psycopg.connect(libpq_url(scratch_url)) as conn:
        found = row_counts(conn)
    problems = [
        f"  {table}: {expected[table]} rows in the dump, {found[table]} restored"
        for table in sorted(expected.keys() & found.keys())
        if expected[table] != found[table]
    ]
    problems += [
        f"  {t}: in the dump, not restored" for t in sorted(expected.keys() - found.keys())
    ]
    problems += [
        f"  {t}: restored, not in the dump" for t in sorted(found.keys() - expected.keys())
    ]
    if problems:
        print(
            f"restore drill FAILED for {dump_path.name} (scratch database {scratch} kept):",
            *problems,
            sep="\n",
            file=sys.stderr,
        )
        return False
    print(
        f"restore drill passed: {dump_path.name} restored into {scratch} in {restored_in:.1f} s; "
        f"{len(found)} tables, {sum(found.values())} rows, every count as dumped"
    )
    if not keep:
        with psycopg.connect(maintenance, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(scratch)))
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    take = commands.add_parser("dump", help="pg_dump the console's database with row counts")
    take.add_argument("--dir", type=Path, required=True)
    take.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    take.add_argument("--keep-days", type=int, default=0, help="prune older dumps (0: keep all)")
    check = commands.add_parser("drill", help="restore a dump into a scratch database and check")
    source = check.add_mutually_exclusive_group(required=True)
    source.add_argument("--dump", type=Path, help="a .dump with its .counts.json beside it")
    source.add_argument("--dir", type=Path, help="take the newest complete dump here")
    check.add_argument("--scratch", required=True, help="URL of a database the drill may drop")
    check.add_argument("--keep", action="store_true", help="leave the scratch database")
    args = parser.parse_args(argv)
    if args.command == "dump":
        if not args.database_url:
            parser.error("set DATABASE_URL or --database-url")
        dump(args.database_url, args.dir, args.keep_days)
        return 0
    dump_path = args.dump
    if dump_path is None:
        dumps = complete_dumps(args.dir)
        if not dumps:
            raise SystemExit(f"no complete dump (.dump with .counts.json) in {args.dir}")
        dump_path = dumps[-1]
    return 0 if drill(dump_path, args.scratch, keep=args.keep) else 1


if __name__ == "__main__":
    sys.exit(main())
