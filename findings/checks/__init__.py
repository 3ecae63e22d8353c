"""Pure CIS checks, one module per service. Importing the package registers them all."""

import importlib
import pkgutil

from findings.checks.base import REGISTRY, CheckSpec, Result, Unit, check

for _module in pkgutil.iter_modules(__path__):
    if _module.name != "base":
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["REGISTRY", "CheckSpec", "Result", "Unit", "check"]
