"""The overview's history chart, laid out on the server as SVG coordinates.

The page's content security policy allows no inline style or script, so the chart is plain SVG
whose colours come from CSS classes of the style sheet; this module only does the arithmetic:
a dated x axis (one point per finished scan, placed by its date), a count y axis from zero to a
round maximum, and one line per series (failing, accepted, passing).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

WIDTH = 640
HEIGHT = 240
LEFT = 52  # room for the count labels
RIGHT = 16
TOP = 12
BOTTOM = 40  # room for the date labels
MAX_DATE_LABELS = 6

SERIES = (("failing", "Failing"), ("accepted", "Accepted"), ("passing", "Passing"))


@dataclass
class Tick:
    position: float
    label: str


@dataclass
class Point:
    x: float
    y: float
    value: int
    scan_id: int
    at: dt.datetime
    account: str


@dataclass
class Series:
    key: str
    label: str
    points: list[Point] = field(default_factory=list)

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


@dataclass
class Chart:
    width: int
    height: int
    left: int
    right: int  # x of the plot's right edge
    top: int
    bottom: int  # y of the plot's bottom edge (the x axis)
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    series: list[Series]


def nice_maximum(value: int) -> int:
    """The smallest of 1, 2, 2.5, 5 × 10^n at or above ``value`` (at least 1): a round top."""
    if value <= 1:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        top = step * magnitude
        if top >= value:
            return math.ceil(top)
    return 10 * magnitude  # pragma: no cover - the loop always returns


def posture_chart(history: Sequence[Any]) -> Chart | None:
    """Lay out ``history`` (posture snapshots, oldest first: ``at``, ``failing``,
    ``accepted``, ``passing``, ``scan_id``, ``account``) as a line chart; None when empty."""
    if not history:
        return None
    right = WIDTH - RIGHT
    bottom = HEIGHT - BOTTOM
    first, last = history[0].at, history[-1].at
    span = (last - first).total_seconds()

    def x_of(at: dt.datetime, index: int) -> float:
        if span <= 0:
            # One scan, or all at the same moment: spread them evenly (centred if alone).
            if len(history) == 1:
                return (LEFT + right) / 2
            return LEFT + (right - LEFT) * index / (len(history) - 1)
        return LEFT + (right - LEFT) * (at - first).total_seconds() / span

    top_value = nice_maximum(max(max(s.failing, s.accepted, s.passing) for s in history))

    def y_of(value: int) -> float:
        return bottom - (bottom - TOP) * value / top_value

    series = [Series(key, label) for key, label in SERIES]
    xs = []
    for index, snapshot in enumerate(history):
        x = x_of(snapshot.at, index)
        xs.append(x)
        for line in series:
            value = getattr(snapshot, line.key)
            line.points.append(
                Point(
                    x=x,
                    y=y_of(value),
                    value=value,
                    scan_id=snapshot.scan_id,
                    at=snapshot.at,
                    account=str(snapshot.account),
                )
            )
    # Date labels: at most MAX_DATE_LABELS, first and last always, no date twice in a row.
    step = max(1, math.ceil(len(history) / MAX_DATE_LABELS))
    chosen = sorted({*range(0, len(history), step), len(history) - 1})
    x_ticks: list[Tick] = []
    for index in chosen:
        label = timezone.localtime(history[index].at).strftime("%Y-%m-%d")
        if x_ticks and x_ticks[-1].label == label:
            continue
        x_ticks.append(Tick(xs[index], label))
    y_values = sorted({round(top_value * i / 4) for i in range(5)})
    y_ticks = [Tick(y_of(value), f"{value:,}") for value in y_values]
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        right=right,
        top=TOP,
        bottom=bottom,
        x_ticks=x_ticks,
        y_ticks=y_ticks,
        series=series,
    )
