#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cspm.settings")
    from django.core.management import execute_from_command_line

    from cspm.env import SettingError

    try:
        execute_from_command_line(sys.argv)
    except SettingError as exc:
        # A missing or bad variable: one line naming it, not a traceback ending in it.
        sys.exit(f"cspm: {exc}")


if __name__ == "__main__":
    main()
