"""gunicorn entry point for the benchmarks: the real app, as `wsgi:app` builds it, plus the stream lifetime.

Majlis reads its configuration from the environment in `majlis.config.from_env`, but the SSE stream lifetime
(`MAJLIS_LIVE_STREAM_SECONDS`, 25 s by default) is only ever read from `app.config` and is not among the
variables `from_env` knows. The fan-out benchmark keeps 200 streams open for longer than that, so this module
passes the variable through; everything else is identical to `wsgi.py`.
"""

import os

from majlis import create_app

overrides = {}
if os.environ.get("MAJLIS_LIVE_STREAM_SECONDS"):
    overrides["MAJLIS_LIVE_STREAM_SECONDS"] = float(os.environ["MAJLIS_LIVE_STREAM_SECONDS"])

app = create_app(overrides or None)
