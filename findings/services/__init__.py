"""Every write about what scans know. Views, the API, tasks and commands call these only.

* ``catalog``: benchmarks, controls and the check registry's rows; accounts.
* ``scans``: starting, running and finishing scans (one unit per region plus ``global``).
* ``ingest``: writing one unit's results: resources, findings, history, coverage.
"""

from findings.services import ingest, scans
from findings.services.catalog import (
    CATALOG_DIR,
    CatalogLoad,
    catalog_files,
    load_catalog,
    register_account,
    sync_checks,
)

__all__ = [
    "CATALOG_DIR",
    "CatalogLoad",
    "catalog_files",
    "ingest",
    "load_catalog",
    "register_account",
    "scans",
    "sync_checks",
]
