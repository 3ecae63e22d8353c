"""What moving from one benchmark version to another changes, for this team's own data."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from acceptances.benchmarks import carry_over
from findings.queries.benchmarks import diff_benchmarks, find_benchmark


class Command(BaseCommand):
    help = (
        "List what a switch from benchmark OLD to NEW changes: controls added, removed and "
        "renumbered, findings the new version reads that the old did not (no re-scan needed), "
        "and the live acceptances that carry over or would no longer apply. OLD and NEW are "
        "slug@version, or a bare version of CIS AWS Foundations (e.g. 2.0.0 4.0.1)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("old")
        parser.add_argument("new")

    def handle(self, *args, old: str, new: str, **options) -> None:
        try:
            before, after = find_benchmark(old), find_benchmark(new)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if before.pk == after.pk:
            raise CommandError(f"{before} against itself: choose two different versions.")
        diff = diff_benchmarks(before, after)
        carried, lost = carry_over(diff)
        out = self.stdout.write
        out(f"From {before} to {after}")
        out(
            f"Controls: {len(diff.added)} added, {len(diff.removed)} removed, "
            f"{len(diff.renumbered)} renumbered, {len(diff.unchanged)} unchanged."
        )
        for control in diff.added:
            out(f"  added      {control.ref} {control.title}")
        for control in diff.removed:
            out(f"  removed    {control.ref} {control.title}")
        for pair in diff.renumbered:
            out(f"  renumbered {pair.old.ref} -> {pair.new.ref} {pair.new.title}")
        out(
            f"Findings newly evaluated: {len(diff.newly_evaluated)} check(s), "
            f"{diff.newly_failing} open failing finding(s) already held."
        )
        for check_id, (failing, passing) in diff.newly_evaluated.items():
            out(f"  {check_id}: {failing} failing, {passing} passing")
        out(f"Acceptances: {len(carried)} carry over, {len(lost)} would no longer apply.")
        for item in carried:
            refs = ", ".join(c.ref for c in item.controls)
            out(f"  carries    #{item.acceptance.pk} {item.acceptance} -> {refs}")
        for acceptance in lost:
            out(f"  no longer  #{acceptance.pk} {acceptance} (stays in force under {before})")
