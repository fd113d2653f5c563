"""Every public function of a capability's services.py and every view says what it does (issue 20, item 5).

The API's handlers say it in the summary of their `@documented` operation (which the reference shows); the other
public functions of majlis/api/ carry a docstring.

A docstring says it in the imperative: "Return the user's place", not "The user's place" (see `mood_problem`).
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
    return _summary(node) is not None


def _summary(node) -> str | None:
    """Return the summary of an API view's `@documented(N_("Summary"), ...)` (or a bare string), else None."""
    for decorator in node.decorator_list:
        if isinstance(decorator, ast.Call) and getattr(decorator.func, "id", None) == "documented" and decorator.args:
            first = decorator.args[0]
            if isinstance(first, ast.Call) and first.args:  # N_("...")
                first = first.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                return first.value
    return None


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


# A docstring's first word names an action. These words start a noun phrase or a question instead.
NOT_VERBS = frozenset("""
    the a an this that these those its their his her my our your
    whether what which who whom whose why when where how until
    every each all any some one none no anything everything nothing something
""".split())


def mood_problem(docstring: str) -> str | None:
    """Tell why a docstring's first word is not an imperative verb, or None when it may be one.

    The rule: a capitalised word that is not a determiner, pronoun or wh-word (NOT_VERBS), not an acronym (UTC,
    SQL), and not shaped like a plural or a third-person verb (-s but not -ss: "Sessions", "Returns") or a
    participle (-ed but not -eed: "Invited", "Confirmed"). It cannot tell every noun from a verb ("Staff choose"
    passes); review catches those.
    """
    word = docstring.split()[0] if docstring.split() else ""
    bare = word.rstrip(".,:;").lower()
    if not word[:1].isalpha() or not word[:1].isupper():
        return f"starts with {word!r}, not a capitalised verb"
    if bare in NOT_VERBS:
        return f"starts with {word!r}, a determiner, pronoun or wh-word: say what the function does"
    if len(word) > 1 and word.rstrip(".,:;").isupper():
        return f"starts with the acronym {word!r}"
    if bare.endswith("s") and not bare.endswith("ss"):
        return f"starts with {word!r}, a plural or third-person word: use the imperative (Return, not Returns)"
    if bare.endswith("ed") and not bare.endswith("eed"):
        return f"starts with {word!r}, a participle"
    return None


def not_imperative(source: str) -> list[str]:
    """List the public module-level functions of a module whose docstring does not start with an imperative verb."""
    found = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and not node.name.startswith("_"):
            doc = ast.get_docstring(node) or _summary(node)
            problem = mood_problem(doc) if doc else None
            if problem:
                found.append(f"{node.name} (line {node.lineno}): {problem}")
    return found


def test_the_check_finds_a_missing_docstring():
    source = ('def told():\n    """Do it."""\n\ndef untold():\n    return 1\n\ndef _private():\n    pass\n\n'
              'def blank():\n    """\n    Second line only."""\n')
    assert undocumented(source) == ["untold (line 4)", "blank (line 10)"]
    declared = ('@documented("List sessions", who=ANYONE)\ndef listed():\n    return 1\n\n'
                '@documented(summary=None)\ndef unsaid():\n    return 1\n')
    assert undocumented(declared) == ["unsaid (line 6)"]


@pytest.mark.parametrize("docstring", ["Return the thing.", "Tell whether it is due.", "Process the queue.",
                                       "Feed the reader.", "List the UTC starts.", "Raise 404 unless visible."])
def test_the_mood_check_accepts_an_imperative_line(docstring):
    assert mood_problem(docstring) is None


@pytest.mark.parametrize("docstring", ["The thing.", "A thing.", "Whether it is due.", "What a viewer sees.",
                                       "Until when it runs.", "Every case.", "Sessions that have not ended.",
                                       "Returns the thing.", "Invited by name.", "UTC starts.", "404 unless visible.",
                                       "(None, or the thing)."])
def test_the_mood_check_catches_a_noun_phrase(docstring):
    assert mood_problem(docstring) is not None


def test_the_mood_check_reads_only_public_docstrings():
    source = ('def told():\n    """Return it."""\n\ndef said():\n    """The thing."""\n\n'
              'def _private():\n    """The thing."""\n\ndef untold():\n    return 1\n')
    assert [entry.split(":")[0] for entry in not_imperative(source)] == ["said (line 4)"]
    declared = ('@documented(N_("List sessions"), who=ANYONE)\ndef listed():\n    return 1\n\n'
                '@documented(N_("One session"), who=ANYONE)\ndef one():\n    return 1\n')
    assert [entry.split(":")[0] for entry in not_imperative(declared)] == ["one (line 6)"]


@pytest.mark.parametrize("path", checked_modules(), ids=lambda path: str(path.relative_to(ROOT)))
def test_every_public_function_has_a_docstring(path):
    missing = undocumented(path.read_text(encoding="utf-8"))
    assert not missing, f"{path.relative_to(ROOT.parent)}: add a one-line docstring to {missing}"


@pytest.mark.parametrize("path", checked_modules(), ids=lambda path: str(path.relative_to(ROOT)))
def test_every_docstring_says_what_the_function_does_in_the_imperative(path):
    found = not_imperative(path.read_text(encoding="utf-8"))
    assert not found, f"{path.relative_to(ROOT.parent)}: start the docstring with a verb: {found}"
