"""Questions on the session page, the live stream, and the moderators' console."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from majlis import cache
from majlis.auth.decorators import login_required, roles_required
from majlis.auth.forms import EmptyForm
from majlis.db import get_database, get_db, unit_of_work
from majlis.directory import services as directory
from majlis.enums import QuestionStatus, Role
from majlis.errors import MajlisError
from majlis.extensions import rate_limit
from majlis.questions import hooks, services
from majlis.sessions import live
from majlis.sessions.services import get_visible_session
from majlis.templating import current_lang
from majlis.timeutil import utcnow

bp = Blueprint("questions", __name__)


def _viewer():
    return current_user if current_user.is_authenticated else None


def question_list_context(majlis_session, viewer, sort: str = "popular") -> dict:
    """Gather what the session page's question list shows the viewer."""
    from majlis.registration.services import own_registration

    db_session = get_db()
    # The viewer's seat rides along, so that the page can announce "you have a seat" when it comes.
    registration = own_registration(db_session, majlis_session.id, viewer.id) if viewer is not None else None
    return {
        "majlis_session": majlis_session,
        "questions": services.visible_questions(db_session, majlis_session, viewer, sort=sort),
        "voted": services.my_votes(db_session, majlis_session, viewer),
        "viewer": viewer,
        "seat": registration.status.value if registration is not None else "",
    }


def rendered_list(majlis_session, viewer, sort: str = "popular") -> Markup:
    """Render the session's question list as the viewer sees it, in the order asked for.

    The public's, the same for every anonymous reader, is built once per live version, order and language (every
    change to a question raises the live version)."""
    sort = services.sort_of(sort)

    def render() -> Markup:
        html = render_template("questions/_list.html", **question_list_context(majlis_session, viewer, sort))
        return Markup(html)  # noqa: S704 - the output of an autoescaping template

    if viewer is not None:
        return render()
    return cache.built(f"questions:{majlis_session.id}:{majlis_session.live_version}:{sort}:{current_lang()}",
                       render)


@bp.get("/sessions/<int:session_id>/questions")
def question_list(session_id: int):
    """Send the question list alone, for the page's live refresh."""
    majlis_session = get_visible_session(get_db(), session_id, _viewer())
    return rendered_list(majlis_session, _viewer(), request.args.get("sort"))


class StreamsBusy(MajlisError):
    status = 503
    code = "streams_busy"
    default_message = _l("Too many live connections right now: the page refreshes by itself instead.")
    headers = {"Retry-After": "30"}


@bp.get("/sessions/<int:session_id>/events")
def events(session_id: int):
    """Stream the session's live version (Server-Sent Events), whenever it changes."""
    get_visible_session(get_db(), session_id, _viewer())
    since = request.headers.get("Last-Event-ID") or request.args.get("since") or "0"
    since = int(since) if since.isascii() and since.isdecimal() and len(since) < 12 else 0
    config = current_app.config
    # Per account when signed in: many residents share one address behind a carrier's or an office's NAT.
    client = f"user:{current_user.id}" if current_user.is_authenticated else request.remote_addr or "-"
    if not live.slots.take(client, per_worker=config["MAJLIS_LIVE_STREAMS_PER_WORKER"],
                           per_client=config["MAJLIS_LIVE_STREAMS_PER_CLIENT"]):
        raise StreamsBusy()
    get_db().close()  # the stream holds no pooled connection while it waits: each read takes one briefly
    database = get_database()

    def read_version():
        with database.session_factory() as db_session:
            return live.current_version(db_session, session_id)

    def served():
        try:
            yield from live.stream(read_version, session_id, since, redis_url=config.get("REDIS_URL"),
                                   lifetime=config.get("MAJLIS_LIVE_STREAM_SECONDS", 25))
        finally:
            live.slots.give_back(client)

    return Response(served(), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def _ask_key() -> str:
    return f"user:{current_user.id}" if current_user.is_authenticated else request.remote_addr or "-"


@bp.post("/sessions/<int:session_id>/ask")
@login_required
@rate_limit("10 per minute; 60 per hour", key_func=_ask_key)
def ask(session_id: int):
    """Take a question for the session, pending moderation."""
    if EmptyForm().validate_on_submit():
        try:
            with unit_of_work() as db_session:
                majlis_session = get_visible_session(db_session, session_id, current_user)
                services.ask(db_session, majlis_session, current_user, body=request.form.get("body", ""),
                             anonymous=request.form.get("anonymous") == "y", now=utcnow())
        except MajlisError as exc:
            flash(str(exc.message), "error")
            session_page = url_for("sessions.session_page", session_id=session_id)
            return redirect(f"{session_page}#ask-heading")
        flash(_("Thank you. Your question is waiting for the Governor's office to review it."), "success")
    return redirect(url_for("sessions.session_page", session_id=session_id) + "#questions-heading")


@bp.post("/questions/<int:question_id>/vote")
@login_required
def vote(question_id: int):
    """Vote for a question."""
    session_id = None
    if EmptyForm().validate_on_submit():
        try:
            with unit_of_work() as db_session:
                question = services.get_question(db_session, question_id, current_user)
                session_id = question.session_id
                if request.form.get("undo") == "1":
                    services.unvote(db_session, question, current_user, now=utcnow())
                else:
                    services.vote(db_session, question, current_user, now=utcnow())
        except MajlisError as exc:
            if exc.status == 404:
                raise
            flash(str(exc.message), "error")
    if session_id is None:
        session_id = services.get_question(get_db(), question_id, current_user).session_id
    return redirect(url_for("sessions.session_page", session_id=session_id) + f"#question-{question_id}")


@bp.post("/questions/<int:question_id>/withdraw")
@login_required
def withdraw(question_id: int):
    """Withdraw the user's own pending question."""
    session_id = services.get_question(get_db(), question_id, current_user).session_id
    if EmptyForm().validate_on_submit():
        try:
            with unit_of_work() as db_session:
                question = services.get_question(db_session, question_id, current_user)
                services.withdraw(db_session, question, current_user, now=utcnow())
        except MajlisError as exc:
            flash(str(exc.message), "error")
    return redirect(url_for("sessions.session_page", session_id=session_id) + "#questions-heading")


# --- the moderators' console ----------------------------------------------------------------------------------------


def console_context(majlis_session) -> dict:
    """Gather the moderators' console: questions by state, duplicates and cases."""
    db_session = get_db()
    questions = services.visible_questions(db_session, majlis_session, current_user)
    by_state = {state: [q for q in questions if q.status == state] for state in QuestionStatus}
    pending = sorted(by_state[QuestionStatus.PENDING], key=lambda q: (q.created_at, q.id))
    candidates = [q for q in questions if q.status in (QuestionStatus.APPROVED, QuestionStatus.ON_AIR,
                                                       QuestionStatus.ANSWERED, QuestionStatus.PENDING)]
    return {
        "majlis_session": majlis_session,
        "pending": pending,
        "duplicates": {q.id: services.likely_duplicates(q, candidates) for q in pending},
        "approved": by_state[QuestionStatus.APPROVED],
        "on_air": by_state[QuestionStatus.ON_AIR],
        "answered": sorted(by_state[QuestionStatus.ANSWERED], key=lambda q: q.answered_at or q.updated_at,
                           reverse=True),
        "merge_targets": candidates,  # for "merge into…": any question that may take a merge
        "counts": {state.value: len(items) for state, items in by_state.items()},
        "form": EmptyForm(),
        "bodies": directory.active_bodies(db_session),
        "cases": hooks.case_links(db_session, majlis_session),
    }


def _moderation_done(question, was: QuestionStatus) -> str:
    """What a moderation did, said after it."""
    status = question.status
    if status == QuestionStatus.REJECTED and was == QuestionStatus.APPROVED:
        return _("Question %(id)s is withdrawn from the public list; its author sees the reason.", id=question.id)
    return {
        QuestionStatus.APPROVED: _("Question %(id)s is approved: it is on the public list.", id=question.id),
        QuestionStatus.REJECTED: _("Question %(id)s is rejected; its author sees the reason.", id=question.id),
        QuestionStatus.ON_AIR: _("Question %(id)s is on air.", id=question.id),
        QuestionStatus.ANSWERED: _("Question %(id)s is marked answered.", id=question.id),
        QuestionStatus.MERGED: _("Question %(id)s is merged into question %(into)s.", id=question.id,
                                 into=question.merged_into_id),
    }.get(status, _("Saved."))


@bp.get("/sessions/<int:session_id>/moderate")
@roles_required(Role.MODERATOR, Role.STAFF)
def console(session_id: int):
    """Show the moderators' console for a session."""
    from majlis.minutes.services import notes_of

    majlis_session = get_visible_session(get_db(), session_id, current_user)
    return render_template("questions/console.html", notes=notes_of(get_db(), majlis_session),
                           **console_context(majlis_session))


def rendered_board(majlis_session) -> Markup:
    """Render the presenter view's board, the same for every moderator: built once per live version and language."""
    def render() -> Markup:
        board = services.presenter_board(get_db(), majlis_session)
        html = render_template("questions/_board.html", majlis_session=majlis_session, board=board)
        return Markup(html)  # noqa: S704 - the output of an autoescaping template

    return cache.built(f"board:{majlis_session.id}:{majlis_session.live_version}:{current_lang()}", render)


@bp.get("/sessions/<int:session_id>/present")
@roles_required(Role.MODERATOR, Role.STAFF)
def present(session_id: int):
    """Show the hall's big screen: the question on air and the most-voted approved ones, following the queue."""
    majlis_session = get_visible_session(get_db(), session_id, current_user)
    return render_template("questions/present.html", majlis_session=majlis_session,
                           board=rendered_board(majlis_session))


@bp.get("/sessions/<int:session_id>/present/board")
@roles_required(Role.MODERATOR, Role.STAFF)
def present_board(session_id: int):
    """Send the presenter view's board alone, for its live refresh."""
    return rendered_board(get_visible_session(get_db(), session_id, current_user))


@bp.get("/sessions/<int:session_id>/moderate/queue")
@roles_required(Role.MODERATOR, Role.STAFF)
def console_queue(session_id: int):
    """Render the console's queue alone, for its periodic refresh."""
    majlis_session = get_visible_session(get_db(), session_id, current_user)
    return render_template("questions/_queue.html", **console_context(majlis_session))


@bp.post("/questions/<int:question_id>/moderate")
@roles_required(Role.MODERATOR, Role.STAFF)
def moderate(question_id: int):
    """Move a question to another state (approve, reject, put on air, answer)."""
    session_id = services.get_question(get_db(), question_id, current_user).session_id
    if EmptyForm().validate_on_submit():
        try:
            with unit_of_work() as db_session:
                question = services.lock_question(db_session, question_id)
                was = question.status
                services.moderate(db_session, question, current_user, action=request.form.get("action", ""),
                                  into=request.form.get("into") or None, note=request.form.get("note"),
                                  now=utcnow())
                done = _moderation_done(question, was)
        except MajlisError as exc:
            flash(str(exc.message), "error")
        else:
            flash(done, "success")
    return redirect(url_for("questions.console", session_id=session_id) + f"#question-{question_id}")
