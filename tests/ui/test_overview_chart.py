"""The overview's history chart: scan dates on the x axis, counts on the y axis, one line for
each of failing, accepted and passing, with a legend; plain SVG (no inline style, for the CSP)."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse

from findings.chart import nice_maximum
from findings.models import PostureSnapshot, Scan

pytestmark = pytest.mark.django_db

SVG = "{http://www.w3.org/2000/svg}"


def snapshot(account, benchmark, day: int, failing: int, accepted: int, passing: int):
    at = dt.datetime(2026, 11, day, 6, 0, tzinfo=dt.UTC)
    scan = Scan.objects.create(account=account, state=Scan.State.SUCCEEDED, finished_at=at)
    return PostureSnapshot.objects.create(
        scan=scan,
        account=account,
        benchmark=benchmark,
        at=at,
        failing=failing,
        accepted=accepted,
        passing=passing,
    )


def chart_of(html: str) -> ET.Element:
    start = html.index('<svg class="history-chart"')
    end = html.index("</svg>", start) + len("</svg>")
    # The chart is well-formed SVG on its own (the namespace is HTML's implicit one). The text
    # is this server's own page, rendered in the test: not untrusted input.
    return ET.fromstring(  # noqa: S314
        html[start:end].replace("<svg ", f'<svg xmlns="{SVG[1:-1]}" ', 1)
    )


def test_the_chart_has_dated_axes_and_three_series(login, viewer, estate, catalog):
    benchmark = catalog.controls.first().benchmark
    snapshot(estate.account, benchmark, 1, failing=40, accepted=0, passing=10)
    snapshot(estate.account, benchmark, 8, failing=30, accepted=5, passing=15)
    snapshot(estate.account, benchmark, 22, failing=12, accepted=8, passing=30)
    html = login(viewer).get(reverse("home")).content.decode()
    svg = chart_of(html)

    x_axis = svg.find(f".//{SVG}g[@data-axis='x']")
    dates = [t.text for t in x_axis.iter(f"{SVG}text") if t.get("data-tick")]
    assert dates == ["2026-11-01", "2026-11-08", "2026-11-22"]
    y_axis = svg.find(f".//{SVG}g[@data-axis='y']")
    counts = [t.text for t in y_axis.iter(f"{SVG}text") if t.get("data-tick")]
    assert counts[0] == "0" and int(counts[-1].replace(",", "")) >= 40

    series = {g.get("data-series"): g for g in svg.iter(f"{SVG}g") if g.get("data-series")}
    assert set(series) == {"failing", "accepted", "passing"}
    values = {
        key: [int(c.get("data-value")) for c in g.iter(f"{SVG}circle")] for key, g in series.items()
    }
    assert values == {"failing": [40, 30, 12], "accepted": [0, 5, 8], "passing": [10, 15, 30]}

    # Points sit at their dates: the gap of 14 days is twice the gap of 7.
    xs = [float(c.get("cx")) for c in series["failing"].iter(f"{SVG}circle")]
    assert xs[2] - xs[1] == pytest.approx(2 * (xs[1] - xs[0]), abs=0.2)
    # Counts go up the y axis: the highest failing point is highest on the page.
    ys = [float(c.get("cy")) for c in series["failing"].iter(f"{SVG}circle")]
    assert ys[0] < ys[1] < ys[2]

    legend = html[html.index('data-testid="history-legend"') :]
    legend = legend[: legend.index("</ul>")]
    for label in ("Failing", "Accepted", "Passing"):
        assert label in legend
    assert (
        " style="
        not in html[html.index("<svg") : html.index("</ul>", html.index("history-legend"))]
    )


def test_no_chart_before_any_scan(login, viewer, estate):
    html = login(viewer).get(reverse("home")).content.decode()
    assert "history-chart" not in html


def test_the_count_axis_ends_on_a_round_number():
    assert [nice_maximum(v) for v in (0, 1, 3, 7, 40, 41, 230, 999, 1001)] == [
        1,
        1,
        5,
        10,
        50,
        50,
        250,
        1000,
        2000,
    ]
