"""Import every model so the MetaData is complete (for Alembic and the app)."""

from server.accounts.models import ApiToken, Device, LoginAttempt, User
from server.audit.models import AuditEntry
from server.cases.models import Case, CaseEvent, Photo, PhotoLink
from server.catalogue.models import CatalogueCategory, CatalogueItem
from server.evaluation.models import CaseRating, RatingRequest, StaffEvaluation
from server.grid.models import Cell, Duty, GridVersion
from server.notices.models import Notice
from server.population.models import CareTag, Household, Resident, ResidentTag, Visit
from server.units.models import Unit
from sync.db import Base, metadata
from sync.versions import VersionClock

__all__ = [
    "ApiToken",
    "AuditEntry",
    "Base",
    "CareTag",
    "Case",
    "CaseEvent",
    "CaseRating",
    "CatalogueCategory",
    "CatalogueItem",
    "Cell",
    "Device",
    "Duty",
    "GridVersion",
    "Household",
    "LoginAttempt",
    "Notice",
    "Photo",
    "PhotoLink",
    "RatingRequest",
    "Resident",
    "ResidentTag",
    "StaffEvaluation",
    "Unit",
    "User",
    "VersionClock",
    "Visit",
    "metadata",
]
