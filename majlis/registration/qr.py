"""The QR code of a check-in code, drawn as SVG on the server (pure: no Flask, no database)."""

from __future__ import annotations

import io
from functools import lru_cache

import segno


@lru_cache(maxsize=256)
def check_in_svg(code: str, title: str) -> str:
    """An inline SVG of the code as a QR code (dark on white, whatever the page's colours), titled for readers."""
    qr = segno.make(code, error="m", micro=False)
    out = io.BytesIO()
    qr.save(out, kind="svg", xmldecl=False, svgns=True, scale=6, border=4, dark="#000", light="#fff",
            title=title, svgclass="qr-code", lineclass=None)
    return out.getvalue().decode("utf-8")
