"""Case pages: requests, the triage queue, cases from every channel, "was it fixed?", categories, the overdue
agenda for the coordinating majlis, and the public accountability dashboard."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from majlis.auth import permissions
from majlis.auth import services as auth_services
from majlis.auth.decorators import login_required, roles_required
from majlis.auth.forms import EmptyForm
from majlis.db import get_db, unit_of_work
from majlis.directory import services as directory
from majlis.enums import CaseChannel, CaseStatus, Role
from majlis.errors import Forbidden, MajlisError, NotFound
from majlis.extensions import rate_limit
from majlis.followups import charts, dashboard, services
from majlis.followups.forms import CategoryForm, ChannelCaseForm, FeedbackForm, RequestForm, TriageForm
from majlis.followups.links import read_feedback_token
from majlis.questions.services import get_question
from majlis.sessions import services as session_services
from majlis.templating import current_lang
from majlis.timeutil import local_zone, utcnow

bp = Blueprint("followups", __name__)
REQUEST_LIMIT = "5 per hour; 20 per day"


def _bodies():
    return directory.active_bodies(get_db())


def _name(row) -> str:
    return row.name_en if current_lang() == "en" else row.name_ar


def _category_choices(categories) -> list:
    """The categories as choices grouped by their body (an <optgroup> each)."""
    return [SelectChoice("", _("— choose —"))] + [
        SelectChoice(c.code, _name(c), optgroup=_name(c.body)) for c in categories]


def _area_choices() -> list:
    areas = directory.list_areas(get_db())
    return [SelectChoice("", _("— not given —"))] + [SelectChoice(str(a.id), _name(a)) for a in areas]


def _show_error(form, exc: MajlisError, aliases: dict | None = None) -> int:
    """Put a service's refusal next to its field (or flash it) and return the status to answer with."""
    name = (aliases or {}).get(exc.field, exc.field)
    field = getattr(form, name, None) if name else None
    if field is not None:
        field.errors = [*field.errors, str(exc.message)]
    else:
        flash(str(exc.message), "error")
    return exc.status


# --- cases --------------------------------------------------------------------------------------------------------


@bp.get("/cases")
@login_required
def case_list():
    """List the cases the viewer may follow, narrowed to an area, a category and open or closed if asked."""
    db_session = get_db()
    filters = services.case_filters(db_session, request.args)
    cases = services.visible_cases(db_session, current_user, filters=filters)
    return render_template("followups/list.html", cases=cases, status=filters.status, filters=filters,
                           **_filter_options(db_session), today=services.local_today(utcnow(), local_zone()))


def _filter_options(db_session) -> dict:
    """The areas and the categories (grouped by body) a case list or the dashboard may be narrowed to."""
    groups: dict[str, list] = {}
    for category in services.list_categories(db_session, active_only=False):
        groups.setdefault(_name(category.body), []).append((category.code, _name(category)))
    return {"area_options": [(None, directory.area_choices(db_session, current_lang()))],
            "category_options": list(groups.items())}


@bp.get("/cases/<int:case_id>")
@login_required
def case_page(case_id: int):
    """Show a case with its history and the forms the viewer may use."""
    db_session = get_db()
    case = services.get_case(db_session, case_id, current_user)
    updates = services.updates_of(db_session, case)
    now = utcnow()
    is_resident = current_user.id == case.resident_id and current_user.role == Role.RESIDENT
    feedback_form = None
    if is_resident and services.feedback_refusal(db_session, case, current_user, now=now) is None:
        feedback_form = FeedbackForm()
    return render_template(
        "followups/case.html", case=case, updates=list(updates), form=EmptyForm(), bodies=_bodies(),
        update_text=services.update_text,
        today=services.local_today(now, local_zone()), is_resident=is_resident, feedback_form=feedback_form,
        feedback=services.feedback_of(db_session, case), sees_contact=services.sees_contact(current_user, case),
        hides_resident=services.hides_resident(current_user, case), consent=services.consent_state(case),
        can_reopen=case.status == CaseStatus.DECLINED and case.reopened_count == 0 and case.resolved_at is not None
        and now - case.resolved_at <= services.REOPEN_WINDOW,
    )


@bp.post("/cases/<int:case_id>/updates")
@login_required
def add_update(case_id: int):
    """Add a dated update to a case (progress, hand-over, or the resident's answer)."""
    back = request.form.get("back") == "queue" and permissions.is_office(current_user)
    if EmptyForm().validate_on_submit():
        try:
            with unit_of_work() as db_session:
                case = services.get_case(db_session, case_id, current_user)
                services.add_update(db_session, case, current_user, text=request.form.get("text"),
                                    status=request.form.get("status") or None,
                                    to_body=request.form.get("to_body") or None, now=utcnow())
        except MajlisError as exc:
            if exc.status == 404:
                raise
            flash(str(exc.message), "error")
        else:
            flash(_("The update was saved."), "success")
    return redirect(url_for("followups.triage_queue") if back else url_for("followups.case_page", case_id=case_id))


@bp.post("/cases/<int:case_id>/contact-consent")
@login_required
def contact_consent(case_id: int):
    """Record whether the resident of an anonymous case lets its body contact them."""
    services.get_case(get_db(), case_id, current_user)  # 404 for anyone who may not see the case, whatever they sent
    if EmptyForm().validate_on_submit():
        if request.form.get("agree") not in ("yes", "no"):
            flash(_("Say yes or no."), "error")
            return redirect(url_for(".case_page", case_id=case_id))
        try:
            with unit_of_work() as db_session:
                case = services.get_case(db_session, case_id, current_user)
                services.answer_contact_consent(db_session, case, current_user._get_current_object(),
                                                agree=request.form["agree"] == "yes", now=utcnow())
        except MajlisError as exc:
            if exc.status == 404:
                raise
            flash(str(exc.message), "error")
        else:
            flash(_("Thank you: the government body may now contact you.") if case.contact_consent
                  else _("Thank you: the Governor's office will keep passing the body's news on to you."), "success")
    return redirect(url_for(".case_page", case_id=case_id))


@bp.post("/questions/<int:question_id>/case")
@roles_required(Role.MODERATOR, Role.STAFF)
def open_case(question_id: int):
    """Open a case from a question in the moderators' console."""
    question = get_question(get_db(), question_id, current_user)
    target = url_for("questions.console", session_id=question.session_id) + f"#question-{question_id}"
    if EmptyForm().validate_on_submit():
        try:
            with unit_of_work() as db_session:
                question = get_question(db_session, question_id, current_user)
                case = services.open_case(db_session, question, current_user, body_id=request.form.get("body_id"),
                                          due_on=request.form.get("due_on") or None, now=utcnow(), zone=local_zone())
        except MajlisError as exc:
            flash(str(exc.message), "error")
        else:
            flash(_("Case number %(id)s opened.", id=case.id), "success")
    return redirect(target)


@bp.route("/requests/new", methods=["GET", "POST"])
@login_required
@rate_limit(REQUEST_LIMIT, methods=["POST"], key_func=lambda: f"user:{current_user.get_id()}")
def new_request():
    """Show and take a resident's own request for the office to triage."""
    if not permissions.is_resident(current_user):
        raise Forbidden(_("Only residents send requests."), code="residents_only")
    form = RequestForm()
    form.category.choices = _category_choices(services.list_categories(get_db()))
    form.area_id.choices = _area_choices()
    if request.method == "GET" and current_user.area_id:
        form.area_id.data = str(current_user.area_id)
    status = 200
    if form.validate_on_submit():
        data = {"category": form.category.data, "description": form.description.data,
                "area_id": form.area_id.data or None,
                "place": form.place(public=form.place_is_public.data)}
        try:
            with unit_of_work() as db_session:
                case = services.submit_request(db_session, data, current_user, channel=CaseChannel.WEBSITE,
                                               now=utcnow(), zone=local_zone())
        except MajlisError as exc:
            status = _show_error(form, exc, {"lat": "latitude", "lon": "longitude", "address": "place_address"})
        else:
            flash(_("Your request number %(id)s was received. The Governor's office will send it to the "
                    "government body in charge.", id=case.id), "success")
            return redirect(url_for(".case_page", case_id=case.id))
    elif form.errors:
        status = 400
    return render_template("followups/request_new.html", form=form), status


@bp.route("/cases/new", methods=["GET", "POST"])
@roles_required(Role.MODERATOR, Role.STAFF)
def new_case():
    """Show and take a case staff record from another channel (phone, visit, letter)."""
    db_session = get_db()
    form = ChannelCaseForm()
    form.category.choices = _category_choices(services.list_categories(db_session))
    form.area_id.choices = _area_choices()
    status = 200
    if form.validate_on_submit():
        category = services.category_by_code(db_session, form.category.data)
        data = {"channel": form.channel.data, "category": form.category.data,
                "body_id": category.body_id if category else None, "area_id": form.area_id.data or None,
                "description": form.description.data, "session_id": form.session_id.data,
                "due_on": form.due_on.data.isoformat() if form.due_on.data else None,
                "place": form.place(public=form.place_is_public.data),
                "contact": {"name": form.contact_name.data or None, "phone": form.contact_phone.data or None,
                            "email": form.contact_email.data or None}}
        resident_email = (form.resident_email.data or "").lower()
        if resident_email:
            resident = auth_services.user_by_email(db_session, resident_email)
            data["resident_id"] = resident.id if resident else 0
        try:
            with unit_of_work() as write_session:
                case = services.open_channel_case(write_session, data, current_user, now=utcnow(), zone=local_zone())
        except MajlisError as exc:
            status = _show_error(form, exc, {"lat": "latitude", "lon": "longitude", "address": "place_address",
                                             "resident_id": "resident_email", "body_id": "category"})
        else:
            flash(_("Case number %(id)s opened.", id=case.id), "success")
            return redirect(url_for(".case_page", case_id=case.id))
    elif form.errors:
        status = 400
    return render_template("followups/case_new.html", form=form), status


@bp.get("/staff/requests")
@roles_required(Role.MODERATOR, Role.STAFF)
def triage_queue():
    """Show the requests waiting for triage, oldest first."""
    db_session = get_db()
    choices = _category_choices(services.list_categories(db_session))
    waiting = services.triage_queue(db_session)
    forms = {}
    for case in waiting:
        form = TriageForm(formdata=None, prefix=f"c{case.id}", category=case.category.code if case.category else "")
        form.category.choices = choices
        forms[case.id] = form
    return render_template("followups/triage.html", cases=waiting, forms=forms, form=EmptyForm())


@bp.post("/staff/requests/<int:case_id>/triage")
@roles_required(Role.MODERATOR, Role.STAFF)
def triage(case_id: int):
    """Triage a request: accept it into a category and body, or decline it."""
    form = TriageForm(prefix=f"c{case_id}")
    form.category.choices = _category_choices(services.list_categories(get_db()))
    if form.validate_on_submit():
        try:
            with unit_of_work() as db_session:
                case = services.get_case(db_session, case_id, current_user)
                services.triage(db_session, case, current_user, category=form.category.data,
                                due_on=form.due_on.data.isoformat() if form.due_on.data else None, now=utcnow(),
                                zone=local_zone())
        except MajlisError as exc:
            if exc.status == 404:
                raise
            flash(str(exc.message), "error")
        else:
            flash(_("Request number %(id)s was sent to %(body)s.", id=case.id, body=_name(case.body)), "success")
    else:
        for errors in form.errors.values():
            flash(" ".join(str(e) for e in errors), "error")
    return redirect(url_for(".triage_queue"))


# --- "was it fixed?" ----------------------------------------------------------------------------------------------


def _feedback_party(case_id: int, token: str | None):
    """The case and its resident, from the signed link's token or the signed-in resident; 404 otherwise."""
    db_session = get_db()
    now = utcnow()
    if token:
        claim = read_feedback_token(current_app.config["SECRET_KEY"], token, now=now)
        resident = auth_services.get_user(db_session, claim.resident_id) if claim is not None else None
        case = services.find_case(db_session, case_id)
        if resident is None or case is None or claim.case_id != case.id or resident.id != case.resident_id:
            raise NotFound(_("This link is not valid or has expired. Sign in to answer from the case page."))
        return case, resident
    if not current_user.is_authenticated:
        raise NotFound()
    case = services.get_case(db_session, case_id, current_user)
    return case, current_user._get_current_object()


@bp.route("/cases/<int:case_id>/feedback", methods=["GET", "POST"])
def feedback(case_id: int):
    """Ask the resident whether the case was fixed and record their answer."""
    token = request.values.get("token") or None
    case, resident = _feedback_party(case_id, token)
    form = FeedbackForm()
    if request.method == "GET" and request.args.get("outcome") in {"fixed", "partly_fixed", "not_fixed"}:
        form.outcome.data = request.args["outcome"]  # chosen by the link: one more click sends it
    refusal = services.feedback_refusal(get_db(), case, resident, now=utcnow())
    status = 200
    if refusal is None and form.validate_on_submit():
        try:
            with unit_of_work() as db_session:
                resident = auth_services.get_user(db_session, resident.id)
                case = services.get_case(db_session, case.id, resident)
                services.give_feedback(db_session, case, resident,
                                       outcome=form.outcome.data, rating=form.rating.data, comment=form.comment.data,
                                       now=utcnow())
        except MajlisError as exc:
            status = _show_error(form, exc)
        else:
            return render_template("followups/feedback_done.html", case=case, outcome=form.outcome.data)
    elif form.errors:
        status = 400
    return render_template("followups/feedback.html", case=case, form=form, token=token, refusal=refusal), status


# --- categories ---------------------------------------------------------------------------------------------------


def _category_data(form: CategoryForm) -> dict:
    return {"code": form.code.data, "name_ar": form.name_ar.data, "name_en": form.name_en.data,
            "body_id": form.body_id.data, "days_to_resolve": form.days_to_resolve.data,
            "is_active": form.is_active.data, "is_published": form.is_published.data}


@bp.route("/staff/categories", methods=["GET", "POST"])
@roles_required(Role.STAFF)
def categories():
    """List the case categories and add a new one."""
    db_session = get_db()
    form = CategoryForm()
    form.body_id.choices = [SelectChoice("", _("— choose —"))] + [
        SelectChoice(str(b.id), _name(b)) for b in _bodies()]
    status = 200
    if form.validate_on_submit():
        try:
            with unit_of_work() as write_session:
                category = services.create_category(write_session, _category_data(form), actor=current_user,
                                                    now=utcnow())
        except MajlisError as exc:
            status = _show_error(form, exc)
        else:
            flash(_("The category %(code)s was added.", code=category.code), "success")
            return redirect(url_for(".categories"))
    elif form.errors:
        status = 400
    return render_template("followups/categories.html", form=form,
                           categories=services.list_categories(db_session, active_only=False)), status


@bp.route("/staff/categories/<int:category_id>", methods=["GET", "POST"])
@roles_required(Role.STAFF)
def category_edit(category_id: int):
    """Edit one case category."""
    db_session = get_db()
    category = services.get_category(db_session, category_id)
    form = CategoryForm(obj=category if request.method == "GET" else None)
    if request.method == "GET":
        form.body_id.data = str(category.body_id)
    form.body_id.choices = [SelectChoice(str(b.id), _name(b)) for b in _bodies()]
    status = 200
    if form.validate_on_submit():
        try:
            with unit_of_work() as write_session:
                services.update_category(write_session, services.get_category(write_session, category_id),
                                         _category_data(form), actor=current_user, now=utcnow())
        except MajlisError as exc:
            status = _show_error(form, exc)
        else:
            flash(_("The category %(code)s was saved.", code=category.code), "success")
            return redirect(url_for(".categories"))
    elif form.errors:
        status = 400
    return render_template("followups/category_edit.html", form=form, category=category), status


# --- the agenda and the dashboard ---------------------------------------------------------------------------------


@bp.get("/staff/agenda")
@roles_required(Role.STAFF, Role.MODERATOR)
def agenda():
    """Show the next coordinating session's agenda: the cases overdue or due soon."""
    now = utcnow()
    db_session = get_db()
    next_session = session_services.next_coordinating_session(db_session, now=now)
    return render_template("followups/agenda.html", groups=services.overdue_agenda(db_session, now=now,
                                                                                     zone=local_zone()),
                           next_session=next_session, today=services.local_today(now, local_zone()))


@bp.get("/accountability")
def accountability():
    """Show the public accountability dashboard for the chosen period."""
    now, zone = utcnow(), local_zone()
    db_session = get_db()
    start, end, group_by = dashboard.parse_filters(request.args, today=services.local_today(now, zone))
    filters = services.case_filters(db_session, request.args, with_status=False)
    figures = dashboard.dashboard(db_session, start=start, end=end, group_by=group_by, now=now, zone=zone,
                                  filters=filters)
    return render_template("followups/accountability.html", figures=figures, start=start, end=end,
                           group_by=group_by, charts=_charts(figures), month_name=_month_name, filters=filters,
                           **_filter_options(db_session))


def _month_name(key: str) -> str:
    return dashboard.month_names(key)[1 if current_lang() == "en" else 0]


def _charts(figures: dashboard.Dashboard) -> dict:
    """The dashboard's SVG charts, in the page's language and direction."""
    rtl = current_lang() == "ar"
    label = (lambda g: g.name_en) if not rtl else (lambda g: g.name_ar)
    empty = _("No figures for this period.")
    groups = figures.groups
    series = charts.Series
    return {
        "open": charts.bar_chart(
            "chart-open", _("Open cases, and how many of them are overdue"),
            [charts.Row(label(g), [g.overdue, g.open - g.overdue]) for g in groups],
            [series(_("Overdue"), "bar-overdue"), series(_("Open, within the due date"), "bar-open")],
            rtl=rtl, empty_text=empty),
        "closed": charts.bar_chart(
            "chart-closed", _("Cases closed on time and late"),
            [charts.Row(label(g), [g.closed_on_time, g.closed_late]) for g in groups],
            [series(_("Closed on time"), "bar-on-time"), series(_("Closed late"), "bar-late")],
            rtl=rtl, empty_text=empty),
        "median": charts.bar_chart(
            "chart-median", _("Median days to close"),
            [charts.Row(label(g), [g.median_days_to_close],
                        text=str(g.median_days_to_close) if g.median_days_to_close is not None else "—")
             for g in groups],
            [series(_("Median days to close"), "bar-median")], rtl=rtl, empty_text=empty),
        "satisfaction": charts.bar_chart(
            "chart-satisfaction", _("Was it fixed? The residents' answers"),
            [charts.Row(label(g), [g.satisfaction.fixed, g.satisfaction.partly_fixed, g.satisfaction.not_fixed])
             for g in groups],
            [series(_("Fixed"), "bar-fixed"), series(_("Partly fixed"), "bar-partly"),
             series(_("Not fixed"), "bar-not-fixed")], rtl=rtl, empty_text=empty),
        "backlog": charts.bar_chart(
            "chart-backlog", _("Backlog at the end of each month"),
            [charts.Row(_month_name(p.month), [p.overdue, p.open - p.overdue])
             for p in figures.backlog],
            [series(_("Overdue"), "bar-overdue"), series(_("Open, within the due date"), "bar-open")],
            rtl=rtl, empty_text=empty),
    }
