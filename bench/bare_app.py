"""The ceiling: a bare Flask app on the same server settings, doing the least each Majlis benchmark must do.

- GET  /hello   a JSON "hello" (the floor of any Flask response: routing, a dict to JSON, the WSGI round trip);
- POST /jwt     a PyJWT HS256 sign of a Jitsi-shaped payload (what a join must at least do);
- POST /insert  one ORM INSERT + COMMIT on SQLite in WAL mode, synchronous=NORMAL, BEGIN IMMEDIATE
                (the same engine settings Majlis uses; any other SQLAlchemy URL works too, e.g. PostgreSQL);
- POST /jwt-insert  both: the sign and the insert (what a first join must at least do: a token and a record).

Served by gunicorn as `bare_app:app` from the bench directory; BENCH_BARE_DATABASE_URL names the database.
No product code is imported, on purpose: this is the stack without Majlis.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime

import jwt
from flask import Flask, jsonify, request
from sqlalchemy import String, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

JWT_SECRET = os.environ.get("BENCH_BARE_JWT_SECRET", "bare-ceiling-secret-0123456789abcdef")


class Base(DeclarativeBase):
    pass


class Hit(Base):
    __tablename__ = "bench_hits"

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime]


def make_engine(url: str):
    """The engine with Majlis's SQLite settings (WAL, NORMAL, busy timeout, BEGIN IMMEDIATE for writes)."""
    if make_url(url).get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"timeout": 15})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, as Majlis does
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def create_schema(url: str) -> None:
    """Called once by the orchestrator before the workers start (workers creating it would race)."""
    engine = make_engine(url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    engine.dispose()


app = Flask(__name__)
_engine = None


def engine():
    # Created lazily in each worker: an engine must not cross gunicorn's fork.
    global _engine
    if _engine is None:
        _engine = make_engine(os.environ["BENCH_BARE_DATABASE_URL"])
    return _engine


@app.get("/hello")
def hello():
    return jsonify({"hello": "world"})


@app.post("/jwt")
def sign():
    return jsonify({"jwt": _sign()})


def _sign() -> str:
    now = int(time.time())
    payload = {"aud": "jitsi", "iss": "majlis-bench", "sub": "meet.example.org", "room": "majlis-bench-room",
               "iat": now, "nbf": now - 10, "exp": now + 3600,
               "context": {"user": {"id": "42", "name": "مستخدم", "email": "user42@example.com",
                                    "moderator": False}}}
    return jwt.encode(payload, JWT_SECRET, algorithm="HS256")


@app.post("/insert")
def insert():
    return jsonify({"id": _insert()}), 201


@app.post("/jwt-insert")
def sign_and_insert():
    signed = _sign()
    return jsonify({"jwt": signed, "id": _insert()})


def _insert() -> int:
    with Session(engine()) as db_session, db_session.begin():
        row = Hit(label=(request.args.get("label") or "hit")[:40], created_at=datetime.now(UTC))
        db_session.add(row)
        db_session.flush()
        return row.id
