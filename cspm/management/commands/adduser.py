"""Create or update a user with one of the four roles.

A password typed on the command line lands in the shell's history and in the process list, so
the command prefers a random one (printed once), one read from standard input
(``--password-stdin``) or typed at a prompt (``--prompt``); ``--password`` still works but is
never echoed back.
"""

import getpass
import secrets
import sys

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from cspm.roles import ADMIN, ROLES


class Command(BaseCommand):
    help = "Create (or update) a user with a role: viewer, analyst, approver or admin."
    stealth_options = ("stdin",)  # tests hand the command a standard input

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=ROLES)
        parser.add_argument("--email", default="")
        source = parser.add_mutually_exclusive_group()
        source.add_argument(
            "--password",
            help="Password to set (visible in the process list and shell history: prefer "
            "--password-stdin or --prompt). Default: a random one, printed once.",
        )
        source.add_argument(
            "--password-stdin",
            action="store_true",
            help="Read the password from the first line of standard input.",
        )
        source.add_argument(
            "--prompt", action="store_true", help="Ask for the password, without echoing it."
        )
        # The admin console is for admins; others get it only when asked (it shows only what
        # their role may, but it is one more door).
        staff = parser.add_mutually_exclusive_group()
        staff.add_argument(
            "--staff",
            action="store_true",
            help="Let a non-admin into the admin console too (admins always are, unless "
            "--no-staff).",
        )
        staff.add_argument(
            "--no-staff",
            action="store_true",
            help="Keep an admin out of the admin console.",
        )

    @transaction.atomic
    def handle(
        self,
        *args,
        username: str,
        role: str,
        email: str,
        password: str | None,
        password_stdin: bool,
        prompt: bool,
        staff: bool,
        no_staff: bool,
        **options,
    ) -> None:
        if password_stdin:
            password = (options.get("stdin") or sys.stdin).readline().rstrip("\r\n")
            if not password:
                raise CommandError("--password-stdin: standard input gave no password.")
        elif prompt:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("The two passwords differ.")
        generated = not password
        User = get_user_model()
        user, created = User.objects.get_or_create(username=username)
        password = password or secrets.token_urlsafe(12)
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise CommandError("Password refused: " + " ".join(exc.messages)) from None
        user.email = email or user.email
        user.is_staff = staff or (role == ADMIN and not no_staff)
        user.is_superuser = False
        user.set_password(password)
        user.save()
        user.groups.set([Group.objects.get(name=role)])
        verb = "Created" if created else "Updated"
        self.stdout.write(
            f"{verb} {username} ({role}{', admin console' if user.is_staff else ''})."
        )
        # Only a password the command made up is shown: one the operator gave is never echoed
        # (it would land in logs and terminal scrollback).
        if generated:
            self.stdout.write(f"Password: {password}")
        if role == ADMIN:
            self.stdout.write("Admins manage accounts, zones, users and every decision.")
