"""Every public function of a capability's services.py and every view says what it does (issue 20, item 5).

The API's handlers say it in the summary of their `@documented` operation (which the reference shows); the other
public functions of majlis/api/ carry a docstring.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "majlis"


def checked_modules(root: Path = ROOT) -> list[Path]:
    """Return the services.py and views.py modules of the capability packages, majlis/ops.py and the API's modules
    (all views)."""
    modules = [path for name in ("services.py", "views.py") for path in root.glob(f"*/{name}")]
    return sorted(modules + [root / "ops.py", *(root / "api").glob("*.py")])


def _documented_operation(node) -> bool:
    """An API view declared with `@documented("Summary", ...)`: its summary is its one line."""
    return any(isinstance(d, ast.Call) and getattr(d.func, "id", None) == "documented" and d.args
               for d in node.decorator_list)


def undocumented(source: str) -> list[str]:
    """Return the public module-level functions of a module without a docstring or with an empty first line."""
    missing = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and not node.name.startswith("_"):
            if _documented_operation(node):
                continue
            doc = ast.get_docstring(node, clean=False) or ""
            if not doc.strip() or not doc.splitlines()[0].strip():
                missing.append(f"{node.name} (line {node.lineno})")
    return missing


def test_the_check_finds_a_missing_docstring():
    source = ('def told():\n    """Do it."""\n\ndef untold():\n    return 1\n\ndef _private():\n    pass\n\n'
              'def blank():\n    """\n    Second line only."""\n')
    assert undocumented(source) == ["untold (line 4)", "blank (line 10)"]
    declared = ('@documented("List sessions", who=ANYONE)\ndef listed():\n    return 1\n\n'
                '@documented(summary=None)\ndef unsaid():\n    return 1\n')
    assert undocumented(declared) == ["unsaid (line 6)"]


@pytest.mark.parametrize("path", checked_modules(), ids=lambda path: str(path.relative_to(ROOT)))
def test_every_public_function_has_a_docstring(path):
    missing = undocumented(path.read_text(encoding="utf-8"))
    assert not missing, f"{path.relative_to(ROOT.parent)}: add a one-line docstring to {missing}"
