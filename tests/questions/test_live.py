"""The live stream: versions rise with every visible change; reconnecting clients catch up; Redis fans out."""

import threading
from datetime import UTC, datetime, timedelta

import pytest

from majlis.db import unit_of_work
from majlis.sessions import live
from majlis.sessions.models import MajlisSession
from tests import factories
from tests.conftest import REDIS_SKIP_REASON, REDIS_URL, form_post


@pytest.fixture
def majlis_session(db):
    now = datetime.now(UTC)
    with unit_of_work(db):
        return factories.majlis_session(db, starts_at=now + timedelta(minutes=30),
                                        registration_opens_at=now - timedelta(days=1))


def events_of(text: str) -> list[int]:
    return [int(line.split(":", 1)[1]) for line in text.splitlines() if line.startswith("id:")]


def test_a_new_client_gets_the_current_version_at_once(app, client, db, majlis_session):
    app.config["MAJLIS_LIVE_STREAM_SECONDS"] = 1
    with unit_of_work(db):
        live.bump(db, majlis_session.id)
        live.bump(db, majlis_session.id)
    response = client.get(f"/sessions/{majlis_session.id}/events?since=0")
    assert response.mimetype == "text/event-stream"
    text = response.get_data(as_text=True)
    assert text.startswith("retry: 1000")
    assert events_of(text) == [2]


def test_a_reconnecting_client_that_is_up_to_date_gets_nothing_new(app, client, db, majlis_session):
    app.config["MAJLIS_LIVE_STREAM_SECONDS"] = 1
    with unit_of_work(db):
        live.bump(db, majlis_session.id)
    response = client.get(f"/sessions/{majlis_session.id}/events", headers={"Last-Event-ID": "1"})
    assert events_of(response.get_data(as_text=True)) == []


def test_a_client_that_missed_messages_resynchronises_from_the_version(app, client, db, majlis_session):
    app.config["MAJLIS_LIVE_STREAM_SECONDS"] = 1
    with unit_of_work(db):
        for _ in range(5):
            live.bump(db, majlis_session.id)
    response = client.get(f"/sessions/{majlis_session.id}/events", headers={"Last-Event-ID": "2"})
    assert events_of(response.get_data(as_text=True)) == [5]


def test_invited_sessions_stream_only_to_those_who_may_see_them(client, db, majlis_session):
    from majlis.enums import Visibility

    with unit_of_work(db):
        db.get(MajlisSession, majlis_session.id).visibility = Visibility.INVITED
    assert client.get(f"/sessions/{majlis_session.id}/events").status_code == 404


def _watch(database, session_id, since, redis_url, found, lifetime=8.0):
    def read_version():
        with database.session_factory() as db_session:
            return live.current_version(db_session, session_id)

    for chunk in live.stream(read_version, session_id, since, redis_url=redis_url, lifetime=lifetime, poll=0.2):
        if chunk.startswith("id:"):
            found.append(int(chunk.split("\n")[0].split(":")[1]))
            return


@pytest.fixture
def redis_app(app_config):
    """An app with REDIS_URL set: it publishes versions after each commit."""
    if not REDIS_URL:
        pytest.skip(REDIS_SKIP_REASON)
    from majlis import create_app

    app = create_app({**app_config, "REDIS_URL": REDIS_URL})
    yield app
    app.extensions["majlis_db"].engine.dispose()


@pytest.mark.parametrize("use_redis", [False, True], ids=["database-fallback", "redis"])
def test_a_watcher_hears_a_change_made_in_another_transaction(request, app, majlis_session, use_redis):
    from majlis.db import get_database

    database = get_database(request.getfixturevalue("redis_app") if use_redis else app)
    found: list[int] = []
    watcher = threading.Thread(target=_watch, args=(database, majlis_session.id, 0,
                                                    REDIS_URL if use_redis else None, found))
    watcher.start()
    with database.session_factory() as db_session, unit_of_work(db_session):
        live.bump(db_session, majlis_session.id)
    watcher.join(timeout=20)
    assert found == [1]


def test_a_committed_change_is_published_on_redis_and_a_rolled_back_one_is_not(redis_app, majlis_session):
    import redis

    from majlis.db import get_database

    db = get_database(redis_app).session_factory()
    subscriber = redis.Redis.from_url(REDIS_URL).pubsub(ignore_subscribe_messages=True)
    subscriber.subscribe(live.CHANNEL.format(session_id=majlis_session.id))
    subscriber.get_message(timeout=1)
    with pytest.raises(RuntimeError), unit_of_work(db):
        live.bump(db, majlis_session.id)
        raise RuntimeError("rolled back")
    assert subscriber.get_message(timeout=1) is None
    with unit_of_work(db):
        live.bump(db, majlis_session.id)
    message = subscriber.get_message(timeout=5)
    assert message is not None and message["channel"] == live.CHANNEL.format(session_id=majlis_session.id).encode()
    subscriber.close()
    db.close()


def test_one_redis_subscriber_serves_every_stream_of_a_worker(redis_app, majlis_session):
    """Streams share the process's hub: a thousand watchers do not open a thousand Redis connections."""
    import os

    import redis

    from majlis.db import get_database

    database = get_database(redis_app)
    found: list[list[int]] = [[] for _ in range(6)]
    watchers = [threading.Thread(target=_watch, args=(database, majlis_session.id, 0, REDIS_URL, found[i]))
                for i in range(6)]
    for watcher in watchers:
        watcher.start()
    hub = live.hub(REDIS_URL)
    assert hub.connected.wait(5)
    with database.session_factory() as db_session, unit_of_work(db_session):
        live.bump(db_session, majlis_session.id)
    for watcher in watchers:
        watcher.join(timeout=20)
    assert found == [[1]] * 6
    mine = [c for c in redis.Redis.from_url(REDIS_URL).client_list() if c["name"] == f"majlis-live-{os.getpid()}"]
    assert len(mine) == 1


def test_streams_beyond_the_caps_are_refused_and_the_site_keeps_answering(app, client, majlis_session):
    app.config.update(MAJLIS_LIVE_STREAMS_PER_WORKER=20, MAJLIS_LIVE_STREAMS_PER_CLIENT=18,
                      MAJLIS_LIVE_STREAM_SECONDS=30)
    held = [client.get(f"/sessions/{majlis_session.id}/events", buffered=False) for _ in range(18)]
    assert all(response.status_code == 200 for response in held)
    # More streams than the pool has connections are open, and none holds one: the site still answers.
    assert client.get("/healthz").status_code == 200
    refused = client.get(f"/sessions/{majlis_session.id}/events", buffered=False)
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "30"
    other = client.get(f"/sessions/{majlis_session.id}/events", buffered=False,
                       environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code == 200  # another client still gets one ...
    app.config["MAJLIS_LIVE_STREAMS_PER_WORKER"] = 19
    third = client.get(f"/sessions/{majlis_session.id}/events", buffered=False,
                       environ_base={"REMOTE_ADDR": "192.0.2.8"})
    assert third.status_code == 503  # ... until the worker's cap is reached
    for response in [*held, other]:
        response.close()  # a stream that ends gives its slot back
    again = client.get(f"/sessions/{majlis_session.id}/events", buffered=False)
    assert again.status_code == 200
    again.close()


def test_signed_in_residents_behind_one_address_each_get_their_own_streams(app, db, majlis_session, make_user):
    """A carrier's or an office's NAT puts many residents behind one address: the per-client cap counts accounts."""
    app.config.update(MAJLIS_LIVE_STREAMS_PER_WORKER=10, MAJLIS_LIVE_STREAMS_PER_CLIENT=2,
                      MAJLIS_LIVE_STREAM_SECONDS=30)
    url = f"/sessions/{majlis_session.id}/events"
    held = []
    for email in ("first@example.org", "second@example.org"):
        client = app.test_client()
        assert form_post(client, "/login", {"email": make_user(email=email).email,
                                             "password": factories.PASSWORD}).status_code == 302
        held += [client.get(url, buffered=False) for _ in range(2)]
        assert all(response.status_code == 200 for response in held)
        refused = client.get(url, buffered=False)
        assert refused.status_code == 503  # one account's own cap still holds
    for response in held:
        response.close()
