"""Rate limits are shared by every worker when REDIS_URL is set."""

import pytest

from majlis import create_app
from majlis.extensions import limiter
from tests.conftest import REDIS_SKIP_REASON, REDIS_URL


@pytest.fixture
def redis_config(app_config):
    if not REDIS_URL:
        pytest.skip(REDIS_SKIP_REASON)
    return {**app_config, "RATELIMIT_STORAGE_URI": REDIS_URL}


def test_two_workers_share_the_login_limit_through_redis(redis_config, make_user):
    user = make_user()
    worker_a, worker_b = create_app(redis_config).test_client(), create_app(redis_config).test_client()
    limiter.reset()  # counts left in Redis by an earlier run of this test
    statuses = []
    for attempt in range(11):
        worker = worker_a if attempt % 2 == 0 else worker_b
        # Several addresses: the per-account throttle (in the database) must not be what answers 429 here.
        email = user.email if attempt % 3 == 0 else f"guess{attempt}@example.com"
        response = worker.post("/api/v1/auth/token", json={"email": email, "password": f"Wrong-{attempt}-x"})
        statuses.append(response.status_code)
    assert statuses[:10] == [401] * 10
    assert statuses[10] == 429
