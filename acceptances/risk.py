"""The risk assessment of an acceptance: likelihood and impact on a 5×5 matrix, and the residual
rating their product falls in. Pure: no database, no request.

The bands are a setting (``CSPM_RISK_BANDS``): the highest score (likelihood × impact, 1 to 25)
of each rating, low to critical. The shipped bands: 1–4 low, 5–9 medium, 10–16 high, 17–25
critical.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import pairwise

from django.conf import settings

from findings.models import SEVERITY_RANK, Severity

# Each level's name and what it means, shown in the form beside the choice.
LIKELIHOOD_LEVELS: dict[int, tuple[str, str]] = {
    1: ("Rare", "Would take an unusual chain of events; not expected within five years."),
    2: ("Unlikely", "Could happen, but there is no sign of it being tried; about once in years."),
    3: ("Possible", "Known attack or failure paths exist; could happen within a year."),
    4: ("Likely", "Commonly tried against exposures like this; expected within months."),
    5: ("Almost certain", "Exploited or failing already, or trivially reachable by anyone."),
}
IMPACT_LEVELS: dict[int, tuple[str, str]] = {
    1: ("Negligible", "No customer data or service affected; fixed in routine work."),
    2: ("Minor", "Limited internal data or a short, contained disruption of one service."),
    3: ("Moderate", "Internal data exposed or a service down for hours; a report to management."),
    4: ("Major", "Customer data exposed or a day-long outage; regulators or customers informed."),
    5: ("Severe", "Large breach or lasting outage; legal, financial and reputational damage."),
}

DEFAULT_BANDS: dict[str, int] = {
    Severity.LOW: 4,
    Severity.MEDIUM: 9,
    Severity.HIGH: 16,
    Severity.CRITICAL: 25,
}

# The assessment a new acceptance starts from, by the severity the scanner gave the control:
# the inherent risk, which the person lowers when compensating measures justify it.
SEVERITY_DEFAULTS: dict[str, tuple[int, int]] = {
    Severity.LOW: (2, 2),
    Severity.MEDIUM: (3, 3),
    Severity.HIGH: (4, 4),
    Severity.CRITICAL: (5, 5),
}


def validate_bands(bands: Mapping[str, int]) -> dict[str, int]:
    """The bands in rating order; raises ValueError when they are not four rising bounds
    ending at 25."""
    ordered = sorted(SEVERITY_RANK, key=SEVERITY_RANK.__getitem__)
    if set(bands) != set(ordered):
        raise ValueError(f"Risk bands must name exactly {', '.join(ordered)}.")
    bounds = [int(bands[name]) for name in ordered]
    if bounds[-1] != 25 or any(b <= a for a, b in pairwise(bounds)):
        raise ValueError(
            "Risk bands are the highest score of each rating, rising, the last one 25 "
            f"(got {dict(zip(ordered, bounds, strict=True))})."
        )
    if bounds[0] < 1:
        raise ValueError("The low band must hold at least score 1.")
    return dict(zip(ordered, bounds, strict=True))


def bands() -> dict[str, int]:
    return validate_bands(getattr(settings, "CSPM_RISK_BANDS", DEFAULT_BANDS))


def validate_level(value: object, name: str) -> int:
    """A likelihood or impact level, 1 to 5; raises ValueError naming what is wrong."""
    try:
        level = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise ValueError(f"The {name} is a level from 1 to 5.") from None
    if str(level) != str(value).strip() or not 1 <= level <= 5:
        raise ValueError(f"The {name} is a level from 1 to 5 (got {value!r}).")
    return level


def rating(likelihood: int, impact: int, band_bounds: Mapping[str, int] | None = None) -> str:
    """The residual rating of a likelihood and impact (each 1 to 5)."""
    score = validate_level(likelihood, "likelihood") * validate_level(impact, "impact")
    for name, upper in (band_bounds or bands()).items():
        if score <= upper:
            return name
    raise AssertionError("the last band ends at 25")  # pragma: no cover


def default_assessment(severity: str) -> tuple[int, int]:
    """Likelihood and impact a new acceptance of a control of ``severity`` starts from."""
    return SEVERITY_DEFAULTS.get(severity, SEVERITY_DEFAULTS[Severity.MEDIUM])


def matrix(band_bounds: Mapping[str, int] | None = None) -> list[list[str]]:
    """The 5×5 matrix as rows of ratings: impact 5 on top, likelihood 1 to 5 left to right."""
    chosen = band_bounds or bands()
    return [
        [rating(likelihood, impact, chosen) for likelihood in range(1, 6)]
        for impact in range(5, 0, -1)
    ]
