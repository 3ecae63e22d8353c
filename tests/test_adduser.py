"""``adduser`` never shows a password it was given; it prints only one it made up."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db

GIVEN = "Tr0ub4dor&3-staple-horse"


def _run(*args: str, stdin: str | None = None) -> str:
    out = io.StringIO()
    extra = {"stdin": io.StringIO(stdin)} if stdin is not None else {}
    call_command("adduser", *args, stdout=out, stderr=out, **extra)
    return out.getvalue()


def test_a_password_given_on_the_command_line_is_never_printed():
    output = _run("nina", "--role", "viewer", "--password", GIVEN)
    assert GIVEN not in output
    assert authenticate(username="nina", password=GIVEN) is not None


def test_a_password_read_from_standard_input_is_set_and_not_printed():
    output = _run("nina", "--role", "analyst", "--password-stdin", stdin=GIVEN + "\n")
    assert GIVEN not in output and "Password" not in output
    assert authenticate(username="nina", password=GIVEN) is not None


def test_an_empty_standard_input_is_refused():
    with pytest.raises(CommandError, match="no password"):
        _run("nina", "--role", "analyst", "--password-stdin", stdin="")


def test_a_random_password_is_printed_once_and_works():
    output = _run("nina", "--role", "viewer")
    (line,) = [line for line in output.splitlines() if line.startswith("Password: ")]
    assert authenticate(username="nina", password=line.removeprefix("Password: ")) is not None


def test_only_admins_get_the_admin_console_unless_asked():
    from django.contrib.auth.models import User

    _run("ann", "--role", "analyst")
    _run("arthur", "--role", "approver", "--staff")
    output = _run("alice", "--role", "admin")
    _run("al", "--role", "admin", "--no-staff")
    staff = dict(User.objects.values_list("username", "is_staff"))
    assert staff == {"ann": False, "arthur": True, "alice": True, "al": False}
    assert "admin console" in output
    with pytest.raises(CommandError):
        _run("bob", "--role", "analyst", "--staff", "--no-staff")
