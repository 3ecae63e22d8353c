"""The browser's and the admin console's login, throttled per username and per client address.

Wrong passwords are counted in the shared cache (``cspm.throttles``) under the username as
typed (whether or not such a user exists, so the answers never tell) and under the client's
address (``cspm.clientaddr``). Past either limit the form refuses every attempt, the right
password included, until the window ends: otherwise a guesser would just keep going and be let
in at the right guess. A successful login clears its username's count; the address count stays,
so an attacker cannot clear it by logging in to an account of their own between guesses.
"""

from __future__ import annotations

import math

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpResponse

from cspm.clientaddr import client_address
from cspm.throttles import FailureCounter


def _counters() -> tuple[FailureCounter, FailureCounter]:
    return (
        FailureCounter("login-username", settings.CSPM_LOGIN_FAILURE_RATE_PER_USERNAME),
        FailureCounter("login-address", settings.CSPM_LOGIN_FAILURE_RATE_PER_ADDRESS),
    )


def throttled_message(seconds: int) -> str:
    minutes = math.ceil(seconds / 60)
    when = f"{minutes} minute{'s' if minutes != 1 else ''}" if seconds > 60 else "a minute"
    return f"Too many failed logins for this username or from this address. Try again in {when}."


class ThrottledLoginMixin:
    throttled = False

    def clean(self):
        username = (self.cleaned_data.get("username") or "").strip().casefold()
        address = client_address(self.request) if self.request is not None else ""
        by_username, by_address = _counters()
        wait = max(by_username.wait(username), by_address.wait(address))
        if wait:
            self.throttled = True
            raise ValidationError(throttled_message(wait), code="throttled")
        try:
            cleaned = super().clean()
        except ValidationError:
            by_username.record(username)
            by_address.record(address)
            raise
        if self.cleaned_data.get("password"):
            by_username.reset(username)
        return cleaned


class LoginForm(ThrottledLoginMixin, AuthenticationForm):
    pass


class AdminLoginForm(ThrottledLoginMixin, AdminAuthenticationForm):
    pass


class LoginView(auth_views.LoginView):
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_invalid(self, form) -> HttpResponse:
        response = super().form_invalid(form)
        if form.throttled:
            response.status_code = 429
        return response
