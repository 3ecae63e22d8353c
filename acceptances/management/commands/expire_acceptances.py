"""Expire the acceptances whose expiry has passed (what the beat task does), with a summary."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils import timezone

from acceptances import notifications
from acceptances.models import RiskAcceptance


class Command(BaseCommand):
    help = (
        "Expire every active risk acceptance whose expiry has passed: its findings fail again "
        "at once and its owner (and creator) are emailed. Safe to run alongside the beat task: "
        "each acceptance is expired and announced once."
    )

    def handle(self, *args, **options) -> None:
        expired = notifications.expire_and_notify()
        if not expired:
            self.stdout.write("Nothing to expire.")
            return
        self.stdout.write(
            f"Expired {len(expired)} acceptance(s); their findings fail again and their owners "
            "are notified:"
        )
        acceptances = (
            RiskAcceptance.objects.filter(pk__in=expired)
            .select_related("control", "resource", "zone", "owner")
            .order_by("expires_at", "pk")
        )
        for acceptance in acceptances:
            expired_at = timezone.localtime(acceptance.expires_at)
            self.stdout.write(
                f"  #{acceptance.pk} {acceptance}, expired {expired_at:%Y-%m-%d %H:%M %Z}, "
                f"owner {acceptance.owner}"
            )
