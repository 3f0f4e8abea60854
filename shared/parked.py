"""Ops command for parked messages (delivery contract 3).

    python -m shared.parked list [--all]          # every service (make parked)
    python -m shared.parked --service referral list [--all]
    python -m shared.parked --service referral replay ID
    python -m shared.parked --service referral replay --all

Listing every service is the default because any consumer may park a message
and an operator should not have to know which one did; each service gets a
heading line (``referral: 2 parked message(s)``) over its rows. A replay sends
the message back to its consumer's queue; the running service handles it again
and marks it resolved, or parks it again with one more attempt. The databases
are found through ``config`` as the services find them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from shared import config, system
from shared.amqp import ConfirmingPublisher
from shared.parking import PARKED, REPLAY_HEADER, REPLAYING, ParkingLot
from shared.persistence import DatabaseURL, KernelStore


def _lot(service: str) -> ParkingLot:
    return ParkingLot(KernelStore(service))


def list_parked(service: str, everything: bool = False) -> list[dict]:
    return _lot(service).list(None if everything else PARKED)


def _has_store(service: str) -> bool:
    """False for a SQLite file not made yet: listing must not create one."""
    db = DatabaseURL.parse(config.database_url(service), service)
    return db.kind != "sqlite" or Path(db.path).exists()


def list_every_service(everything: bool = False) -> dict[str, list[dict]]:
    """Each service's parked messages (none for a service without a store)."""
    found = {}
    for service in system.SERVICES:
        if not _has_store(service):
            found[service] = []
            continue
        kernel = KernelStore(service)
        try:
            found[service] = ParkingLot(kernel).list(None if everything else PARKED)
        finally:
            kernel.close()
    return found


def replay(
    service: str, ids: list[int] | None, amqp_uri: str | None = None
) -> list[int]:
    """Send parked messages back to their queues; returns the ids replayed."""
    lot = _lot(service)
    rows = lot.list(PARKED) if ids is None else [lot.get(i) for i in ids]
    missing = [i for i, row in zip(ids or [], rows, strict=False) if row is None]
    if missing:
        raise LookupError(f"no parked message with id {', '.join(map(str, missing))}")
    publisher = ConfirmingPublisher(amqp_uri or config.get("QI_AMQP_URI"))
    publisher.connect()
    replayed = []
    try:
        for row in rows:
            payload = json.loads(row["payload"])
            # marked first: the consumer may finish (or park it again) before
            # the publish call returns
            lot.mark(row["id"], REPLAYING)
            try:
                publisher.publish_batch(
                    "", [(row["queue"], payload)], headers={REPLAY_HEADER: row["id"]}
                )
            except Exception:
                lot.mark(row["id"], PARKED)
                raise
            replayed.append(row["id"])
    finally:
        publisher.close()
    return replayed


def _print_rows(rows: list[dict]) -> None:
    if not rows:
        print("no parked messages")
        return
    print(
        f"{'id':>5}  {'status':<9} {'tries':>5}  {'consumer':<45} {'event':<28} error"
    )
    for r in rows:
        event = f"{r['source']}.{r['event_type']}#{r['position']}"
        print(
            f"{r['id']:>5}  {r['status']:<9} {r['attempts']:>5}  "
            f"{r['consumer']:<45} {event:<28} {r['error'][:80]}"
        )


def _print_every_service(found: dict[str, list[dict]]) -> None:
    for service, rows in found.items():
        if not rows:
            print(f"{service}: no parked messages")
            continue
        print(f"{service}: {len(rows)} parked message(s)")
        _print_rows(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.parked")
    parser.add_argument(
        "--service",
        choices=system.SERVICES,
        help="one service (list: every service when left out; replay: required)",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    listing = sub.add_parser("list", help="list parked messages")
    listing.add_argument("--all", action="store_true", help="include resolved ones")
    again = sub.add_parser("replay", help="send parked messages back to their queue")
    again.add_argument("id", nargs="?", type=int)
    again.add_argument("--all", action="store_true")
    args = parser.parse_args(argv)

    if args.command == "list":
        if args.service is None:
            _print_every_service(list_every_service(args.all))
        else:
            _print_rows(list_parked(args.service, args.all))
        return 0
    if args.service is None:
        parser.error("replay needs --service (the service whose message it is)")
    if (args.id is None) == (not args.all):
        parser.error("replay takes one ID or --all")
    try:
        done = replay(args.service, None if args.all else [args.id])
    except LookupError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"replayed {len(done)} message(s): {', '.join(map(str, done)) or '-'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
