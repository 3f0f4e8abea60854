"""Catalog's shared instruments over HTTP: open slots, bookings and their
outcome, no-shows and utilisation; guide, item and qualification upkeep.
"""

from __future__ import annotations


class InstrumentRoutes:
    """Mixed into GatewayService (``self.catalog``, ``self.app``, ``_actor``)."""


def document_paths() -> dict:
    return {}
