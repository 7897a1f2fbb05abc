"""Register, log in and out, reset a forgotten password, the profile page and the about page."""

from __future__ import annotations

import hashlib
import time
from urllib.parse import urlsplit

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from booking.errors import error_text
from booking.extensions import limiter
from booking.services import accounts, login_sessions, permissions, request_mails
from booking.services.errors import InvalidRequest, NotPermitted
from booking.web import keep_input
from booking.web.accounts import REMEMBER_COOKIE, bp, set_remember_cookie
from booking.web.accounts.forms import (
    ChangePasswordForm,
    LoginForm,
    ProfileForm,
    RegisterForm,
    RequestMailsForm,
    ResetPasswordForm,
    ResetRequestForm,
)
from booking.web.forms import EmptyForm, field_error
from booking.web.i18n import choose_language


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site: no scheme, no host, no ``//evil`` or ``/\\evil`` tricks."""
    if not target:
        return None
    target = target.strip()
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/"):
        return None
    if target.startswith(("//", "/\\")) or "\\" in target or any(ord(c) < 32 for c in target):
        return None
    return target


def _login_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN"]


def _rate_limit_off() -> bool:
    # The limiter object is shared by every app in the process; each app's own config decides.
    return not current_app.config.get("RATELIMIT_ENABLED", True)


def _account_key() -> str:
    """The account a log-in or reset request is about: the e-mail address typed, normalised."""
    email = (request.form.get("email") or "").strip().lower()
    # Hashed: the counters' store (Redis) does not need to hold e-mail addresses.
    return "account:" + hashlib.sha256(email.encode("utf-8", "replace")).hexdigest()[:32]


def _login_account_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN_ACCOUNT"]


def _register_limit() -> str:
    return current_app.config["RATELIMIT_REGISTER"]


def _reset_limit() -> str:
    return current_app.config["RATELIMIT_RESET"]


def _reset_account_limit() -> str:
    return current_app.config["RATELIMIT_RESET_ACCOUNT"]


def _not_a_form_error(response) -> bool:
    """Counts a request unless the form sent it back with a message (422): mistyping does not
    use up the limit, only what gets done (an account, a mail) or a failed log-in does."""
    return response.status_code != 422


def _failed_login(response) -> bool:
    """Only failed log-ins count against the account: the rightful user logging in costs nothing."""
    return response.status_code == 422


def _too_many_attempts(request_limit):
    """The answer to a breached limit: a page in the user's language, not plain text."""
    if request.endpoint == "accounts.login":
        message = None  # the page's own text about log-in attempts
    else:
        message = _(
            "There were too many requests from your connection or for this e-mail address. "
            "Please wait a while and try again."
        )
    response = current_app.make_response(
        (render_template("accounts/too_many_attempts.html", message=message), 429)
    )
    retry_after = max(int(request_limit.reset_at - time.time()), 1)
    response.headers["Retry-After"] = str(retry_after)
    return response


def _start_session(user, remember: bool) -> None:
    """A fresh session for this login: nothing from before it survives (no planted CSRF token,
    no session id), except a form kept for the page the login leads back to."""
    kept = session.get(keep_input.SESSION_KEY)
    session.clear()  # also drops "lang": the account's language setting decides from now on
    if kept is not None:
        session[keep_input.SESSION_KEY] = kept
    started = login_sessions.start(
        user,
        remember_for=current_app.config["REMEMBER_COOKIE_DURATION"] if remember else None,
        user_agent=request.user_agent.string,
    )
    replaced = request.cookies.get(REMEMBER_COOKIE)
    if replaced:  # this browser's earlier "stay logged in" login gives way to the new one
        login_sessions.end_remembered(replaced)
    login_user(user)
    # The session carries the server-side login's key (see services/login_sessions.py), and
    # "stay logged in" its own remember-me token, so logging out can end both on the server.
    session["_user_id"] = started.session_key
    if started.remember_token or replaced:
        set_remember_cookie(started.remember_token)


def _form_limit(limit, *, key_func=None, deduct_when=None):
    """A limit on a form's POSTs (per client address, or per ``key_func``), answered with the
    friendly 429 page; ``deduct_when`` decides which attempts count."""
    keyed = {"key_func": key_func} if key_func is not None else {}
    return limiter.limit(
        limit,
        methods=["POST"],
        exempt_when=_rate_limit_off,
        on_breach=_too_many_attempts,
        deduct_when=deduct_when,
        **keyed,
    )


@bp.route("/register", methods=["GET", "POST"])
@_form_limit(_register_limit, deduct_when=_not_a_form_error)
@keep_input.keeps_input
def register():
    next_url = _safe_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or url_for("web.home"))
    form = keep_input.form(RegisterForm)
    if not keep_input.submitted() and keep_input.kept() is None:
        form.language.data = str(_current_language())
    if keep_input.submitted() and form.validate_on_submit():
        try:
            accounts.register_user(
                email=form.email.data,
                name=form.name.data,
                password=form.password.data,
                language=form.language.data,
                next_path=next_url or "",
            )
        except InvalidRequest as exc:
            field_error(form, exc)
        else:
            # The same answer for a new and a registered address (the mail differs).
            session["registered_address"] = form.email.data.strip()
            return redirect(url_for("accounts.register_sent"), code=303)
    status = 200 if not form.errors else 422
    return render_template("accounts/register.html", form=form, next_url=next_url), status


@bp.get("/register/sent")
def register_sent():
    address = session.get("registered_address")
    if address is None:
        return redirect(url_for("accounts.register"))
    return render_template("accounts/register_sent.html", address=address)


@bp.route("/register/confirm/<token>", methods=["GET", "POST"])
def confirm_address(token: str):
    """The link from the confirmation mail. Opening it shows a button; the POST confirms, so a
    mail scanner that fetches links does not use up the single-use link."""
    try:
        accounts.check_reset_token(token)
    except InvalidRequest:
        message = _(
            "This link is no longer valid: it was used already or is older than two days. "
            "Register again with the same address for a new link, or log in if you confirmed."
        )
        return render_template("accounts/confirm_invalid.html", message=message), 410
    next_url = _safe_next(request.args.get("next"))
    form = EmptyForm()
    if form.validate_on_submit():
        user = accounts.confirm_address(token)
        _start_session(user, remember=False)
        session.pop("registered_address", None)
        flash(_("Welcome, %(name)s! Your account is ready.", name=user.name), "success")
        return redirect(next_url or url_for("web.home"), code=303)
    return render_template("accounts/confirm_address.html", form=form)


def _current_language() -> str:
    from flask_babel import get_locale

    return str(get_locale() or "de")


@bp.route("/login", methods=["GET", "POST"])
@_form_limit(_login_limit)
@_form_limit(_login_account_limit, key_func=_account_key, deduct_when=_failed_login)
@keep_input.keeps_input
def login():
    next_url = _safe_next(request.args.get("next") or request.form.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or _landing(current_user))
    form = keep_input.form(LoginForm)
    failed = False
    if keep_input.submitted() and form.validate_on_submit():
        try:
            user = accounts.authenticate(form.email.data, form.password.data)
        except NotPermitted as exc:  # a deactivated account, and the password was right
            failed = True
            form.form_errors.append(error_text(exc))
        else:
            if user is None:
                failed = True
                # One message for an unknown address and a wrong password alike.
                form.form_errors.append(_("The e-mail address or the password is not right."))
            else:
                _start_session(user, remember=form.remember.data)
                return redirect(next_url or _landing(user))
    status = 200 if not form.errors and not failed else 422
    return render_template("accounts/login.html", form=form, next_url=next_url), status


def _landing(user) -> str:
    """Where a login without ``next`` leads: managers start their day on the dashboard."""
    if permissions.manages_any_site(user):
        return url_for("web.manage_dashboard")
    return url_for("web.home")


@bp.post("/logout")
def logout():
    form = EmptyForm()
    if not form.validate_on_submit():
        return redirect(url_for("web.home"))
    login_sessions.end(session.get("_user_id"))
    _forget_login()
    flash(_("You are logged out."), "success")
    return redirect(url_for("web.home"))


def _forget_login() -> None:
    """This browser's cookies no longer name a login (the server side has ended it)."""
    session.clear()
    logout_user()
    set_remember_cookie(None)


@bp.post("/profile/logout-everywhere")
@login_required
def logout_everywhere():
    form = EmptyForm()
    if not form.validate_on_submit():
        flash(_("The form has expired. Please try again."), "error")
        return redirect(url_for("accounts.profile"), code=303)
    accounts.end_all_sessions(current_user)
    _forget_login()
    flash(_("You are logged out on all devices."), "success")
    return redirect(url_for("accounts.login"), code=303)


@bp.post("/profile/sessions/<int:session_id>/end")
@login_required
def end_session(session_id: int):
    """Log out one other device from the profile's list."""
    form = EmptyForm()
    if not form.validate_on_submit():
        flash(_("The form has expired. Please try again."), "error")
        return redirect(url_for("accounts.profile", _anchor="devices"), code=303)
    if session_id == login_sessions.session_id(session.get("_user_id")):
        return redirect(url_for("accounts.profile", _anchor="devices"), code=303)
    if not login_sessions.end_one(current_user, session_id):
        abort(404)
    flash(_("That device is logged out."), "success")
    return redirect(url_for("accounts.profile", _anchor="devices"), code=303)


@bp.route("/password-reset", methods=["GET", "POST"])
@_form_limit(_reset_limit, deduct_when=_not_a_form_error)
@_form_limit(_reset_account_limit, key_func=_account_key, deduct_when=_not_a_form_error)
@keep_input.keeps_input
def password_reset_request():
    form = keep_input.form(ResetRequestForm)
    if keep_input.submitted() and form.validate_on_submit():
        accounts.request_password_reset(form.email.data)
        # The same answer whether or not the address is registered.
        return render_template("accounts/reset_sent.html")
    status = 200 if not form.errors else 422
    return render_template("accounts/reset_request.html", form=form), status


@bp.route("/password-reset/<token>", methods=["GET", "POST"])
def password_reset(token: str):
    try:
        accounts.check_reset_token(token)
    except InvalidRequest as exc:
        return render_template("accounts/reset_invalid.html", message=error_text(exc)), 410
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            user = accounts.reset_password(token, form.password.data)
        except InvalidRequest as exc:
            field_error(form, exc)
        else:
            _start_session(user, remember=False)
            flash(_("Your new password is set. You are logged in."), "success")
            return redirect(url_for("accounts.profile"))
    status = 200 if not form.errors else 422
    return render_template("accounts/reset_password.html", form=form), status


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    profile_form = ProfileForm(prefix="profile", obj=current_user)
    password_form = ChangePasswordForm(prefix="password")
    # Managers (and admins) choose how they hear of new requests.
    is_manager = permissions.manages_any_site(current_user)
    mails_form = RequestMailsForm(
        prefix="mails", formdata=None, data={"request_mails": current_user.request_mails.value}
    )
    failed = False
    if request.method == "POST" and "profile-submit" in request.form:
        if profile_form.validate_on_submit():
            try:
                accounts.update_profile(
                    current_user, name=profile_form.name.data, language=profile_form.language.data
                )
            except InvalidRequest as exc:
                field_error(profile_form, exc)
            else:
                session.pop("lang", None)
                flash(_("Your profile is saved."), "success")
                return redirect(url_for("accounts.profile"))
        failed = True
    elif request.method == "POST" and "password-submit" in request.form:
        profile_form = ProfileForm(prefix="profile", obj=current_user, formdata=None)
        if password_form.validate_on_submit():
            try:
                accounts.change_password(
                    current_user, password_form.current_password.data, password_form.password.data
                )
            except InvalidRequest as exc:
                field_error(password_form, exc)
            else:
                # Every other session has ended; this one goes on with the new generation.
                _start_session(current_user._get_current_object(), remember=False)
                flash(_("Your new password is saved."), "success")
                return redirect(url_for("accounts.profile"))
        failed = True
    elif request.method == "POST" and "mails-submit" in request.form:
        if not is_manager:
            abort(403, description=_("You do not manage any site."))
        profile_form = ProfileForm(prefix="profile", obj=current_user, formdata=None)
        mails_form = RequestMailsForm(prefix="mails")
        if mails_form.validate_on_submit():
            try:
                request_mails.set_request_mails(current_user, mails_form.request_mails.data)
            except InvalidRequest as exc:
                field_error(mails_form, exc)
            else:
                flash(_("Your choice of e-mails about requests is saved."), "success")
                return redirect(url_for("accounts.profile"))
        failed = True
    elif request.method == "POST":
        failed = True
    return render_template(
        "accounts/profile.html",
        profile_form=profile_form,
        password_form=password_form,
        mails_form=mails_form if is_manager else None,
        devices=login_sessions.of_user(current_user),
        this_device=login_sessions.session_id(session.get("_user_id")),
        device_name=device_name,
    ), (422 if failed else 200)


def device_name(user_agent: str) -> str:
    """ "Firefox on Windows" from a User-Agent header, so people can tell their devices apart."""
    from ua_parser import parse

    parsed = parse(user_agent or "")
    browser = parsed.user_agent.family if parsed.user_agent else None
    system = parsed.os.family if parsed.os else None
    if browser and system:
        return _("%(browser)s on %(system)s", browser=browser, system=system)
    return browser or system or _("Unknown device")


@bp.get("/about")
def about():
    return render_template("accounts/about.html")


@bp.post("/language")
def set_language():
    """The language switch: keep the choice (session, and the account's setting) and show the
    same page again. A POST with a CSRF token, so a link elsewhere cannot change a setting."""
    form = EmptyForm()
    if not (form.validate_on_submit() and choose_language(request.form.get("lang", ""))):
        flash(_("The language could not be changed. Please try again."), "error")
    return redirect(_safe_next(request.form.get("next")) or url_for("web.home"), code=303)
