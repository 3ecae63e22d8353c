"""CSV cells that a spreadsheet will not run as formulas (OWASP "CSV Injection").

A tag value, a justification or a resource name comes from people and from cloud accounts; a
cell starting with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return, which some
spreadsheets skip before reading the rest as a formula) would be evaluated when an auditor
opens the export. OWASP's advice: prefix such a cell with a single quote, so the spreadsheet
shows it as text; the rest of the value is kept as it is. Every CSV writer goes through
``safe_csv_row``; JSON exports are exact and never pass through here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: Any) -> Any:
    """``value`` with a leading single quote if it is text a spreadsheet would read as a
    formula; lists become space-separated text first. Numbers and dates are left alone."""
    if isinstance(value, list | tuple):
        value = " ".join(str(item) for item in value)
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def safe_csv_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row for ``csv.DictWriter`` with every cell neutralised."""
    return {key: neutralise_cell(value) for key, value in row.items()}
