"""The sandbox's networks: one module per network, each declaring its `DIALECT`
(sandbox/dialects/common.py::NetworkDialect). The world, the index and the server derive the
network list from here; adding a network adds its module and nothing else in the sandbox."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from sandbox.dialects.common import BadRequest, NetworkDialect, Reply


@cache
def registered() -> dict[str, NetworkDialect]:
    """Every dialect module's DIALECT, by name, in the order the networks joined the sandbox."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        dialect = getattr(importlib.import_module(f"{__name__}.{info.name}"), "DIALECT", None)
        if isinstance(dialect, NetworkDialect):
            found.append(dialect)
    return {d.name: d for d in sorted(found, key=lambda d: d.joined)}


def network_names() -> tuple[str, ...]:
    return tuple(registered())


__all__ = ["BadRequest", "NetworkDialect", "Reply", "network_names", "registered"]
