"""Verify the hash chain of every stream of a service (audit contract).

    python -m shared.verify intake

Exit status 0 when every stream holds, 1 naming the first altered event of
each broken stream.
"""

from __future__ import annotations

import argparse
import importlib
import sys

APPLICATIONS = {
    "intake": "services.intake.application:IntakeApplication",
    "referral": "services.referral.application:ReferralApplication",
    "catalog": "services.catalog.application:CatalogApplication",
    "complaints": "services.complaints.application:ComplaintsApplication",
    "evaluation": "services.evaluation.application:EvaluationApplication",
}


def application_for(service: str):
    module_name, class_name = APPLICATIONS[service].split(":")
    return getattr(importlib.import_module(module_name), class_name)()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.verify")
    parser.add_argument("service", choices=sorted(APPLICATIONS))
    args = parser.parse_args(argv)
    app = application_for(args.service)
    try:
        checked, breaks = app.verify_all()
    finally:
        app.close()
    for b in breaks:
        print(
            f"ALTERED {args.service} stream {b.originator_id} "
            f"version {b.version}: {b.reason}"
        )
    print(f"{args.service}: {checked} stream(s) checked, {len(breaks)} broken")
    return 1 if breaks else 0


if __name__ == "__main__":
    sys.exit(main())
