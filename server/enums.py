"""Closed vocabularies shared by models, schemas and templates."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Enum as SAEnum


def enum_column_type(enum: type[StrEnum], name: str) -> SAEnum:
    """Store an enum as its string value, with a CHECK constraint on both backends."""
    return SAEnum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Role(StrEnum):
    """What a user may do (STYLE: one role per account keeps the permission table readable)."""

    WORKER = "worker"  # 网格员 and others on patrol with the phone app
    DISPATCHER = "dispatcher"  # 联动处置中心 staff: intake, review, dispatch, close
    GIS = "gis"  # uploads and publishes grids
    MANAGER = "manager"  # sees performance, evaluates
    ADMIN = "admin"  # accounts, audit, everything


class CellLevel(StrEnum):
    """The four levels of the grid: 街道 → 居民区 → 块区 → 楼组."""

    STREET = "street"
    RESIDENTIAL_AREA = "residential_area"
    BLOCK = "block"
    BUILDING_GROUP = "building_group"

    @property
    def depth(self) -> int:
        return list(CellLevel).index(self)

    @property
    def parent_level(self) -> CellLevel | None:
        return list(CellLevel)[self.depth - 1] if self.depth else None


class GridStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    RETIRED = "retired"


class DutyRole(StrEnum):
    """The roles a person holds for a cell (格中定人)."""

    GRID_WORKER = "grid_worker"  # 网格员
    BUILDING_GROUP_LEADER = "building_group_leader"  # 楼组长
    COMMUNITY_POLICE = "community_police"  # 社区民警
    PROPERTY_MANAGER = "property_manager"  # 物业经理
    VOLUNTEER = "volunteer"  # 志愿者


class DutyRank(StrEnum):
    """Shanghai's A/B pairing (AB角): the principal answers, the deputy stands in."""

    PRINCIPAL = "principal"
    DEPUTY = "deputy"


class UnitKind(StrEnum):
    DEPARTMENT = "department"  # 职能部门
    STATIONED_UNIT = "stationed_unit"  # 驻区单位
    PROPERTY_COMPANY = "property_company"  # 物业公司
    REPAIR_TEAM = "repair_team"  # 应急抢修队
    SOCIAL_ORG = "social_org"  # 社会组织
    VOLUNTEER_TEAM = "volunteer_team"  # 志愿者队伍
    SERVICE_PROVIDER = "service_provider"  # 服务商


class CatalogueKind(StrEnum):
    AFFAIR = "affair"  # 事务 (7 categories / 36 kinds)
    SERVICE = "service"  # 服务 (8 categories / 112 kinds)


class Priority(StrEnum):
    URGENT = "urgent"  # 紧急
    HIGH = "high"  # 较急
    NORMAL = "normal"  # 一般


class Channel(StrEnum):
    """Where a matter came in (一口受理)."""

    HOTLINE = "hotline"
    WALK_IN = "walk_in"
    ONLINE = "online"
    PATROL = "patrol"
    VISIT = "visit"
    OPEN311 = "open311"


class Disclosure(StrEnum):
    """How much of a case the public may see (the declaration: server/privacy/)."""

    PUBLIC = "public"  # 公开: listed with its kind, state, rough place and its description
    LISTED = "listed"  # 仅公开概况: listed with kind, state and rough place; the text stays inside
    PRIVATE = "private"  # 不公开: never on a public surface (about a household or a person)


class CaseStatus(StrEnum):
    """The seven-step model of GB/T 30428 as states (see docs/workflow.md)."""

    REPORTED = "reported"  # 信息收集: in, not yet verified
    CANCELLED = "cancelled"  # 注销: did not qualify
    OPENED = "opened"  # 立案: verified, waiting for dispatch
    DISPATCHED = "dispatched"  # 任务派遣: the deadline clock runs
    HANDLING = "handling"  # 任务处理: the unit is on it
    HANDLED = "handled"  # 处理反馈: handler says done, waiting for the check
    CLOSED = "closed"  # 核查结案: checked on site and closed
    EVALUATED = "evaluated"  # 综合评价: rated


OPEN_STATUSES = frozenset(
    {
        CaseStatus.REPORTED,
        CaseStatus.OPENED,
        CaseStatus.DISPATCHED,
        CaseStatus.HANDLING,
        CaseStatus.HANDLED,
    }
)


class Placement(StrEnum):
    """How a located matter sits in the grid."""

    IN = "in"  # inside a cell
    NEAR = "near"  # outside every cell, but within the near distance of one
    UNPLACED = "unplaced"  # no cell: the unplaced queue
    UNLOCATED = "unlocated"  # no point given


class PhotoStatus(StrEnum):
    MISSING = "missing"  # referenced by a report, bytes not yet arrived
    AVAILABLE = "available"


class PhotoProof(StrEnum):
    """Why a photo link may count (server/photos/access.py); a link without one is pending.

    A hash alone proves nothing (pulls list them), so a link grants reading only once the
    person who made it showed they may have the photo.
    """

    UPLOAD = "upload"  # the linker (any of their devices) sent the bytes, checked by SHA-256
    ACCESS = "access"  # the linker could already read the photo when they linked it
