"""What the capabilities built on questions add to the moderators' console, registered in the app factory.

Follow-ups depend on questions, not the reverse: the console asks here for each question's case, and the app factory
(`_connect_capabilities` in majlis/__init__.py) registers follow-ups' lookup. Registering again replaces the earlier
lookup (tests build many apps); with none registered no question has a case.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from majlis.sessions.models import MajlisSession

CaseLinks = Callable[[Session, MajlisSession], dict[int, int]]

_case_links: list[CaseLinks] = []


def provide_case_links(lookup: CaseLinks) -> None:
    """Register (or replace) the lookup of a session's questions' cases."""
    _case_links[:] = [lookup]


def case_links(db_session: Session, majlis_session: MajlisSession) -> dict[int, int]:
    """Return {question id: case id} for the session's questions that became cases."""
    links: dict[int, int] = {}
    for lookup in _case_links:
        links.update(lookup(db_session, majlis_session))
    return links
