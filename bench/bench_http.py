"""The HTTP benchmarks: what real clients send to Majlis, each run between two runs of its bare-stack ceiling.

Every benchmark replays many different requests, shaped like its real clients': the mobile app's dated session
lists from 200 residents with their own tokens, 61 session pages weighted as when the majlis starts, the public
feeds revalidated with their ETags, and write bursts in which every line is a different resident (or a different
resident and question), so a line is never the same work twice.

Benchmarks sharing a ceiling run as one group, ceiling and Majlis alternating (C M1 C M2 C ... C): each Majlis run
sits between two runs of its ceiling, whose mean is the ratio's denominator. Whatever else runs on the two cores, or
starts or stops during the pair, weighs on both sides about equally. Reads come first, writes last, so that the
304 run's ETags and the pages still describe the data the earlier runs saw.

Before it is timed, each benchmark's requests are checked once (a dated list returns sessions of that range, a page
is the page, a signed-in page is signed in, a 304 is a 304, a vote answers its count); after a burst, the database is
checked against the answers (seats, attendance, votes and questions: one row per success, none twice). Only the
expected statuses count as throughput; anything else is reported.
"""

from __future__ import annotations

import http.client
import json
import random
import re
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import zip_longest
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

import loadgen
from loadgen import JSON, Load, Req, bearer
from seed import Fixture
from sqlalchemy import func, select

QUESTION_TEXTS = [
    "متى يبدأ العمل في صيانة الطريق {n}؟",
    "Could the bus stop on road {n} get a shelter before summer?",
    "نطلب زيادة الدوريات المرورية قرب المدرسة {n}",
    "هل يمكن توفير حافلة مدرسية لمنطقة {n}؟",
]
LIST_RESIDENTS = 200
SIGNED_IN_RESIDENTS = 50
CHECK_THREADS = 8  # the checks' own requests go out a few at a time: they are not timed, only waited for
DRAIN_SECONDS = 1.0  # wrk stops reading at its deadline; the server still serves what was sent
FIRST_JOIN_SECONDS = 1  # a resident's first join records attendance: a longer run would join some of them twice
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@dataclass
class Row:
    """One line of the results table."""

    name: str
    majlis: float | None  # req/s, or ms for latency rows
    ceiling: float | None
    ceiling_name: str
    unit: str
    target: float | None  # minimum ratio (req/s rows) or maximum ms (latency rows)
    shape: str = ""  # what the row sends, for RESULTS.md
    note: str = ""
    majlis_load: Load | None = None
    ceiling_load: Load | None = None
    ceiling_after: Load | None = None
    unexpected: int = 0  # answers with another status than the expected ones, and socket errors
    extra_checks: dict[str, bool] = field(default_factory=dict)
    profile: str = ""
    display: str = ""  # replaces the Majlis figure in the table when one number is not enough

    @property
    def ratio(self) -> float | None:
        if self.majlis is None or not self.ceiling or self.unit != "req/s":
            return None
        return self.majlis / self.ceiling

    @property
    def met(self) -> bool | None:
        if self.target is None:  # no target: only a failed check says "no"
            return False if not all(self.extra_checks.values()) else None
        if self.unit == "req/s":
            ok = self.ratio is not None and self.ratio >= self.target
        else:
            ok = self.majlis is not None and self.majlis <= self.target
        return ok and all(self.extra_checks.values())

    @property
    def target_text(self) -> str:
        text = "—"
        if self.target is not None:
            text = f"≥ {self.target:.1f}" if self.unit == "req/s" else f"≤ {self.target:.0f} ms"
        if self.extra_checks:  # spelled out under "Details"
            n = len(self.extra_checks)
            text += f" + {n} check{'s' if n > 1 else ''}"
        return text


@dataclass
class Context:
    bare_url: str
    majlis_url: str
    fixture: Fixture
    wrk: str | None
    seconds: float
    connections: int
    log: Callable[[str], None]
    database: object  # majlis.db.Database on the benchmark database, for checks after the bursts
    profile_hook: Callable[[str, list[Req]], str] | None = None  # name, requests -> markdown (missed targets)
    only: tuple[str, ...] = ()  # BENCH_ONLY: run only the benchmarks whose names contain one of these
    cookies: list[str] = field(default_factory=list)  # signed-in residents' Cookie headers (filled by sign_in)


@dataclass
class Bench:
    """One benchmark: its requests (built when it runs), what counts as success, and its checks."""

    name: str
    shape: str
    requests: Callable[[], list[Req]]
    ok_codes: tuple[int, ...]
    target: float | None
    warm: Callable[[], list[Req]] | None = None  # default: the same requests (reads)
    precheck: Callable[[Context, list[Req], list[Req]], dict[str, bool]] | None = None  # (ctx, timed, warm)
    before: Callable[[Context], object] | None = None  # state read before the run (e.g. row counts)
    after: Callable[[Context, Row, object], None] | None = None  # checks after the run
    profile: Callable[[], list[Req]] | None = None  # fresh requests for the profile of a missed target
    single_use: bool = False  # a line sent twice would not be the same work (writes): check none was
    seconds: float | None = None


def wanted(only: tuple[str, ...], name: str) -> bool:
    return not only or any(part in name for part in only)


def _load(ctx: Context, base: str, requests: list[Req], seconds: float | None = None) -> Load:
    return loadgen.run(base, requests, seconds=seconds or ctx.seconds, connections=ctx.connections, wrk=ctx.wrk)


def _warm(ctx: Context, base: str, requests: list[Req]) -> None:
    """One second of the same requests first: imports, template compilation and pool connections settle."""
    loadgen.run(base, requests, seconds=1, connections=ctx.connections, wrk=ctx.wrk)


# --- one request, for the checks --------------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


def fetch(base: str, req: Req) -> Answer:
    parts = urlsplit(base)
    if parts.hostname != "127.0.0.1":
        raise ValueError(f"benchmarks only target 127.0.0.1, not {base}")
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request(req.method, req.path, body=req.body.encode() or None, headers=req.headers)
        response = connection.getresponse()
        return Answer(response.status, response.msg, response.read())
    finally:
        connection.close()


def fetch_all(base: str, requests: list[Req]) -> list[Answer]:
    with ThreadPoolExecutor(CHECK_THREADS) as pool:
        return list(pool.map(lambda req: fetch(base, req), requests))


def _check(ctx: Context, checks: dict[str, bool], label: str, ok: bool, detail: str = "") -> None:
    checks[label] = ok
    if not ok:
        ctx.log(f"    CHECK FAILED: {label}" + (f" ({detail})" if detail else ""))


# --- the groups -------------------------------------------------------------------------------------------------------


def _run_group(ctx: Context, ceiling_name: str, ceiling: list[Req], benches: list[Bench],
               bare_codes: tuple[int, ...] = (200, 201)) -> list[Row]:
    """C M1 C M2 C ...: each Majlis run between two runs of the ceiling (the one after is the next one's before)."""
    benches = [b for b in benches if wanted(ctx.only, b.name)]
    if not benches:
        return []
    seconds = benches[0].seconds
    _warm(ctx, ctx.bare_url, ceiling)
    left = _load(ctx, ctx.bare_url, ceiling, seconds)
    rows = []
    for bench in benches:
        timed = bench.requests()
        warm = bench.warm() if bench.warm else timed
        checks: dict[str, bool] = {}
        if bench.precheck:
            checks.update(bench.precheck(ctx, timed, warm))
        if not timed:  # nothing to send (e.g. nobody could sign in): the row says so, and its checks why
            rows.append(Row(name=bench.name, majlis=None, ceiling=None, ceiling_name=ceiling_name, unit="req/s",
                            target=bench.target, shape=bench.shape, extra_checks=checks, display="not run",
                            note="not run: no requests to send"))
            continue
        _warm(ctx, ctx.majlis_url, warm)
        state = None
        if bench.before:
            # After the warm-up, which may write too, and once the requests it left in flight have been served.
            time.sleep(DRAIN_SECONDS)
            state = bench.before(ctx)
        real = _load(ctx, ctx.majlis_url, timed, bench.seconds)
        if bench.after:
            time.sleep(DRAIN_SECONDS)  # the run's requests still in flight are served (at most one per connection)
        right = _load(ctx, ctx.bare_url, ceiling, bench.seconds)
        mean_ceiling = (left.rate(*bare_codes) + right.rate(*bare_codes)) / 2
        row = Row(name=bench.name, majlis=real.rate(*bench.ok_codes), ceiling=mean_ceiling, ceiling_name=ceiling_name,
                  unit="req/s", target=bench.target, shape=bench.shape, majlis_load=real, ceiling_load=left,
                  ceiling_after=right, extra_checks=checks)
        row.unexpected = real.requests - real.count(*bench.ok_codes) + real.errors
        row.note = (f"Majlis p50 {real.p50_ms:.0f} ms, p99 {real.p99_ms:.0f} ms; statuses "
                    f"{real.describe_statuses()}; {ceiling_name} before/after {left.rate(*bare_codes):,.0f}/"
                    f"{right.rate(*bare_codes):,.0f} req/s")
        if row.unexpected:
            row.note += f"; {row.unexpected} unexpected answers (not counted)"
        if bench.single_use:
            sent = real.requests + real.errors
            _check(ctx, row.extra_checks, "no line sent twice", sent <= len(timed),
                   f"{sent} requests for {len(timed)} lines")
            row.note += f"; {sent:,} of {len(timed):,} distinct lines sent"
        if bench.after:
            bench.after(ctx, row, state)
        ctx.log(f"  {bench.name:<38} Majlis {row.majlis:8.1f} req/s   {ceiling_name} {row.ceiling:8.1f} req/s   "
                f"ratio {row.ratio:.2f}   [{real.describe_statuses()}]")
        rows.append(row)
        left = right
    return rows


def run_suite(ctx: Context) -> list[Row]:
    f = ctx.fixture
    rng = random.Random(15)  # noqa: S311 - reproducible request mixes, not secrets
    hello = [Req("GET", "/hello")]
    # Both servers have just started: let every worker take its first requests (imports, pools) before any figure.
    _warm(ctx, ctx.bare_url, hello)
    _warm(ctx, ctx.majlis_url, [Req("GET", "/healthz")])
    if wanted(ctx.only, "session page, signed in"):
        sign_in(ctx)
        ctx.log(f"  {len(ctx.cookies)} residents signed in through the login form")

    reads = [
        Bench("/healthz", "GET /healthz (one SELECT 1 through the whole Flask stack)", lambda: [Req("GET", "/healthz")],
              (200,), 0.8, precheck=_precheck_status(200), profile=lambda: [Req("GET", "/healthz")]),
        _session_list(f, rng),
        _session_pages(ctx, f, rng),
        _signed_in_pages(ctx, f, rng),
        Bench("ICS feed, full", "GET /calendar/majlis.ics without a validator (a calendar's first fetch)",
              lambda: [Req("GET", "/calendar/majlis.ics")], (200,), 0.4, precheck=_precheck_feed,
              profile=lambda: [Req("GET", "/calendar/majlis.ics")]),
        _feed_304(ctx, f, rng),
    ]
    rows = _run_group(ctx, "bare hello", hello, reads)

    first, again = _joins(f)
    rows += _run_group(ctx, "bare PyJWT sign + insert", [Req("POST", "/jwt-insert")], [first])
    rows += _run_group(ctx, "bare PyJWT sign", [Req("POST", "/jwt")], [again])
    first_row = next((r for r in rows if r.name == first.name), None)
    again_row = next((r for r in rows if r.name == again.name), None)
    if first_row and again_row:
        first_row.note += (f"; against the bare PyJWT sign alone (next row's ceiling): "
                           f"{first_row.majlis / again_row.ceiling:.2f}")

    writes = [_registrations(f, rng), _votes(f, rng), _questions(f)]
    rows += _run_group(ctx, "bare insert", [Req("POST", "/insert")], writes)

    if ctx.profile_hook:
        benches = {b.name: b for b in reads + [first, again] + writes}
        for row in rows:
            bench = benches[row.name]
            if row.met is False and bench.profile is not None:
                row.profile = ctx.profile_hook(row.name, bench.profile())
    return rows


# --- reads ------------------------------------------------------------------------------------------------------------


def _precheck_status(status: int):
    def check(ctx: Context, timed: list[Req], _warm: list[Req]) -> dict[str, bool]:
        checks: dict[str, bool] = {}
        answer = fetch(ctx.majlis_url, timed[0])
        _check(ctx, checks, f"pre-check: answers {status}", answer.status == status, f"got {answer.status}")
        return checks

    return check


def _date_ranges(f: Fixture, now: datetime) -> list[tuple[str, dict, float]]:
    """The ranges the mobile app asks for (label, query, share in %), in the governorate's days."""
    today = now.astimezone(ZoneInfo(f.zone)).date()
    sunday = today - timedelta(days=(today.weekday() + 1) % 7)  # the week starts on Sunday in Bahrain
    month = today.replace(day=1)
    next_month = (month + timedelta(days=32)).replace(day=1)
    month_after = (next_month + timedelta(days=32)).replace(day=1)
    weekly, fortnightly, youth = f.public_series_ids[:3]

    def span(first: date, last: date, **extra) -> dict:
        return {"from": first.isoformat(), "to": last.isoformat(), **extra}

    return [
        ("this week", span(sunday, sunday + timedelta(days=6)), 25),
        ("the next 4 weeks", span(today, today + timedelta(days=27)), 30),
        ("this month", span(month, next_month - timedelta(days=1)), 15),
        ("next month", span(next_month, month_after - timedelta(days=1)), 10),
        ("the last 30 days", span(today - timedelta(days=30), today), 5),
        ("weekly series, 3 months", span(today, today + timedelta(days=90), series=weekly), 8),
        ("fortnightly series, 3 months", span(today, today + timedelta(days=90), series=fortnightly), 4),
        ("youth series, 6 months", span(today, today + timedelta(days=182), series=youth), 3),
    ]


def _session_list(f: Fixture, rng: random.Random) -> Bench:
    ranges = _date_ranges(f, datetime.now(UTC))
    residents = [f.resident_tokens[i * len(f.resident_tokens) // LIST_RESIDENTS] for i in range(LIST_RESIDENTS)]
    lines = []
    for k in range(5 * LIST_RESIDENTS):
        resident = k % LIST_RESIDENTS
        label, query, _ = rng.choices(ranges, weights=[w for _, _, w in ranges])[0]
        language = "en" if resident % 5 == 0 else "ar"  # one resident in five runs the app in English
        lines.append(Req("GET", "/api/v1/sessions?" + urlencode(query),
                         headers=bearer(residents[resident], **{"Accept-Language": language,
                                                                "Accept": "application/json"})))
    mix = ", ".join(f"{label} {share}%" for label, _, share in ranges)

    def precheck(ctx: Context, timed: list[Req], _warm: list[Req]) -> dict[str, bool]:
        checks: dict[str, bool] = {}
        problems, counts = [], []
        for label, query, _ in ranges:
            req = next(r for r in timed if r.path == "/api/v1/sessions?" + urlencode(query))
            answer = fetch(ctx.majlis_url, req)
            body = answer.json() if answer.status == 200 else None
            sessions = body.get("sessions") if isinstance(body, dict) else None
            if not sessions:
                problems.append(f"{label}: status {answer.status}, {0 if sessions is None else len(sessions)} sessions")
                continue
            counts.append(f"{label} {len(sessions)}")
            first = datetime.fromisoformat(query["from"])
            last = datetime.fromisoformat(query["to"]) + timedelta(days=2)  # the local end of day, in UTC or not
            for item in sessions:
                starts = datetime.fromisoformat(item["starts_at"]).replace(tzinfo=None)
                ends = datetime.fromisoformat(item["ends_at"]).replace(tzinfo=None)
                if not (starts < last and ends > first - timedelta(days=1)) or \
                        ("series" in query and item["series_id"] != query["series"]):
                    problems.append(f"{label}: session {item['id']} is outside the range or series")
                    break
        _check(ctx, checks, "pre-check: every range returns its sessions", not problems, "; ".join(problems))
        ctx.log(f"    sessions per range: {', '.join(counts)}")
        tokens_ok = all(a.status == 200 for a in fetch_all(ctx.majlis_url, [
            Req("GET", "/api/v1/me", headers=bearer(t)) for t in residents[::20]]))
        _check(ctx, checks, "pre-check: residents' tokens accepted (/api/v1/me)", tokens_ok)
        return checks

    return Bench(
        "session list, date ranges (API)",
        f"GET /api/v1/sessions?from=…&to=…[&series=…] with a bearer token: {LIST_RESIDENTS} residents with their own "
        f"tokens (Accept-Language ar, or en for one in five), {len(lines):,} lines, ranges in the governorate's days: "
        f"{mix}", lambda: lines, (200,), 0.6, precheck=precheck, profile=lambda: lines)


def _page_lines(f: Fixture, rng: random.Random, count: int) -> list[int]:
    ids = [session_id for session_id, _ in f.page_sessions]
    weights = [weight for _, weight in f.page_sessions]
    picks = rng.choices(ids, weights=weights, k=count)
    missing = [i for i in ids if i not in set(picks)]
    return picks + missing  # every page at least once


def _session_pages(ctx: Context, f: Fixture, rng: random.Random) -> Bench:
    pages = _page_lines(f, rng, 2000)
    lines = [Req("GET", f"/sessions/{i}", headers={**BROWSER, "Accept-Language": "ar,en;q=0.8"}) for i in pages]
    weights = sorted((w for _, w in f.page_sessions), reverse=True)

    def precheck(ctx: Context, timed: list[Req], _warm: list[Req]) -> dict[str, bool]:
        checks: dict[str, bool] = {}
        ids = [session_id for session_id, _ in f.page_sessions]
        answers = fetch_all(ctx.majlis_url, [Req("GET", f"/sessions/{i}", headers=BROWSER) for i in ids])
        bad = [f"/sessions/{i}: {a.status}" for i, a in zip(ids, answers, strict=True)
               if a.status != 200 or "<html" not in a.text or 'action="/logout"' in a.text]
        _check(ctx, checks, f"pre-check: all {len(f.page_sessions)} pages answer 200 with the page", not bad,
               ", ".join(bad[:5]))
        return checks

    return Bench(
        f"session page, anonymous ({len(f.page_sessions)} pages)",
        f"GET /sessions/<id> as a browser without a cookie: {len(f.page_sessions)} different sessions, "
        f"{len(lines):,} lines drawn by weight: the live session {weights[0]:.0f}%, the one about to start "
        f"{weights[1]:.0f}%, the next six 4% each, the ended one with minutes 3%, the other "
        f"{len(f.page_sessions) - 9} nearest in time share the remaining 28%",
        lambda: lines, (200,), 0.2, precheck=precheck, profile=lambda: lines)


def sign_in(ctx: Context) -> None:
    """Sign residents in through the login form (CSRF token and all), as a browser does; keep their cookies."""
    f = ctx.fixture
    emails = f.resident_emails[:SIGNED_IN_RESIDENTS]  # live registrants: their pages show their seat and votes
    with ThreadPoolExecutor(CHECK_THREADS) as pool:
        cookies = list(pool.map(lambda email: _login(ctx.majlis_url, email, f.password), emails))
    failed = [email for email, cookie in zip(emails, cookies, strict=True) if cookie is None]
    if failed:
        ctx.log(f"    sign-in of {failed[0]} and {len(failed) - 1} more failed: no signed-in page views")
    ctx.cookies = [] if failed else cookies


def _cookies(message: http.client.HTTPMessage, jar: dict[str, str]) -> dict[str, str]:
    for header in message.get_all("Set-Cookie") or []:
        name, _, rest = header.partition("=")
        jar[name.strip()] = rest.split(";", 1)[0]
    return jar


def _login(base: str, email: str, password: str) -> str | None:
    page = fetch(base, Req("GET", "/login", headers=BROWSER))
    jar = _cookies(page.headers, {})
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text) or \
        re.search(r'value="([^"]+)"[^>]*name="csrf_token"', page.text)
    if page.status != 200 or token is None:
        return None
    body = urlencode({"csrf_token": token.group(1), "email": email, "password": password})
    cookie = "; ".join(f"{k}={v}" for k, v in jar.items())
    answer = fetch(base, Req("POST", "/login", body=body, headers={
        **BROWSER, "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}))
    if answer.status not in (302, 303):
        return None
    jar = _cookies(answer.headers, jar)
    return "; ".join(f"{k}={v}" for k, v in jar.items() if v)


def _signed_in_pages(ctx: Context, f: Fixture, rng: random.Random) -> Bench:
    pages = _page_lines(f, rng, 2000)

    def lines() -> list[Req]:
        return [Req("GET", f"/sessions/{page}", headers={**BROWSER, "Cookie": ctx.cookies[k % len(ctx.cookies)]})
                for k, page in enumerate(pages)] if ctx.cookies else []

    def signed_in(cookies: list[str]) -> bool:
        answers = fetch_all(ctx.majlis_url, [Req("GET", f"/sessions/{f.live_session_id}", headers={
            **BROWSER, "Cookie": cookie}) for cookie in cookies])
        return all(a.status == 200 and 'action="/logout"' in a.text for a in answers)

    def precheck(ctx: Context, timed: list[Req], _warm: list[Req]) -> dict[str, bool]:
        checks: dict[str, bool] = {}
        if not ctx.cookies:
            _check(ctx, checks, "residents signed in through the login form", False)
            return checks
        _check(ctx, checks, f"pre-check: {len(ctx.cookies)} residents' pages are signed in (a log-out button)",
               signed_in(ctx.cookies))
        # And each cookie is its own resident's: their account page shows their e-mail address.
        sample = range(0, len(ctx.cookies), 5)
        answers = fetch_all(ctx.majlis_url, [Req("GET", "/account", headers={**BROWSER, "Cookie": ctx.cookies[i]})
                                             for i in sample])
        own = all(f.resident_emails[i] in a.text for i, a in zip(sample, answers, strict=True))
        _check(ctx, checks, "pre-check: a cookie signs in its own resident (/account)", own)
        return checks

    def after(ctx: Context, row: Row, _state) -> None:
        _check(ctx, row.extra_checks, "after the run: the cookies still sign in", signed_in(ctx.cookies[::5]))

    return Bench(
        "session page, signed in",
        f"GET /sessions/<id> with the session cookie of one of {SIGNED_IN_RESIDENTS} residents signed in through the "
        "login form (confirmed on the live session: their seat and votes show), the same 61-page mix",
        lines, (200,), None, precheck=precheck, after=after, profile=lines)


FEED_SHARES = (50.0, 20.0, 15.0, 15.0)  # the whole public feed, then the public series' feeds


def _feed_304(ctx: Context, f: Fixture, rng: random.Random) -> Bench:
    paths = ["/calendar/majlis.ics"] + [f"/calendar/series/{i}.ics" for i in f.public_series_ids]
    shares = FEED_SHARES[:len(paths)]

    def lines() -> list[Req]:
        etags = {}
        for path in paths:  # each feed's current ETag, as a subscribed calendar holds it
            answer = fetch(ctx.majlis_url, Req("GET", path))
            etags[path] = answer.headers.get("ETag") or ""
        picks = rng.choices(paths, weights=shares, k=600)
        return [Req("GET", p, headers={"If-None-Match": etags[p], "Accept": "text/calendar"}) for p in picks + paths]

    def precheck(ctx: Context, timed: list[Req], _warm: list[Req]) -> dict[str, bool]:
        checks: dict[str, bool] = {}
        distinct = {r.path: r for r in timed}
        statuses = {path: fetch(ctx.majlis_url, req).status for path, req in distinct.items()}
        _check(ctx, checks, f"pre-check: each of the {len(distinct)} feeds answers 304 to its ETag",
               all(status == 304 for status in statuses.values()), str(statuses))
        return checks

    return Bench(
        "ICS feed, 304 (mixed feeds)",
        "GET with If-None-Match, the ETag each feed answered just before: /calendar/majlis.ics "
        f"{shares[0]:.0f}%, the three public series' /calendar/series/<id>.ics "
        + ", ".join(f"{s:.0f}%" for s in shares[1:]), lines, (304,), 0.8, precheck=precheck, profile=lines)


def _precheck_feed(ctx: Context, timed: list[Req], _warm: list[Req]) -> dict[str, bool]:
    checks: dict[str, bool] = {}
    answer = fetch(ctx.majlis_url, timed[0])
    events = answer.text.count("BEGIN:VEVENT")
    _check(ctx, checks, "pre-check: 200 text/calendar with events",
           answer.status == 200 and answer.text.startswith("BEGIN:VCALENDAR") and events > 0,
           f"{answer.status}, {events} events")
    return checks


# --- joins ------------------------------------------------------------------------------------------------------------


def _attended(ctx: Context, session_id: int) -> tuple[int, int]:
    from majlis.registration.models import Registration

    with ctx.database.session_factory() as db:
        attended = db.scalar(select(func.count()).select_from(Registration).where(
            Registration.session_id == session_id, Registration.attended_at.is_not(None)))
        registrants = db.scalar(select(func.count()).select_from(Registration).where(
            Registration.session_id == session_id))
    return attended, registrants


def _precheck_join(ctx: Context, req: Req, label: str) -> dict[str, bool]:
    checks: dict[str, bool] = {}
    answer = fetch(ctx.majlis_url, req)
    body = answer.json() or {}
    token = body.get("jwt") if isinstance(body, dict) else None
    _check(ctx, checks, f"pre-check: {label} answers 200 with a signed token",
           answer.status == 200 and isinstance(token, str) and token.count(".") == 2, f"{answer.status}")
    return checks


def _joins(f: Fixture) -> tuple[Bench, Bench]:
    session = f.start_session_id
    # The last registrant is the pre-check's; the burst (1 s) never reaches the end of the list.
    first_lines = [Req("POST", f"/api/v1/sessions/{session}/join", headers=bearer(t)) for t in f.start_tokens[:-1]]
    again_lines = [Req("POST", f"/api/v1/sessions/{f.live_session_id}/join", headers=bearer(t))
                   for t in f.live_tokens]

    def first_after(ctx: Context, row: Row, before: tuple[int, int]) -> None:
        attended, registrants = _attended(ctx, session)
        new, answered = attended - before[0], row.majlis_load.count(200)
        _check(ctx, row.extra_checks, "every token answered is one recorded attendance (+ in-flight)",
               0 <= new - answered <= ctx.connections, f"{new} new attendances for {answered} tokens")
        _check(ctx, row.extra_checks, "no resident joined twice within the burst", attended < registrants)
        detail = f"{new} attendances recorded for {answered} tokens answered, of {registrants} registrants"
        ctx.log(f"    first joins: {detail}")
        row.note = detail + "; " + row.note

    first = Bench(
        "join, first (records attendance)",
        f"POST /api/v1/sessions/<id>/join by {len(first_lines):,} different registrants of the session about to start, "
        f"each once, in a {FIRST_JOIN_SECONDS} s burst (each records its attendance)",
        lambda: first_lines, (200,), 0.6, warm=lambda: again_lines,
        precheck=lambda ctx, _t, _w: _precheck_join(ctx, Req("POST", f"/api/v1/sessions/{session}/join",
                                                             headers=bearer(f.start_tokens[-1])), "a first join"),
        before=lambda ctx: _attended(ctx, session), after=first_after,
        profile=lambda: list(reversed(first_lines)), single_use=True, seconds=FIRST_JOIN_SECONDS)
    again = Bench(
        "join again (Jitsi token)",
        f"POST /api/v1/sessions/<live id>/join by {len(again_lines):,} registrants who joined at its start "
        "(a dropped connection, a second device)", lambda: again_lines, (200,), 0.6,
        precheck=lambda ctx, timed, _w: _precheck_join(ctx, timed[0], "a join again"), profile=lambda: again_lines)
    return first, again


# --- writes -----------------------------------------------------------------------------------------------------------


def _registrations(f: Fixture, rng: random.Random) -> Bench:
    order = list(range(len(f.resident_tokens)))
    rng.shuffle(order)

    def burst(session_ids: list[int]) -> list[Req]:  # each resident once, the sessions taken in turn
        return [Req("POST", f"/api/v1/sessions/{session_ids[k % len(session_ids)]}/registrations",
                    headers=bearer(f.resident_tokens[r])) for k, r in enumerate(order)]

    lines = burst(f.burst_session_ids)
    warm = [Req("POST", f"/api/v1/sessions/{f.warm_session_id}/registrations", headers=bearer(f.resident_tokens[r]))
            for r in reversed(order)]

    def precheck(ctx: Context, _timed: list[Req], warm: list[Req]) -> dict[str, bool]:
        checks: dict[str, bool] = {}
        answer = fetch(ctx.majlis_url, warm[-1])
        body = answer.json() or {}
        _check(ctx, checks, "pre-check: a registration answers 201 with its place",
               answer.status == 201 and body.get("status") in ("confirmed", "waitlisted"), str(answer.status))
        return checks

    def after(ctx: Context, row: Row, _state) -> None:
        checks, detail, underfilled = _seat_checks(ctx, f.burst_session_ids, row.majlis_load.count(201),
                                                   ctx.connections)
        row.extra_checks.update(checks)
        row.note = detail + "; " + row.note
        if underfilled:
            row.note += (f"; the burst did not overfill session(s) {', '.join(map(str, underfilled))}, so zero "
                         "overbooking proves little there")

    capacities = ", ".join(str(c) for c in f.burst_capacities)
    return Bench(
        "registration burst",
        f"POST /api/v1/sessions/<id>/registrations: {len(lines):,} different residents, each once, "
        f"{len(f.burst_session_ids)} sessions whose registration opened at once (capacities {capacities}) in turn",
        lambda: lines, (201,), 0.5, warm=lambda: warm, precheck=precheck, after=after,
        profile=lambda: burst(f.spare_session_ids), single_use=True)


def _vote_pairs(f: Fixture, rng: random.Random, questions: list[int], per_resident: int) -> list[tuple[int, int]]:
    """(resident, question) pairs, each at most once and none cast already; popular questions drawn more often."""
    cast = set(f.seeded_votes)
    weights = [1 / (rank + 1) ** 0.8 for rank in range(len(questions))]
    rounds: list[list[tuple[int, int]]] = [[] for _ in range(per_resident)]
    residents = list(range(len(f.resident_tokens)))
    rng.shuffle(residents)
    for resident in residents:
        chosen: list[int] = []
        while len(chosen) < per_resident:
            question = rng.choices(questions, weights=weights)[0]
            if question not in chosen and (resident, question) not in cast:
                chosen.append(question)
        for n, question in enumerate(chosen):
            rounds[n].append((resident, question))
    return [pair for part in rounds for pair in part]


def _votes(f: Fixture, rng: random.Random) -> Bench:
    def requests(pairs):
        return [Req("POST", f"/api/v1/questions/{q}/vote", headers=bearer(f.resident_tokens[r])) for r, q in pairs]

    lines = requests(_vote_pairs(f, rng, f.vote_question_ids, 2))
    warm = requests(_vote_pairs(f, rng, f.warm_vote_question_ids, 1))

    def precheck(ctx: Context, _timed: list[Req], warm: list[Req]) -> dict[str, bool]:
        checks: dict[str, bool] = {}
        answer = fetch(ctx.majlis_url, warm[-1])
        body = answer.json() or {}
        _check(ctx, checks, "pre-check: a vote answers 200 with the question's count",
               answer.status == 200 and isinstance(body.get("votes"), int) and body["votes"] >= 1,
               f"{answer.status} {answer.text[:80]}")
        return checks

    def votes_cast(ctx: Context) -> int:
        from majlis.questions.models import Vote

        with ctx.database.session_factory() as db:
            return db.scalar(select(func.count()).select_from(Vote).where(Vote.question_id.in_(f.vote_question_ids)))

    def after(ctx: Context, row: Row, before: int) -> None:
        new, answered = votes_cast(ctx) - before, row.majlis_load.count(200)
        _check(ctx, row.extra_checks, "one new vote row per 200 (+ in-flight)", 0 <= new - answered <= ctx.connections,
               f"{new} new votes for {answered} answers")
        row.note = f"{new} votes recorded for {answered} answers 200; " + row.note

    return Bench(
        "vote burst",
        f"POST /api/v1/questions/<id>/vote on the live session's {len(f.vote_question_ids)} approved questions: "
        f"{len(lines):,} distinct (resident, question) pairs, {len(f.resident_tokens):,} residents voting for one "
        "question, then a second (popular questions drawn more often)",
        lambda: lines, (200,), 0.4, warm=lambda: warm, precheck=precheck, before=votes_cast, after=after,
        profile=lambda: requests(_vote_pairs(f, rng, f.profile_vote_question_ids, 1)), single_use=True)


def _questions(f: Fixture) -> Bench:
    def ask(session_id: int, token: str, n: int) -> Req:
        body = json.dumps({"body": QUESTION_TEXTS[n % len(QUESTION_TEXTS)].format(n=n)}, ensure_ascii=False)
        return Req("POST", f"/api/v1/sessions/{session_id}/questions", body=body, headers=bearer(token, **JSON))

    live = [ask(f.live_session_id, t, n) for n, t in enumerate(f.live_tokens)]
    starting = [ask(f.start_session_id, t, n + 10_000) for n, t in enumerate(reversed(f.start_tokens))]
    lines = [req for pair in zip_longest(starting, live) for req in pair if req is not None]  # the two in turn
    sessions = (f.live_session_id, f.start_session_id)
    warm = [ask(f.live_session_id, t, n + 20_000) for n, t in enumerate(reversed(f.live_tokens))]

    def precheck(ctx: Context, _timed: list[Req], warm: list[Req]) -> dict[str, bool]:
        checks: dict[str, bool] = {}
        answer = fetch(ctx.majlis_url, warm[-1])
        body = answer.json() or {}
        _check(ctx, checks, "pre-check: a question answers 201, pending moderation",
               answer.status == 201 and body.get("status") == "pending" and isinstance(body.get("id"), int),
               f"{answer.status} {answer.text[:80]}")
        return checks

    def asked(ctx: Context) -> int:
        from majlis.questions.models import Question

        with ctx.database.session_factory() as db:
            return db.scalar(select(func.count()).select_from(Question).where(Question.session_id.in_(sessions)))

    def after(ctx: Context, row: Row, before: int) -> None:
        new, answered = asked(ctx) - before, row.majlis_load.count(201)
        _check(ctx, row.extra_checks, "one new question row per 201 (+ in-flight)",
               0 <= new - answered <= ctx.connections, f"{new} new questions for {answered} answers")
        row.note = f"{new} questions recorded for {answered} answers 201; " + row.note

    return Bench(
        "question submit",
        f"POST /api/v1/sessions/<id>/questions (JSON, UTF-8): {len(lines):,} lines, each registrant asking once per "
        f"session: {len(f.live_tokens):,} on the live session, {len(f.start_tokens):,} on the one about to start",
        lambda: lines, (201,), 0.4, warm=lambda: warm, precheck=precheck, before=asked, after=after,
        profile=lambda: [ask(f.live_session_id, t, n + 30_000) for n, t in enumerate(f.live_tokens)],
        single_use=True)


def _seat_checks(ctx: Context, session_ids: list[int], accepted: int,
                 in_flight: int) -> tuple[dict[str, bool], str, list[int]]:
    """After the burst: per session, the counter, the rows and the answers agree, and nobody is over capacity.

    wrk counts only the answers it read before its deadline; the requests still in flight then (at most one per
    connection) are served and committed all the same, so there may be up to `in_flight` more rows than 201s.
    """
    from majlis.enums import RegistrationStatus
    from majlis.registration.models import Registration
    from majlis.sessions.models import MajlisSession

    overbooked, not_full, counters_off, underfilled, rows, details = [], [], [], [], 0, []
    with ctx.database.session_factory() as db:
        for session_id in session_ids:
            row = db.get(MajlisSession, session_id)
            per_status = Counter(dict(db.execute(select(Registration.status, func.count()).where(
                Registration.session_id == session_id).group_by(Registration.status)).all()))
            confirmed = per_status[RegistrationStatus.CONFIRMED]
            waitlisted = per_status[RegistrationStatus.WAITLISTED]
            rows += confirmed + waitlisted
            if confirmed > row.capacity or row.confirmed_count > row.capacity:
                overbooked.append(session_id)
            if not row.confirmed_count == confirmed == min(row.capacity, confirmed + waitlisted):
                not_full.append(session_id)
            if row.waitlist_count != waitlisted:
                counters_off.append(session_id)
            if confirmed + waitlisted <= row.capacity:
                underfilled.append(session_id)
            details.append(f"#{session_id} capacity {row.capacity}: confirmed {confirmed} (counter "
                           f"{row.confirmed_count}), waiting {waitlisted} (counter {row.waitlist_count})")
    checks = {
        "zero overbooking (confirmed rows and counters ≤ capacity, every session)": not overbooked,
        "no seat empty while someone waits: confirmed_count == confirmed rows == min(capacity, rows)": not not_full,
        "waitlist_count == waitlisted rows; one row per 201 (+ in-flight)": not counters_off
        and 0 <= rows - accepted <= in_flight,
    }
    for label, ok in checks.items():
        if not ok:
            ctx.log(f"    CHECK FAILED: {label}")
    detail = "; ".join(details) + f"; {rows} rows for {accepted} answers 201"
    ctx.log(f"    seats: {detail}")
    return checks, detail, underfilled
