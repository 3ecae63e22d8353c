"""Project-level views: home and health."""

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from findings import queries


def home(request: HttpRequest) -> HttpResponse:
    """Posture overview of the benchmark: per control, failing, accepted and passing counts."""
    benchmark = queries.get_default_benchmark()
    rows = queries.get_control_posture(benchmark) if benchmark else []
    totals = queries.summarize_posture(rows)
    return render(
        request,
        "home.html",
        {"benchmark": benchmark, "rows": rows, "totals": totals},
    )


@login_not_required
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers: the process answers and the database is reachable."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
