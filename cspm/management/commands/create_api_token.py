"""Create a personal API token for a user; the token is printed once."""

import datetime as dt

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from cspm import services


class Command(BaseCommand):
    help = "Create an API token for a user and print it (it is shown this once only)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", required=True, help="What the token is for.")
        parser.add_argument(
            "--days", type=int, help="Expire after this many days (default: never)."
        )

    def handle(self, *args, username: str, name: str, days: int | None, **options) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        if days is not None and days < 1:
            raise CommandError("--days must be at least 1.")
        expires_at = timezone.now() + dt.timedelta(days=days) if days else None
        try:
            # The command line acts as the user (whoever runs manage.py is an operator).
            token, raw = services.create_api_token(
                actor=user, user=user, name=name, expires_at=expires_at
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stderr.write(f"Token {token.display} created for {user}; store it now:")
        self.stdout.write(raw)
