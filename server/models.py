"""Import every model so the MetaData is complete (for Alembic and the app)."""

from server.accounts.models import ApiToken, Device, LoginAttempt, PasswordReset, User
from server.addresses.models import StandardAddress
from server.audit.models import AuditEntry
from server.campaigns.models import Campaign, CampaignCell, CampaignTarget
from server.cases.models import Case, CaseEvent, Photo, PhotoLink
from server.catalogue.models import CatalogueCategory, CatalogueItem
from server.evaluation.models import (
    CaseRating,
    DashboardBuiltDay,
    DashboardDay,
    DashboardDirtyDay,
    RatingRequest,
    StaffEvaluation,
)
from server.forms.models import Form, FormAnswer, FormVersion
from server.grid.models import Cell, Duty, GridImportJob, GridVersion
from server.imports.models import CategoryMapping, ImportFile, ImportReview, ImportRun
from server.layers.models import BaseLayer, BaseLayerFeature
from server.lifeservices.models import Booking, ServicePoint, ServiceReview, ServiceSlot
from server.notices.models import Notice
from server.open311.models import ApiPartner, Open311Request
from server.photos.models import Upload
from server.population.models import CareTag, Household, Resident, ResidentTag, Visit
from server.residents.models import PhoneCode, RateCounter, ResidentReport
from server.units.models import Unit
from sync.db import Base, metadata
from sync.models import (
    CaseConflict,
    DeviceState,
    FieldStamp,
    MutationRecord,
    ScopeExit,
    SyncMark,
    SyncScope,
)
from sync.versions import VersionClock

__all__ = [
    "ApiPartner",
    "ApiToken",
    "AuditEntry",
    "Base",
    "BaseLayer",
    "BaseLayerFeature",
    "Booking",
    "Campaign",
    "CampaignCell",
    "CampaignTarget",
    "CareTag",
    "Case",
    "CaseConflict",
    "CaseEvent",
    "CaseRating",
    "CatalogueCategory",
    "CatalogueItem",
    "CategoryMapping",
    "Cell",
    "DashboardBuiltDay",
    "DashboardDay",
    "DashboardDirtyDay",
    "Device",
    "DeviceState",
    "Duty",
    "FieldStamp",
    "Form",
    "FormAnswer",
    "FormVersion",
    "GridImportJob",
    "GridVersion",
    "Household",
    "ImportFile",
    "ImportReview",
    "ImportRun",
    "LoginAttempt",
    "MutationRecord",
    "Notice",
    "Open311Request",
    "PasswordReset",
    "PhoneCode",
    "Photo",
    "PhotoLink",
    "RateCounter",
    "RatingRequest",
    "Resident",
    "ResidentReport",
    "ResidentTag",
    "ScopeExit",
    "ServicePoint",
    "ServiceReview",
    "ServiceSlot",
    "StaffEvaluation",
    "StandardAddress",
    "SyncMark",
    "SyncScope",
    "Unit",
    "Upload",
    "User",
    "VersionClock",
    "Visit",
    "metadata",
]
