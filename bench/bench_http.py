"""The HTTP benchmarks: each Majlis endpoint under wrk, right after its bare-stack ceiling, same settings.

Each Majlis run sits between two runs of its ceiling (ceiling, Majlis, ceiling; the ceiling is their mean), which
keeps the ratio honest on a shared machine: whatever else runs on the two cores, or starts or stops during the
pair, weighs on both sides about equally. Reads come first, writes last, so the
304 run's ETag and the session page still describe the data the earlier runs saw.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import loadgen
from loadgen import JSON, Load, Req, bearer
from seed import Fixture
from sqlalchemy import func, select

QUESTION_TEXTS = [
    "متى يبدأ العمل في صيانة الطريق {n}؟",
    "Could the bus stop on road {n} get a shelter before summer?",
    "نطلب زيادة الدوريات المرورية قرب المدرسة {n}",
]


@dataclass
class Row:
    """One line of the results table."""

    name: str
    majlis: float | None  # req/s, or ms for latency rows
    ceiling: float | None
    ceiling_name: str
    unit: str
    target: float | None  # minimum ratio (req/s rows) or maximum ms (latency rows)
    note: str = ""
    majlis_load: Load | None = None
    ceiling_load: Load | None = None
    ceiling_after: Load | None = None
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
        if self.target is None:
            return None if not self.extra_checks else all(self.extra_checks.values())
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
            text = ("" if text == "—" else text + " ") + f"+ {len(self.extra_checks)} checks"
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
    results_dir: Path | None = None
    only: tuple[str, ...] = ()  # BENCH_ONLY: run only the benchmarks whose names contain one of these


def wanted(only: tuple[str, ...], name: str) -> bool:
    return not only or any(part in name for part in only)


def _load(ctx: Context, base: str, requests: list[Req], seconds: float | None = None) -> Load:
    seconds = seconds or ctx.seconds
    return loadgen.run(base, requests, seconds=seconds, connections=ctx.connections, wrk=ctx.wrk)


def _warm(ctx: Context, base: str, requests: list[Req]) -> None:
    """One second of the same requests first: imports, template compilation and pool connections settle."""
    loadgen.run(base, requests, seconds=1, connections=ctx.connections, wrk=ctx.wrk)


def _pair(ctx: Context, name: str, *, ceiling_name: str, ceiling: list[Req], majlis: list[Req],
          ok_codes: tuple[int, ...], target: float | None, warm: list[Req] | None = None,
          bare_codes: tuple[int, ...] = (200, 201), seconds: float | None = None) -> Row | None:
    if not wanted(ctx.only, name):
        return None
    _warm(ctx, ctx.bare_url, ceiling)
    bare = _load(ctx, ctx.bare_url, ceiling, seconds)
    _warm(ctx, ctx.majlis_url, warm if warm is not None else majlis)
    real = _load(ctx, ctx.majlis_url, majlis, seconds)
    bare_after = _load(ctx, ctx.bare_url, ceiling, seconds)
    mean_ceiling = (bare.rate(*bare_codes) + bare_after.rate(*bare_codes)) / 2
    row = Row(name=name, majlis=real.rate(*ok_codes), ceiling=mean_ceiling,
              ceiling_name=ceiling_name, unit="req/s", target=target, majlis_load=real, ceiling_load=bare,
              ceiling_after=bare_after)
    unexpected = real.requests - real.count(*ok_codes)
    row.note = (f"Majlis p50 {real.p50_ms:.0f} ms, p99 {real.p99_ms:.0f} ms; statuses {real.describe_statuses()}; "
                f"{ceiling_name} before/after {bare.rate(*bare_codes):,.0f}/{bare_after.rate(*bare_codes):,.0f} req/s")
    if unexpected or real.errors:
        row.note += f" ({unexpected} unexpected responses)"
    ctx.log(f"  {name:<28} Majlis {row.majlis:8.1f} req/s   {ceiling_name} {row.ceiling:8.1f} req/s   "
            f"ratio {row.ratio:.2f}   [{real.describe_statuses()}]")
    return row


def _etag(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - loopback only
        response.read()
        return response.headers["ETag"]


def run_suite(ctx: Context) -> list[Row]:
    f = ctx.fixture
    hello = [Req("GET", "/hello")]
    sign = [Req("POST", "/jwt")]
    insert = [Req("POST", "/insert")]
    sign_insert = [Req("POST", "/jwt-insert")]
    rows: list[Row] = []
    # Both servers have just started: let every worker take its first requests (imports, pools) before any figure.
    _warm(ctx, ctx.bare_url, hello)
    _warm(ctx, ctx.majlis_url, [Req("GET", "/healthz")])

    # Majlis's own floor: its cheapest route (one SELECT 1) through all of its hooks and extensions. No target;
    # it shows how much of every other ratio is the per-request machinery rather than the endpoint's own work.
    rows.append(_pair(ctx, "floor: /healthz", ceiling_name="bare hello", ceiling=hello,
                      majlis=[Req("GET", "/healthz")], ok_codes=(200,), target=None))

    # Reads.
    list_reqs = [Req("GET", "/api/v1/sessions", headers=bearer(t)) for t in f.resident_tokens[:200]]
    rows.append(_pair(ctx, "session list (API)", ceiling_name="bare hello", ceiling=hello, majlis=list_reqs,
                      ok_codes=(200,), target=0.6))
    # Joins at a session's start: each resident's first (it records attendance), in a burst bounded so that no
    # resident joins twice within it; then joins again (a dropped connection, a second device).
    join_reqs = [Req("POST", f"/api/v1/sessions/{f.live_session_id}/join", headers=bearer(t)) for t in f.live_tokens]
    first_joins = [Req("POST", f"/api/v1/sessions/{f.start_session_id}/join", headers=bearer(t))
                   for t in f.resident_tokens]
    # A first join signs a token and writes a record: its ceiling signs and inserts (the bare sign alone is the
    # next row's ceiling; the ratio to it is noted too).
    first = _pair(ctx, "join, first (records attendance)", ceiling_name="bare PyJWT sign + insert",
                  ceiling=sign_insert, majlis=first_joins, ok_codes=(200,), target=0.6, warm=join_reqs,
                  seconds=FIRST_JOIN_SECONDS)
    if first is not None:
        first.extra_checks, detail = _attendance_checks(ctx, f.start_session_id, first.majlis_load.count(200),
                                                        in_flight=ctx.connections)
        first.note = detail + "; " + first.note
    rows.append(first)
    again = _pair(ctx, "join again (Jitsi token)", ceiling_name="bare PyJWT sign", ceiling=sign,
                  majlis=join_reqs, ok_codes=(200,), target=0.6)
    rows.append(again)
    if first is not None and again is not None:
        first.note += f"; against the bare PyJWT sign alone (next row's ceiling): {first.majlis / again.ceiling:.2f}"
    page = [Req("GET", f"/sessions/{f.live_session_id}")]
    rows.append(_pair(ctx, "session page (HTML)", ceiling_name="bare hello", ceiling=hello, majlis=page,
                      ok_codes=(200,), target=None))
    feed = [Req("GET", "/calendar/majlis.ics")]
    rows.append(_pair(ctx, "ICS feed, full", ceiling_name="bare hello", ceiling=hello, majlis=feed,
                      ok_codes=(200,), target=0.4))
    etag = _etag(ctx.majlis_url + "/calendar/majlis.ics")
    conditional = [Req("GET", "/calendar/majlis.ics", headers={"If-None-Match": etag})]
    rows.append(_pair(ctx, "ICS feed, 304", ceiling_name="bare hello", ceiling=hello, majlis=conditional,
                      ok_codes=(304,), target=0.8))

    # Writes: each resident registers once; the warm-up spends its requests on another session.
    register = [Req("POST", f"/api/v1/sessions/{f.reg_session_id}/registrations", headers=bearer(t))
                for t in f.resident_tokens]
    warm_register = [Req("POST", f"/api/v1/sessions/{f.warm_session_id}/registrations", headers=bearer(t))
                     for t in reversed(f.resident_tokens)]
    row = _pair(ctx, "registration burst", ceiling_name="bare insert", ceiling=insert, majlis=register,
                ok_codes=(201,), target=0.5, warm=warm_register)
    if row is not None:
        row.extra_checks, detail = _seat_checks(ctx, f.reg_session_id, f.reg_capacity, row.majlis_load.count(201),
                                                in_flight=ctx.connections)
        row.note = detail + "; " + row.note
        if row.majlis_load.count(201) <= f.reg_capacity:
            row.note += "; the burst did not overfill the session, so the seat checks prove little"
        if row.majlis_load.count(201) >= len(f.resident_tokens):
            row.note += "; WARNING: every resident registered, the burst ran out of residents"
    rows.append(row)

    # Every (resident, question) pair at most once: 5000 residents × 40 questions, taken in a diagonal.
    pairs = [(f.resident_tokens[i % len(f.resident_tokens)],
              f.approved_question_ids[(i // len(f.resident_tokens) + i) % len(f.approved_question_ids)])
             for i in range(20_000)]
    votes = [Req("POST", f"/api/v1/questions/{q}/vote", headers=bearer(t)) for t, q in pairs[:16_000]]
    warm_votes = [Req("POST", f"/api/v1/questions/{q}/vote", headers=bearer(t)) for t, q in pairs[16_000:]]
    rows.append(_pair(ctx, "vote burst", ceiling_name="bare insert", ceiling=insert, majlis=votes,
                      ok_codes=(200,), target=None, warm=warm_votes))

    asks = [Req("POST", f"/api/v1/sessions/{f.live_session_id}/questions",
                body=json.dumps({"body": QUESTION_TEXTS[i % 3].format(n=i)}, ensure_ascii=True),
                headers=bearer(t, **JSON)) for i, t in enumerate(f.live_tokens)]
    rows.append(_pair(ctx, "question submit", ceiling_name="bare insert", ceiling=insert, majlis=asks,
                      ok_codes=(201,), target=None, warm=asks[len(asks) // 2:]))

    rows = [row for row in rows if row is not None]
    if ctx.profile_hook:
        # Built when needed: the feed's ETag has moved since (registrations touch sessions), and the profile of a
        # registration burst needs a session nobody has registered for yet.
        profiles = {
            "session list (API)": lambda: list_reqs,
            "join again (Jitsi token)": lambda: join_reqs,
            "session page (HTML)": lambda: page,
            "ICS feed, full": lambda: feed,
            "ICS feed, 304": lambda: [Req("GET", "/calendar/majlis.ics", headers={
                "If-None-Match": _etag(ctx.majlis_url + "/calendar/majlis.ics")})],
            "registration burst": lambda: [Req("POST", f"/api/v1/sessions/{f.spare_session_id}/registrations",
                                               headers=bearer(t)) for t in f.resident_tokens],
        }
        for row in rows:
            if row.met is False and row.name in profiles:
                row.profile = ctx.profile_hook(row.name, profiles[row.name]())
    return rows


FIRST_JOIN_SECONDS = 1  # 5000 residents: a longer run would join some of them twice


def _attendance_checks(ctx: Context, session_id: int, answered: int, in_flight: int) -> tuple[dict[str, bool], str]:
    """After the first joins: one attendance per resident who got a token (none lost, none twice)."""
    from majlis.registration.models import Registration

    with ctx.database.session_factory() as db:
        attended = db.scalar(select(func.count()).select_from(Registration).where(
            Registration.session_id == session_id, Registration.attended_at.is_not(None)))
        registrants = db.scalar(select(func.count()).select_from(Registration).where(
            Registration.session_id == session_id))
    checks = {
        "every token answered is one recorded attendance (+ in-flight)": 0 <= attended - answered <= in_flight,
        "no resident joined twice within the burst": attended < registrants,
    }
    detail = f"{attended} attendances recorded for {answered} tokens answered, of {registrants} registrants"
    ctx.log(f"    first joins: {detail}")
    return checks, detail


def _seat_checks(ctx: Context, session_id: int, capacity: int, accepted: int,
                 in_flight: int) -> tuple[dict[str, bool], str]:
    """After the burst: the counter, the rows and the answers must agree, and nobody is over capacity.

    wrk counts only the answers it read before its deadline; the requests still in flight then (at most one per
    connection) are served and committed all the same, so there may be up to `in_flight` more rows than 201s.
    """
    from majlis.enums import RegistrationStatus
    from majlis.registration.models import Registration
    from majlis.sessions.models import MajlisSession

    with ctx.database.session_factory() as db:
        row = db.get(MajlisSession, session_id)

        def count(status):
            return db.scalar(select(func.count()).select_from(Registration).where(
                Registration.session_id == session_id, Registration.status == status))

        confirmed, waitlisted = count(RegistrationStatus.CONFIRMED), count(RegistrationStatus.WAITLISTED)
        checks = {
            "zero overbooking (confirmed rows and counter ≤ capacity)": confirmed <= capacity
            and row.confirmed_count <= capacity,
            "session full: confirmed_count == confirmed rows == capacity": row.confirmed_count == capacity == confirmed,
            "waitlist_count == waitlisted rows, and one row per 201 (+ in-flight)": row.waitlist_count == waitlisted
            and 0 <= confirmed + waitlisted - accepted <= in_flight,
        }
        detail = (f"capacity {capacity}: confirmed_count {row.confirmed_count}, confirmed rows {confirmed}, "
                  f"waitlisted rows {waitlisted} (counter {row.waitlist_count}), 201 answers {accepted}")
    ctx.log(f"    seats: {detail}")
    return checks, detail
