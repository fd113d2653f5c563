"""Consistent copies of the database, and restoring one: SQLite's online backup API, pg_dump/pg_restore."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(RuntimeError):
    """The copy or the restore could not be made; nothing was changed."""


def _pg_args(url: str) -> tuple[list[str], dict]:
    parsed = make_url(url)
    args = ["--host", parsed.host or "localhost", "--port", str(parsed.port or 5432),
            "--username", parsed.username or "postgres", "--dbname", parsed.database or "postgres"]
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = parsed.password  # via the environment, never on the command line
    return args, env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    return path


def backup(url: str, target: Path) -> None:
    """Write a consistent copy of the database to `target` (taken while the app keeps running)."""
    parsed = make_url(url)
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(f"cannot write to {target}: {exc.strerror}") from exc
    if parsed.get_backend_name() == "sqlite":
        source = sqlite3.connect(parsed.database)
        try:
            destination = sqlite3.connect(target)
            with destination:
                source.backup(destination)
            destination.close()
        finally:
            source.close()
        return
    args, env = _pg_args(url)
    # An argument list (no shell) built from the configured URL: nothing is interpolated into a command line.
    done = subprocess.run([_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(target), *args],  # noqa: S603
                          env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        target.unlink(missing_ok=True)
        raise BackupError(done.stderr.strip() or "pg_dump failed")


def restore(url: str, source: Path) -> None:
    """Replace the database's contents with a backup made by `backup`.

    Afterwards every cached read's version is raised above both the replaced and the restored one, so running
    workers drop whatever they built from the replaced data (majlis.cache).
    """
    from sqlalchemy.exc import DBAPIError

    from majlis import cache
    from majlis.db import make_engine

    before = _cache_versions(url)
    _restore(url, source)
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            cache.raise_past(connection, before)
    except DBAPIError:
        pass  # a backup from before the table existed: `majlis init-db` adds it, then restart the workers
    finally:
        engine.dispose()


def _cache_versions(url: str) -> dict[str, int]:
    from sqlalchemy.exc import DBAPIError

    from majlis import cache
    from majlis.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return cache.versions_of(connection)
    except DBAPIError:
        return {}  # no such table yet (an empty database being restored into)
    finally:
        engine.dispose()


def _restore(url: str, source: Path) -> None:
    parsed = make_url(url)
    source = Path(source)
    if not source.exists():
        raise BackupError(f"{source} does not exist")
    if parsed.get_backend_name() == "sqlite":
        try:
            backup_db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
            backup_db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{source} is not a SQLite backup: {exc}") from exc
        destination = sqlite3.connect(parsed.database)
        try:
            with destination:
                backup_db.backup(destination)
        finally:
            destination.close()
            backup_db.close()
        return
    args, env = _pg_args(url)
    done = subprocess.run([_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",  # noqa: S603
                           *args, str(source)], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(done.stderr.strip() or "pg_restore failed")
