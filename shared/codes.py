"""Progress codes: what a customer holds to follow their case without logging
in (7.4.6). Intake gives one to every demand and complaints one to every
complaint, so both draw them here, from one alphabet and in one format.
"""

from __future__ import annotations

import re
import secrets

PROGRESS_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
PROGRESS_CODE = re.compile(r"^[A-Z2-9]{10}$")


def new_progress_code() -> str:
    """Ten characters of ``PROGRESS_ALPHABET``, drawn by a secure random source."""
    return "".join(secrets.choice(PROGRESS_ALPHABET) for _ in range(10))
