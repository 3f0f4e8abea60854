"""Intake's convenience services over HTTP (7.4.4): door-to-door visits,
samples and their chain of custody, report delivery, and visit plans.
"""

from __future__ import annotations


class CustodyRoutes:
    """Mixed into GatewayService (``self.intake``, ``self.app``, ``_actor``)."""


def document_paths() -> dict:
    return {}
