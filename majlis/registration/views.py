"""Registration on the session page, and the staff's registrant list with its CSV export."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from majlis.auth import services as auth_services
from majlis.auth.decorators import login_required, roles_required
from majlis.auth.forms import EmptyForm
from majlis.csvexport import csv_response
from majlis.db import get_db, unit_of_work
from majlis.directory import services as directory
from majlis.enums import RegistrationStatus, Role
from majlis.errors import InvalidInput, MajlisError
from majlis.registration import invitations, services
from majlis.registration.forms import CheckInForm, InviteForm
from majlis.sessions import services as session_services
from majlis.sessions.services import get_visible_session
from majlis.templating import current_lang
from majlis.timeutil import utcnow

bp = Blueprint("registration", __name__)


@bp.post("/sessions/<int:session_id>/register")
@login_required
def register(session_id: int):
    """Register the user for the session, or put them in its waiting line."""
    if EmptyForm().validate_on_submit():
        try:
            with unit_of_work() as db_session:
                place = services.register(db_session, session_id, current_user, now=utcnow(),
                                          mode=request.form.get("mode"))
        except MajlisError as exc:
            flash(str(exc.message), "error")
        else:
            if place.status == RegistrationStatus.CONFIRMED:
                flash(_("Your seat is confirmed. We sent the details to your e-mail."), "success")
            else:
                flash(_("All seats are taken: you are number %(position)s in line.", position=place.position), "info")
    return redirect(url_for("sessions.session_page", session_id=session_id))


@bp.get("/sessions/<int:session_id>/unregister")
@login_required
def confirm_unregister(session_id: int):
    """Ask before a place is given up, saying whether it can be taken back (a plain form: no script needed)."""
    from flask import current_app

    from majlis.jitsi.services import settings_from_config

    db_session = get_db()
    majlis_session = get_visible_session(db_session, session_id, current_user)
    now = utcnow()
    found = services.offer(db_session, majlis_session, current_user, now=now,
                           room_settings=settings_from_config(current_app.config))
    if not found.cancel.allowed:
        flash(found.cancel.message, "error")
        return redirect(url_for("sessions.session_page", session_id=session_id))
    return render_template("registration/cancel.html", majlis_session=majlis_session, place=found.place,
                           consequence=services.cancel_consequence(majlis_session, found.place, now),
                           form=EmptyForm())


@bp.post("/sessions/<int:session_id>/unregister")
@login_required
def unregister(session_id: int):
    """Cancel the user's registration for the session."""
    if EmptyForm().validate_on_submit():
        try:
            with unit_of_work() as db_session:
                services.cancel(db_session, session_id, current_user, now=utcnow())
        except MajlisError as exc:
            flash(str(exc.message), "error")
        else:
            flash(_("Your registration is cancelled."), "success")
    return redirect(url_for("sessions.session_page", session_id=session_id))


@bp.get("/staff/sessions/<int:session_id>/registrants")
@roles_required(Role.STAFF, Role.MODERATOR)
def registrants(session_id: int):
    """List the session's registrants for staff."""
    db_session = get_db()
    majlis_session = get_visible_session(db_session, session_id, current_user)
    return render_template("registration/registrants.html", majlis_session=majlis_session,
                           rows=services.active_registrations(db_session, majlis_session),
                           counts=services.attendance(db_session, majlis_session), attended=services.attended)


@bp.route("/sessions/<int:session_id>/check-in", methods=["GET", "POST"])
@roles_required(Role.STAFF, Role.MODERATOR)
def check_in(session_id: int):
    """Check residents in at the door: staff type (or scan) a resident's code and see who it is, then the next one."""
    majlis_session = get_visible_session(get_db(), session_id, current_user)
    form = CheckInForm()
    status, checked = 200, None
    if form.is_submitted():
        status = 400
        if form.validate():
            try:
                with unit_of_work() as db_session:
                    registration = services.check_in(db_session, majlis_session, form.code.data,
                                                     actor=current_user, now=utcnow())
                    checked = (registration.user.name, registration.checked_in_at)
            except MajlisError as exc:
                form.code.errors = [str(exc.message)]
                status = exc.status
            else:
                status = 200
                form = CheckInForm(formdata=None)  # empty again for the next resident
    db_session = get_db()
    return render_template("registration/check_in.html", majlis_session=majlis_session, form=form, checked=checked,
                           counts=services.attendance(db_session, majlis_session)), status


@bp.get("/staff/sessions/<int:session_id>/registrants.csv")
@roles_required(Role.STAFF, Role.MODERATOR)
def registrants_csv(session_id: int):
    """Send the session's registrants as CSV."""
    db_session = get_db()
    majlis_session = get_visible_session(db_session, session_id, current_user)
    header = [_("Name"), _("E-mail"), _("Mobile number"), _("Area"), _("Status"), _("Place in line"), _("Attended"),
              _("Minutes in the room")]
    from_room = services.attendance_from_room(db_session, majlis_session)
    rows = ([registration.user.name, registration.user.email, registration.user.phone or "",
             _area_name(registration.user.area), _status_label(registration.status),
             position or "", _("yes") if services.attended(registration, from_room) else _("no"),
             registration.seconds_present // 60 if registration.joined_at else ""]
            for registration, position in services.active_registrations(db_session, majlis_session))
    return csv_response(header, rows, filename=f"majlis-session-{session_id}-registrants.csv")


def _status_label(status: RegistrationStatus) -> str:
    """A registration's status in the export's language (the headers are translated; so are the values)."""
    return {RegistrationStatus.CONFIRMED: _("Confirmed"), RegistrationStatus.WAITLISTED: _("In the waiting line"),
            RegistrationStatus.CANCELLED: _("Cancelled")}[RegistrationStatus(status)]


def _area_name(area) -> str:
    if area is None:
        return ""
    return area.name_en if current_lang() == "en" else area.name_ar


@bp.route("/staff/sessions/<int:session_id>/invitations", methods=["GET", "POST"])
@roles_required(Role.STAFF)
def invitations_page(session_id: int):
    """List the session's invitations and invite people by name or body."""
    db_session = get_db()
    majlis_session = get_visible_session(db_session, session_id, current_user)
    form = InviteForm()
    form.body.choices = [("", _("— choose —"))] + [
        (str(b.id), b.name_en if current_lang() == "en" else b.name_ar)
        for b in directory.active_bodies(db_session)
    ]
    if form.validate_on_submit():
        try:
            with unit_of_work() as db_session:
                majlis_session = session_services.get_session(db_session, session_id)
                body = directory.get_body(db_session, int(form.body.data)) if form.body.data else None
                person = None
                if form.email.data:
                    # The one address rule (NFKC, case-folded): any spelling of an address finds its account.
                    email = auth_services.normalize_email(form.email.data)
                    person = auth_services.user_by_email(db_session, email)
                    if person is None:
                        raise InvalidInput(_("No account has this e-mail address."), field="email")
                created = invitations.invite(db_session, majlis_session, actor=current_user, now=utcnow(),
                                             body=body, user=person, whole_series=form.whole_series.data)
        except MajlisError as exc:
            flash(str(exc.message), "error")
        else:
            flash(_("%(count)s invitations sent.", count=created), "success")
            return redirect(url_for("registration.invitations_page", session_id=session_id))
    return render_template("registration/invitations.html", majlis_session=majlis_session, form=form,
                           invitations=invitations.invitation_list(db_session, majlis_session))


@bp.post("/sessions/<int:session_id>/invitation")
@login_required
def answer_invitation(session_id: int):
    """Accept or decline the user's invitation to the session."""
    form = EmptyForm()
    if form.validate_on_submit():
        accept = request.form.get("answer") == "accept"
        try:
            with unit_of_work() as db_session:
                majlis_session = get_visible_session(db_session, session_id, current_user)
                invitations.respond(db_session, majlis_session, current_user, accept=accept, now=utcnow())
        except MajlisError as exc:
            flash(str(exc.message), "error")
        else:
            flash(_("Thank you: you accepted the invitation.") if accept else _("You declined the invitation."),
                  "success")
    return redirect(url_for("sessions.session_page", session_id=session_id))
