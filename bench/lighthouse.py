"""`make lighthouse`: Lighthouse scores of Majlis's key pages, mobile form factor, in Arabic and English.

A check tool, not a test: it starts Majlis under gunicorn on a free loopback port with the demo data in a scratch
instance folder (SQLite), signs in through the real login form (CSRF token included) for the pages that need an
account, runs Lighthouse (from the npm registry, in .venv/lighthouse) against Debian's Chromium for every page and
language, and prints a table of the four category scores plus, per page, the ids of the audits that failed.

Settings (environment):
- LIGHTHOUSE_BIN: the lighthouse command (default .venv/lighthouse/node_modules/.bin/lighthouse);
- CHROME_PATH: the browser (default /usr/bin/chromium);
- LIGHTHOUSE_ONLY=home,login: only the pages whose keys contain one of these parts;
- LIGHTHOUSE_LANGS=ar,en: the languages (default both);
- LIGHTHOUSE_JSON=dir: keep every Lighthouse report there (JSON), to read an audit's details;
- LIGHTHOUSE_KEEP=1: keep the scratch instance folder and the server log.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess  # noqa: S404 - runs majlis, gunicorn and lighthouse with fixed arguments
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.cookiejar import CookieJar
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
LIGHTHOUSE = os.environ.get("LIGHTHOUSE_BIN") or str(ROOT / ".venv/lighthouse/node_modules/.bin/lighthouse")
CHROME = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
CHROME_FLAGS = "--headless --no-sandbox --disable-gpu --disable-background-networking"
# Lighthouse 12's emulated mobile browser (moto g power), pinned so that the login form sees the same User-Agent.
USER_AGENT = ("Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/136.0.0.0 Mobile Safari/537.36")
CATEGORIES = ["accessibility", "best-practices", "seo", "performance"]
SHORT = {"accessibility": "a11y", "best-practices": "best", "seo": "seo", "performance": "perf"}


@dataclass(frozen=True)
class Page:
    key: str
    path: str  # may contain {session}
    account: str | None  # demo e-mail to sign in as, or None for anonymous
    public: bool  # public pages are indexable; private ones carry noindex


PAGES = [
    Page("home", "/", None, True),
    Page("session", "/sessions/{session}", None, True),
    Page("session-signed-in", "/sessions/{session}", "resident@demo.majlis", True),
    Page("archive", "/archive", None, True),
    Page("accountability", "/accountability", None, True),
    Page("login", "/login", None, True),
    Page("signup", "/signup", None, True),
    Page("account", "/account", "resident@demo.majlis", False),
    Page("console", "/sessions/{session}/moderate", "moderator@demo.majlis", False),
    Page("staff-desk", "/staff/", "staff@demo.majlis", False),
    Page("staff-calendar", "/staff/calendar", "staff@demo.majlis", False),
    Page("staff-series-new", "/staff/series/new", "staff@demo.majlis", False),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def majlis(env: dict, *args: str) -> str:
    done = subprocess.run([str(VENV_BIN / "majlis"), *args], env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode:
        raise SystemExit(f"majlis {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


@contextlib.contextmanager
def demo_server(prefix: str, seed: Callable[[dict], None] | None = None) -> Iterator[str]:
    """Majlis under gunicorn on a free loopback port, with the demo data in a scratch instance folder (SQLite);
    `seed(env)` may add rows before it starts. Yields the base URL; stops the server and removes the folder after
    (LIGHTHOUSE_KEEP=1 keeps the folder and the server log)."""
    scratch = Path(tempfile.mkdtemp(prefix=prefix))
    env = {**os.environ, "MAJLIS_INSTANCE_PATH": str(scratch), "MAJLIS_ENV": "development"}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    majlis(env, "init-db")
    majlis(env, "demo")
    if seed:
        seed(env)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = scratch / "gunicorn.log"
    with log.open("w") as log_file:
        server = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2",
             "--worker-class", "gthread", "--threads", "4", "--chdir", str(ROOT), "wsgi:app"],
            env=env, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        wait_until_up(base, server, log)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        if os.environ.get("LIGHTHOUSE_KEEP") == "1":
            print(f"kept {scratch}", file=sys.stderr)
        else:
            shutil.rmtree(scratch, ignore_errors=True)


def wait_until_up(base: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn stopped:\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2):  # noqa: S310 - loopback
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"Majlis did not answer on {base}:\n{log.read_text(errors='replace')}")


def sign_in(base: str, email: str, password: str) -> list[tuple[str, str]]:
    """Sign in through the login form (CSRF token included); return the cookies it set."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    # The session is bound to the browser's address and User-Agent (Flask-Login's strong protection): sign in as
    # the browser Lighthouse emulates.
    opener.addheaders = [("User-Agent", USER_AGENT)]
    with opener.open(base + "/login") as response:
        html = response.read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html)
    if not token:
        raise SystemExit("no csrf_token on /login")
    body = urllib.parse.urlencode({"csrf_token": token.group(1), "email": email, "password": password}).encode()
    with opener.open(base + "/login", data=body) as response:
        landed = response.geturl()
    if landed.rstrip("/").endswith("/login"):
        raise SystemExit(f"signing in as {email} failed")
    return [(cookie.name, cookie.value) for cookie in jar]


def first_session_id(base: str) -> int:
    with urllib.request.urlopen(base + "/?lang=en") as response:  # noqa: S310 - loopback
        html = response.read().decode()
    found = re.search(r'href="/sessions/(\d+)"', html)
    if not found:
        raise SystemExit("no session linked from the home page: did the demo load?")
    return int(found.group(1))


def run_lighthouse(url: str, cookies: list[tuple[str, str]] | None, keep_as: Path | None) -> dict:
    command = [LIGHTHOUSE, url, "--quiet", "--output=json", "--output-path=stdout", "--form-factor=mobile",
               f"--only-categories={','.join(CATEGORIES)}", f"--chrome-flags={CHROME_FLAGS}",
               f"--emulated-user-agent={USER_AGENT}"]
    if cookies:
        cookie = "; ".join(f"{name}={value}" for name, value in cookies)
        command.append("--extra-headers=" + json.dumps({"Cookie": cookie}))
    done = subprocess.run(command, env={**os.environ, "CHROME_PATH": CHROME}, capture_output=True, text=True,  # noqa: S603
                          check=False, timeout=300)
    if done.returncode:
        raise RuntimeError(f"lighthouse failed on {url}:\n{done.stderr[-2000:]}")
    report = json.loads(done.stdout)
    if keep_as:
        keep_as.write_text(done.stdout)
    return report


def failing_audits(report: dict) -> list[str]:
    """The audits that cost points: scored below 1 (below 0.9 for performance, where 1 is rare and noise)."""
    failed = []
    for name in CATEGORIES:
        for ref in report["categories"][name]["auditRefs"]:
            audit = report["audits"].get(ref["id"], {})
            score = audit.get("score")
            if score is None or audit.get("scoreDisplayMode") in ("manual", "informative", "notApplicable"):
                continue
            if ref.get("weight", 0) and score < (0.9 if name == "performance" else 1):
                failed.append(ref["id"] if name != "performance" else f"{ref['id']}={score:.2f}")
    return sorted(set(failed))


def main() -> int:
    if not Path(LIGHTHOUSE).exists():
        raise SystemExit(f"{LIGHTHOUSE} is missing: npm install --prefix .venv/lighthouse lighthouse")
    if not Path(CHROME).exists():
        raise SystemExit(f"{CHROME} is missing: apt-get install chromium")
    only = [part for part in os.environ.get("LIGHTHOUSE_ONLY", "").split(",") if part]
    langs = [lang for lang in os.environ.get("LIGHTHOUSE_LANGS", "ar,en").split(",") if lang]
    pages = [page for page in PAGES if not only or any(part in page.key for part in only)]
    keep_json = Path(os.environ["LIGHTHOUSE_JSON"]) if os.environ.get("LIGHTHOUSE_JSON") else None
    if keep_json:
        keep_json.mkdir(parents=True, exist_ok=True)

    with demo_server("majlis-lighthouse-") as base:
        session_id = first_session_id(base)
        from majlis.demo import DEMO_PASSWORD

        rows = []
        signed_in: dict[str, list[tuple[str, str]]] = {}
        for page in pages:
            if page.account and page.account not in signed_in:
                signed_in[page.account] = sign_in(base, page.account, DEMO_PASSWORD)
            for lang in langs:
                rows.append(audit_page(base, page, session_id, lang, signed_in.get(page.account or ""), keep_json))

    text = table(rows)
    print(text, end="")
    if not only and langs == ["ar", "en"]:
        version = subprocess.run([LIGHTHOUSE, "--version"], capture_output=True, text=True, check=False).stdout.strip()  # noqa: S603
        write_results(text, version)
        print("written to docs/lighthouse.md")
    return 0


def audit_page(base: str, page: Page, session_id: int, lang: str, cookies: list[tuple[str, str]] | None,
               keep_json: Path | None) -> tuple:
    url = base + page.path.format(session=session_id) + f"?lang={lang}"
    started = time.monotonic()
    keep_as = keep_json / f"{page.key}-{lang}.json" if keep_json else None
    try:
        report = run_lighthouse(url, cookies, keep_as)
    except (RuntimeError, subprocess.TimeoutExpired, json.JSONDecodeError) as exc:
        print(f"{page.key} {lang}: {exc}", file=sys.stderr)
        return (page, lang, None, [])
    final = report.get("finalDisplayedUrl") or report.get("finalUrl", url)
    if final.split("?")[0] != url.split("?")[0]:
        print(f"warning: {url} ended at {final}", file=sys.stderr)
    scores = {name: report["categories"][name]["score"] for name in CATEGORIES}
    print(f"  {page.key:<18} {lang}  {time.monotonic() - started:4.0f} s", file=sys.stderr, flush=True)
    return (page, lang, scores, failing_audits(report))


def fmt(score: float | None) -> str:
    return "  -  " if score is None else f"{score:.2f}"


def table(rows: list) -> str:
    """The scores as a Markdown table, then the audits that cost points."""
    lines = [f"| {'page':<18} | lang | " + " | ".join(f"{SHORT[name]:>4}" for name in CATEGORIES) + " |",
             f"|{'-' * 20}|------|" + "|".join("------" for _ in CATEGORIES) + "|"]
    for page, lang, scores, _failed in rows:
        cells = " | ".join(fmt(scores[name] if scores else None) for name in CATEGORIES)
        lines.append(f"| {page.key:<18} | {lang:<4} | {cells} |")
    lines += ["", "Failing audits (performance: those below 0.90, with their score):", ""]
    for page, lang, scores, failed in rows:
        if scores is None:
            lines.append(f"- {page.key} {lang}: lighthouse failed")
        elif failed:
            lines.append(f"- {page.key} {lang}: {', '.join(failed)}")
    if all(scores and not failed for _p, _l, scores, failed in rows):
        lines.append("- none")
    return "\n".join(lines) + "\n"


RESULTS_START, RESULTS_END = "<!-- results: written by make lighthouse -->", "<!-- /results -->"


def write_results(text: str, version: str) -> None:
    """Put the table between the markers of docs/lighthouse.md (a full run only: a narrowed one just prints)."""
    doc = ROOT / "docs" / "lighthouse.md"
    before, _, rest = doc.read_text().partition(RESULTS_START)
    _, _, after = rest.partition(RESULTS_END)
    heading = f"## {time.strftime('%Y-%m-%d')}, Lighthouse {version}, Debian Chromium, command `make lighthouse`"
    doc.write_text(f"{before}{RESULTS_START}\n{heading}\n\n{text}{RESULTS_END}{after}")


if __name__ == "__main__":
    sys.exit(main())
