"""Every public function of a capability's services.py and every view says what it does (issue 20, item 5).

majlis/api/ is left out for now: its handlers are being rewritten with pydantic schemas, which bring their own.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "majlis"
EXCLUDED = {"api"}


def checked_modules(root: Path = ROOT) -> list[Path]:
    """Return the services.py and views.py modules of the capability packages, and majlis/ops.py (views)."""
    modules = [path for name in ("services.py", "views.py") for path in root.glob(f"*/{name}")
               if path.parent.name not in EXCLUDED]
    return sorted(modules + [root / "ops.py"])


def undocumented(source: str) -> list[str]:
    """Return the public module-level functions of a module without a docstring or with an empty first line."""
    missing = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and not node.name.startswith("_"):
            doc = ast.get_docstring(node, clean=False) or ""
            if not doc.strip() or not doc.splitlines()[0].strip():
                missing.append(f"{node.name} (line {node.lineno})")
    return missing


def test_the_check_finds_a_missing_docstring():
    source = ('def told():\n    """Do it."""\n\ndef untold():\n    return 1\n\ndef _private():\n    pass\n\n'
              'def blank():\n    """\n    Second line only."""\n')
    assert undocumented(source) == ["untold (line 4)", "blank (line 10)"]


@pytest.mark.parametrize("path", checked_modules(), ids=lambda path: str(path.relative_to(ROOT)))
def test_every_public_function_has_a_docstring(path):
    missing = undocumented(path.read_text(encoding="utf-8"))
    assert not missing, f"{path.relative_to(ROOT.parent)}: add a one-line docstring to {missing}"
