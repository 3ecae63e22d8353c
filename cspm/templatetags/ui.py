"""Small template helpers shared by the triage pages."""

from __future__ import annotations

import json
import re
from typing import Any

from django import template

register = template.Library()


@register.filter
def pretty_json(value: Any) -> str:
    """A configuration snapshot or evidence document, indented for reading."""
    return json.dumps(value, indent=2, sort_keys=True, default=str)


@register.filter
def percent(part: int, whole: int) -> float:
    """``part`` as a share of ``whole`` in percent (0 when there is nothing to share)."""
    return round(100.0 * part / whole, 1) if whole else 0.0


@register.filter
def percent_step(part: int, whole: int) -> int:
    """``part`` as a whole percent of ``whole``, for the ``h-N``/``w-N`` classes of app.css:
    the Content-Security-Policy allows no inline ``style=`` attribute."""
    return round(100 * part / whole) if whole else 0


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.filter
def duration(value: Any) -> str:
    """A timedelta as people read it: "17 s", "4 min 05 s", "1 h 02 min"."""
    if value is None:
        return "–"
    seconds = int(value.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


@register.filter
def age(value: Any) -> str:
    """A waiting time or a time to decide as people read it: "12 days", "1 day 3 h", or
    ``duration``'s words under a day."""
    if value is None:
        return "–"
    days = value.days
    if days < 1:
        return duration(value)
    if days >= 7:
        return f"{days} days"
    hours = value.seconds // 3600
    unit = "day" if days == 1 else "days"
    return f"{days} {unit} {hours} h" if hours else f"{days} {unit}"


@register.filter
def generic(text: str) -> str:
    """A catalog text's ``{{ name }}`` placeholders shown as ``<name>``: the generic form,
    never mistaken for a filled-in command (each failing resource shows its own)."""
    return re.sub(r"\{\{\s*([a-z_]+)\s*\}\}", r"<\1>", text or "")
