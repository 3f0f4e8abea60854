"""The JSON API under /api/v1: route modules in a package per service area,
each route declared once (services/gateway/routing/declare.py), served by
GatewayService, which mixes in the classes below."""

from __future__ import annotations

from services.gateway.api.catalog.catalog import CatalogRoutes
from services.gateway.api.catalog.instruments import InstrumentRoutes
from services.gateway.api.catalog.policy import PolicyRoutes
from services.gateway.api.catalog.resources import ResourceRoutes
from services.gateway.api.complaints.complaints import ComplaintRoutes
from services.gateway.api.evaluation.department_rating import DepartmentRatingRoutes
from services.gateway.api.evaluation.efficiency import EfficiencyRoutes
from services.gateway.api.evaluation.surveys import SurveyRoutes
from services.gateway.api.intake.custody import CustodyRoutes
from services.gateway.api.intake.demands import DemandRoutes
from services.gateway.api.intake.materials import MaterialRoutes
from services.gateway.api.intake.visit_plans import VisitPlanRoutes
from services.gateway.api.notify.inbox import InboxRoutes
from services.gateway.api.platform.system import SystemRoutes
from services.gateway.api.referral.referrals import ReferralRoutes
from services.gateway.api.referral.report_files import ReportFileRoutes
from services.gateway.routing import openapi

ROUTES = (
    SystemRoutes,
    DemandRoutes,
    CustodyRoutes,
    VisitPlanRoutes,
    ReferralRoutes,
    CatalogRoutes,
    ResourceRoutes,
    InstrumentRoutes,
    PolicyRoutes,
    ComplaintRoutes,
    SurveyRoutes,
    EfficiencyRoutes,
    InboxRoutes,
    ReportFileRoutes,
    MaterialRoutes,
    DepartmentRatingRoutes,
)


def document() -> dict:
    """OpenAPI 3.1 of every route of the JSON API."""
    return openapi.document()
