"""boto3 collectors, one module per service. Importing the package registers them all."""

import importlib
import pkgutil

from findings.aws.base import COLLECTORS, CollectContext, Collected, CollectionError, collector

for _module in pkgutil.iter_modules(__path__):
    if _module.name not in {"base", "session"}:
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["COLLECTORS", "CollectContext", "Collected", "CollectionError", "collector"]
