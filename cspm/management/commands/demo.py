"""Run the app on the embedded default with a simulated AWS account seeded with the story."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from cspm.roles import ADMIN
from findings import services
from findings.models import Scan
from findings.queries import get_default_benchmark
from findings.services import scans
from simulation import account as simulation

DEMO_USER = "demo"


class Command(BaseCommand):
    help = (
        "Start a simulated AWS account (moto server on loopback) seeded with the story's web "
        "stack, register it, create the demo login and serve the app."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--port", type=int, default=8000, help="Port of the web app.")
        parser.add_argument(
            "--moto-port", type=int, default=0, help="Port of the simulated AWS (default: free)."
        )
        parser.add_argument(
            "--no-serve",
            action="store_true",
            help="Seed and register, then stop (for scripts and tests).",
        )

    def handle(self, *args, port: int, moto_port: int, no_serve: bool, **options) -> None:
        if settings.PRODUCTION:
            raise CommandError("The demo runs on the embedded default only, not in production.")
        if not 1 <= port <= 65535:
            raise CommandError(f"--port {port} is not a TCP port.")
        self.stdout.write("Starting the simulated AWS account (moto server on loopback)...")
        server = simulation.start_moto_server(port=moto_port)
        try:
            # A fixed bucket name keeps the same resource (and its decisions) across demo restarts.
            stack = simulation.seed_story_stack(server.endpoint_url, bucket_name="story-images")
            account, _ = services.register_account(
                account_id=stack.account_id,
                name="Story web stack (simulated)",
                endpoint_url=server.endpoint_url,
                scan_interval_hours=0,
            )
            password = self._demo_login()
            self._scan(account)
            self._banner(account, stack, password, port, len(stack.default_vpcs))
            if not no_serve:
                # Scans started from the pages run beside the server, showing live progress.
                settings.CSPM_BACKGROUND_TASKS = True
                call_command("runserver", f"127.0.0.1:{port}", use_reloader=False)
        finally:
            server.stop()

    def _scan(self, account) -> None:
        """Scan the simulated account now, so the first page shows real findings."""
        scan = scans.start_scan(account, trigger=Scan.Trigger.COMMAND, dispatch=False)
        if scan.state != Scan.State.QUEUED:
            return
        self.stdout.write(
            "Scanning it (every region): every loaded benchmark reads the same findings..."
        )
        scan = scans.run_scan_inline(scan.pk)
        self.stdout.write(
            f"Scan {scan.get_state_display().lower()}: {scan.findings_failed} failing of "
            f"{scan.findings_total} findings on {scan.resources_seen} resources."
        )

    def _demo_login(self) -> str:
        User = get_user_model()
        user, _ = User.objects.get_or_create(username=DEMO_USER)
        password = secrets.token_urlsafe(9)
        user.set_password(password)
        user.is_staff = True
        user.email = user.email or "demo@example.com"
        user.save()
        user.groups.set([Group.objects.get(name=ADMIN)])
        return password

    def _banner(self, account, stack, password: str, port: int, regions: int) -> None:
        lines = [
            "",
            f"Simulated account {account.account_id} at {account.endpoint_url}",
            f"  web VPC {stack.vpc_id} (default NACL {stack.network_acl_id}), "
            f"instance {stack.instance_id}, bucket {stack.bucket_name}; "
            f"default VPCs in {regions} regions",
            "",
            f"  Open   http://127.0.0.1:{port}/",
            f"  Shown  {get_default_benchmark() or 'no benchmark loaded'} by default"
            " (the overview's benchmark filter picks another, e.g. the story's v2.0.0)",
            f"  Login  {DEMO_USER} / {password}   (role: admin; a new password each start)",
            "",
        ]
        self.stdout.write(self.style.SUCCESS("\n".join(lines)))
