"""Seed data for the catalog: the platform's own front door.

Customers' online demands go to the institution named by
QI_FRONT_DOOR_INSTITUTION (``jsqi`` by default), and its staff's accounts name
it by that code. Registered here under the same code, the pages can show its
name. It holds no qualification, so it is never matched to a service item
(4.1); referral still goes to qualified partners only.
"""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class InstitutionSeed:
    code: str
    name: str
    kind: str
    contact_phone: str = ""
    address: str = ""


FRONT_DOOR = InstitutionSeed(
    code="jsqi",
    name="江苏省质量基础设施一站式服务中心",
    kind="service_centre",
)
SEED_INSTITUTIONS: tuple[InstitutionSeed, ...] = (FRONT_DOOR,)
