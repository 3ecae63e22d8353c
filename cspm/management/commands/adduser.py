"""Create or update a user with one of the four roles."""

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from cspm.roles import ADMIN, ROLES


class Command(BaseCommand):
    help = "Create (or update) a user with a role: viewer, analyst, approver or admin."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=ROLES)
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--password",
            help="Password to set (default: a random one, printed once).",
        )
        parser.add_argument(
            "--no-staff",
            action="store_true",
            help="Do not let the user into the admin console (it shows only what the role may).",
        )

    @transaction.atomic
    def handle(
        self,
        *args,
        username: str,
        role: str,
        email: str,
        password: str | None,
        no_staff: bool,
        **options,
    ) -> None:
        User = get_user_model()
        user, created = User.objects.get_or_create(username=username)
        password = password or secrets.token_urlsafe(12)
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise CommandError("Password refused: " + " ".join(exc.messages)) from None
        user.email = email or user.email
        user.is_staff = not no_staff
        user.is_superuser = False
        user.set_password(password)
        user.save()
        user.groups.set([Group.objects.get(name=role)])
        verb = "Created" if created else "Updated"
        self.stdout.write(
            f"{verb} {username} ({role}{', admin console' if user.is_staff else ''})."
        )
        if not options.get("password"):
            self.stdout.write(f"Password: {password}")
        if role == ADMIN:
            self.stdout.write("Admins manage accounts, zones, users and every decision.")
