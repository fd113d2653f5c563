"""Archive search at scale: the median time of a two-word Arabic query over 10,000 published minutes with their
transcripts, on SQLite (FTS5) and PostgreSQL (tsvector + GIN). Target: under 50 ms at the median.

    .venv/bin/python bench/bench_search.py                       # SQLite in a scratch folder
    .venv/bin/python bench/bench_search.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/bench_search.py --database-url sqlite --database-url postgresql+psycopg://...

A PostgreSQL URL names the server: the bench makes a scratch database there and drops it afterwards. What is
timed is `minutes.services.search` itself, as the archive page and the API call it: the index's query, the
visibility rule, the ranking, and the snippets of the 20 hits shown. Prints one line per engine and query, and a
summary; exits non-zero if a median misses the target (unless --no-check).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import seed as bench_seed  # noqa: E402 - bench/seed.py (this module's own seed() seeds the archive)

TARGET_MS = 50.0
DOCUMENTS = 10_000
QUERIES = {
    "two words (the target)": "انارة الشارع",
    "two words, other spellings": "إنارة الشوارع",
    "one rarer word": "الكورنيش",
    "two words in every document": "المحافظ الوزارة",  # the worst case: every document matches
}
# Words every majlis uses (in nearly every document), then topics: each document takes up a few of them, more often
# the frequent complaints (roads, lighting); their words appear only there. A long tail of rarer word forms (made
# from Arabic letters) gives the index a real language's spread of vocabulary.
COMMON = (
    "المحافظ المجلس الأسبوعي الجلسة الحضور المواطنين الأهالي طلب طلبات شكوى متابعة ملف الوزارة وزارة الجهة "
    "المختصة الرد خلال شهر أسبوع قريبا عاجل مهم الأولوية الخطة اللجنة الاجتماع القادم المسؤول المسئول "
    "قال أكد أوضح أشار وعد طالب سأل أجاب شكر رحب ناقش استعرض تابع أحال قرر وافق "
    "في من على إلى عن مع هذا هذه التي الذي كان أن إن لا ما هل كل بعد قبل حتى أيضا جدا"
).split()
TOPICS = {  # name: (weight, words)
    "lighting": (3, "إنارة انارة أنارة الإنارة الأعمدة المصابيح مظلم ليلا الإضاءة"),
    "roads": (4, "الشارع الشوارع شارع الطريق الطرق الحفر الأرصفة الرصيف الإسفلت الازدحام"),
    "sewage": (2, "المجاري الصرف الصحي الطفح الروائح الشبكة"),
    "water": (2, "المياه الانقطاع الضغط الخزان التسرب"),
    "housing": (3, "الإسكان الوحدات السكنية الطلب الإسكاني الانتظار القرض"),
    "schools": (2, "المدرسة مدرسه المدارس الطلبة المعلمين الفصول"),
    "health": (2, "المستشفى مستشفي المركز الصحي المواعيد الأطباء"),
    "parks": (1, "الحديقة الحدائق الملعب الألعاب الأطفال"),
    "coast": (1, "الساحل الكورنيش الشاطئ الممشى"),
    "markets": (1, "السوق الأسواق المحلات البسطات"),
    "traffic": (2, "المرور الإشارة الضوئية المطبات السرعة الحوادث"),
    "affairs": (2, "شؤون شئون البلدية البلديات التراخيص الرسوم"),
    "land": (1, "الأراضي التعويض الاستملاك المخطط"),
    "bridges": (1, "الجسر النفق التقاطع الدوار"),
}
PLACES = "سترة المحرق الرفاع عيسى حمد البديع جدحفص السنابس توبلي سند النويدرات العكر الديه".split()
LETTERS = "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"
SPEAKERS = ("المحافظ", "مدير البلدية", "ممثل وزارة الأشغال", "فاطمة", "أحمد", "مريم", "علي", "خالد", "زينب")


def _tail(rng: random.Random, size: int = 20_000) -> list[str]:
    return ["".join(rng.choice(LETTERS) for _ in range(rng.randint(3, 7))) for _ in range(size)]


def text(rng: random.Random, words: int, topic_words: list[str], tail: list[str]) -> str:
    """Sentences: common words, the document's topics' words and a Zipf-skewed draw from the long tail."""
    picked = []
    for _ in range(words):
        roll = rng.random()
        if roll < 0.45:
            picked.append(rng.choice(COMMON))
        elif roll < 0.55 and topic_words:
            picked.append(rng.choice(topic_words))
        elif roll < 0.58:
            picked.append(rng.choice(PLACES))
        else:
            picked.append(tail[min(int(rng.paretovariate(0.9)) - 1, len(tail) - 1)])
    sentences, cursor = [], 0
    while cursor < len(picked):
        length = rng.randint(6, 16)
        sentences.append(" ".join(picked[cursor:cursor + length]) + rng.choice(("،", ".", ".", "؟")))
        cursor += length
    return " ".join(sentences)


def document(rng: random.Random, tail: list[str]) -> str:
    """Minutes (about 600 words) and a transcript (about 1,000) on three of the topics."""
    names = list(TOPICS)
    chosen = set()
    while len(chosen) < 3:
        chosen.add(rng.choices(names, weights=[TOPICS[name][0] for name in names])[0])
    topic_words = [word for name in chosen for word in TOPICS[name][1].split()]
    minutes = "\n".join([
        "# المجلس الأسبوعي", "", "## الحضور", f"المسجلون: {rng.randint(20, 80)}", "",
        "## الأسئلة التي أُجيب عنها",
        *(f"{i}. {text(rng, rng.randint(10, 30), topic_words, tail)}" for i in range(1, 6)), "",
        "## ملاحظات المشرفين", text(rng, 400, topic_words, tail),
    ])
    transcript = "\n".join(f"{rng.choice(SPEAKERS)}: {text(rng, rng.randint(15, 60), topic_words, tail)}"
                           for _ in range(25))
    return f"{minutes}\n\n## النص المكتوب للجلسة\n{transcript}\n"


def seed(url: str, documents: int) -> None:
    """The schema by the migrations, then sessions with published minutes and their index rows, in bulk."""
    from sqlalchemy import insert

    from majlis import migrations
    from majlis.db import make_engine
    from majlis.minutes.fulltext import index_text
    from majlis.minutes.models import ArchiveDocument, Minutes, MinutesRevision
    from majlis.sessions.models import MajlisSession

    engine = make_engine(url)
    migrations.upgrade(engine)
    rng = random.Random(18)
    tail = _tail(rng)
    start = datetime(2020, 1, 7, 16, 0, tzinfo=UTC)
    batch = 500
    with engine.begin() as connection:
        for first in range(0, documents, batch):
            sessions, minutes, revisions, indexed = [], [], [], []
            for number in range(first + 1, min(first + batch, documents) + 1):
                at = start + timedelta(days=number // 3, hours=number % 3)
                body = document(rng, tail)
                sessions.append({"id": number, "kind": "weekly", "title_ar": f"المجلس الأسبوعي {number}",
                                 "title_en": f"Weekly majlis {number}", "description_ar": "", "description_en": "",
                                 "visibility": "public" if number % 10 else "invited", "starts_at": at,
                                 "ends_at": at + timedelta(minutes=90), "status": "ended", "capacity": 50,
                                 "confirmed_count": 0, "waitlist_count": 0,
                                 "registration_opens_at": at - timedelta(days=7), "registration_closes_at": at,
                                 "room_name": f"majlis-bench{number:019d}", "sequence": 0, "live_version": 0,
                                 "public_viewing": False, "created_at": at, "updated_at": at})
                minutes.append({"id": number, "session_id": number, "status": "published", "body": body,
                                "compiled_at": at, "published_at": at, "created_at": at, "updated_at": at})
                revisions.append({"minutes_id": number, "number": 1, "body": body, "sha256": "0" * 64,
                                  "created_at": at})
                indexed.append({"session_id": number, "revision": 1, "updated_at": at,
                                "search_text": index_text(sessions[-1]["title_ar"], sessions[-1]["title_en"], body)})
            connection.execute(insert(MajlisSession.__table__), sessions)
            connection.execute(insert(Minutes.__table__), minutes)
            connection.execute(insert(MinutesRevision.__table__), revisions)
            connection.execute(insert(ArchiveDocument.__table__), indexed)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    else:
        with engine.begin() as connection:
            connection.exec_driver_sql("INSERT INTO archive_fts(archive_fts) VALUES ('optimize')")
            connection.exec_driver_sql("ANALYZE")
    engine.dispose()


def measure(url: str, runs: int) -> dict[str, list[float]]:
    """Time the archive search for each query, after a warm-up (milliseconds)."""
    from majlis import create_app
    from majlis.db import get_database
    from majlis.minutes import services

    with tempfile.TemporaryDirectory() as instance:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": instance})
        timings: dict[str, list[float]] = {}
        with app.app_context():
            db_session = get_database(app).session_factory()
            for label, query in QUERIES.items():
                hits = services.search(db_session, query, viewer=None)
                for _ in range(3):
                    services.search(db_session, query, viewer=None)
                found = []
                for _ in range(runs):
                    started = time.perf_counter()
                    services.search(db_session, query, viewer=None)
                    found.append((time.perf_counter() - started) * 1000)
                timings[label] = found
                timings[label + " (hits)"] = [float(len(hits))]
            db_session.close()
        get_database(app).engine.dispose()
    return timings


def run(given: str, *, documents: int = DOCUMENTS, runs: int = 101) -> tuple[dict[str, list[float]], float]:
    """Seed a scratch database on the engine `given` names ('sqlite…' or a PostgreSQL URL), time every query,
    drop the scratch database; returns the timings (ms) and the seconds seeding took. `make bench` calls this."""
    with tempfile.TemporaryDirectory() as scratch:
        cleanup = None
        if given.startswith("sqlite"):
            url = f"sqlite:///{Path(scratch) / 'bench-search.db'}"
        else:
            url, cleanup = bench_seed.scratch_postgres(given, "majlis_bench_search")
        try:
            started = time.perf_counter()
            seed(url, documents)
            seconds = time.perf_counter() - started
            return measure(url, runs), seconds
        finally:
            if cleanup is not None:
                cleanup()


def median_of(timings: dict[str, list[float]], label: str = "two words (the target)") -> float:
    return statistics.median(timings[label])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", action="append", default=[],
                        help="'sqlite' (a scratch file) or a PostgreSQL server URL; repeat for both (default sqlite)")
    parser.add_argument("--documents", type=int, default=DOCUMENTS)
    parser.add_argument("--runs", type=int, default=101)
    parser.add_argument("--no-check", action="store_true", help="exit 0 even if a median misses the target")
    args = parser.parse_args(argv)
    missed = False
    summary = []
    for given in args.database_url or ["sqlite"]:
        engine_name = "sqlite" if given.startswith("sqlite") else "postgresql"
        timings, seconds = run(given, documents=args.documents, runs=args.runs)
        print(f"{engine_name}: {args.documents} minutes with transcripts seeded and indexed in {seconds:.1f} s")
        for label, query in QUERIES.items():
            values = sorted(timings[label])
            median = statistics.median(values)
            p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
            hits = int(timings[label + " (hits)"][0])
            print(f"{engine_name}: {label:28s} «{query}»  median {median:6.2f} ms  p95 {p95:6.2f} ms  "
                  f"({hits} hits shown, {len(values)} runs)")
            if label == "two words (the target)":
                ok = median < TARGET_MS
                missed |= not ok
                summary.append(f"{engine_name} median {median:.2f} ms ({'ok' if ok else 'MISSED'}, target "
                               f"< {TARGET_MS:.0f} ms)")
    print("two-word Arabic query over", args.documents, "documents: " + "; ".join(summary))
    return 1 if missed and not args.no_check else 0


if __name__ == "__main__":
    sys.exit(main())
