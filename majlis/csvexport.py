"""CSV exports for spreadsheets: every cell defused against formula injection, UTF-8 with a BOM for Excel.

Every CSV Majlis serves goes through `csv_response`, so no cell (a name, an e-mail address, a phone number, a
status) reaches Excel or LibreOffice as a formula, whoever typed it (OWASP "CSV Injection").
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable

from flask import Response

# What makes a spreadsheet read a cell as a formula (or DDE), also in full width (NFKC folds ＝ to =).
FORMULA_STARTS = frozenset("=+-@\t\r\n|")


def defuse(value) -> str:
    """The cell as text, with a leading apostrophe when a spreadsheet would read it as a formula."""
    text = "" if value is None else str(value)
    # Spaces and invisible format characters before the sign do not stop every spreadsheet from evaluating it.
    visible = "".join(ch for ch in text[:64] if unicodedata.category(ch) != "Cf").lstrip(" \u00a0")
    first = unicodedata.normalize("NFKC", visible[:1])[:1]
    return "'" + text if first in FORMULA_STARTS and first else text


def csv_text(header: Iterable, rows: Iterable[Iterable]) -> str:
    """The CSV document, every cell of the header and the rows defused."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([defuse(cell) for cell in header])
    for row in rows:
        writer.writerow([defuse(cell) for cell in row])
    return out.getvalue()


def csv_response(header: Iterable, rows: Iterable[Iterable], *, filename: str) -> Response:
    """A CSV download; the byte-order mark makes Excel read the UTF-8 (Arabic names) correctly."""
    body = "\ufeff" + csv_text(header, rows)
    return Response(body.encode("utf-8"), mimetype="text/csv", headers={
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store",  # personal data: not kept by the browser or a proxy
    })
