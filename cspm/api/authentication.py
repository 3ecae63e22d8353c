"""API token authentication: ``Authorization: Bearer <token>`` (or ``Token <token>``)."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from cspm import services
from cspm.api.throttling import AuthFailureThrottle

KEYWORDS = ("bearer", "token")


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """Personal API tokens. A request without the header falls through to the session.

    Failed attempts are counted per client address; past the ``auth_failure`` rate every
    failing attempt from that address answers 429 until the window passes, so tokens cannot be
    guessed at speed (they carry 256 random bits anyway). A valid token is always let in: the
    throttle is checked only once the token is known to be bad, so bad attempts from a shared
    address (a NAT, a CI runner) never lock out a working pipeline.
    """

    def authenticate(self, request: Request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode("latin-1").lower() not in KEYWORDS:
            return None
        token = None
        if len(header) == 2:
            try:
                raw = header[1].decode("ascii")
            except UnicodeDecodeError:
                raw = ""
            token = services.find_api_token(raw)
        if token is not None:
            services.touch_api_token(token)
            return token.user, token
        throttle = AuthFailureThrottle()
        throttle.check_not_blocked(request)
        throttle.record_failure(request)
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Invalid Authorization header: send 'Bearer <token>'."
            )
        raise exceptions.AuthenticationFailed("Invalid, expired or revoked token.")

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (not 403) to unauthenticated requests.
        return 'Bearer realm="api"'


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = ApiTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token (cspm_<prefix>_<secret>), created at "
            "/api/v1/tokens/ or with `manage.py create_api_token`.",
        }
