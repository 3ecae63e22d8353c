"""Django's SMTP email backend, with an error that says what to set when STARTTLS fails."""

from __future__ import annotations

import smtplib

from django.core.mail.backends.smtp import EmailBackend as SmtpBackend


class EmailBackend(SmtpBackend):
    def open(self) -> bool | None:
        try:
            return super().open()
        except smtplib.SMTPNotSupportedError as exc:
            if not self.use_tls:
                raise
            # EMAIL_USE_TLS defaults to on for port 587; smtplib's own message ("STARTTLS
            # extension not supported by server.") does not say which setting asked for it.
            # Same exception class, so callers that retry on SMTP errors behave as before.
            raise smtplib.SMTPNotSupportedError(
                f"The mail server {self.host}:{self.port} does not offer STARTTLS, which "
                "EMAIL_USE_TLS asks for (on by default with EMAIL_PORT=587). "
                "Use the server's TLS port (EMAIL_PORT=465, EMAIL_USE_SSL=1), or set "
                "EMAIL_USE_TLS=0 to send in clear text to a relay on a trusted network."
            ) from exc
