"""Sending mail: a server that does not offer STARTTLS gets an error saying what to set."""

from __future__ import annotations

import smtplib

import pytest
from django.core.mail import send_mail


def test_a_server_without_starttls_names_the_settings_to_change(smtp_server, settings):
    # The default for EMAIL_PORT=587 is STARTTLS; the test's server (like some relays) offers none.
    settings.EMAIL_BACKEND = "cspm.mail.EmailBackend"
    settings.EMAIL_USE_TLS = True
    with pytest.raises(smtplib.SMTPNotSupportedError) as raised:
        send_mail("Hello", "Body", "cspm@example.com", ["owner@example.com"])
    message = str(raised.value)
    assert f"{smtp_server.host}:{smtp_server.port} does not offer STARTTLS" in message
    assert "EMAIL_USE_TLS=0" in message and "EMAIL_PORT=465" in message
    assert smtp_server.messages == []


def test_without_tls_the_same_backend_delivers(smtp_server, settings):
    settings.EMAIL_BACKEND = "cspm.mail.EmailBackend"
    settings.EMAIL_USE_TLS = False
    send_mail("Hello", "Body", "cspm@example.com", ["owner@example.com"])
    assert [m.subject for m in smtp_server.to("owner@example.com")] == ["Hello"]
