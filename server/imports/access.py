"""Who may import what (admin always may): one table for the page, the API and the lists."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from server.accounts.models import User
from server.enums import Role
from server.exceptions import PermissionDenied

IMPORTERS: dict[str, tuple[Role, ...]] = {
    "register": (Role.MANAGER,),  # 人口登记: personal data of the highest class
    "addresses": (Role.GIS,),
    "staff": (),
    "units": (),
    "catalogue": (),  # 受理目录: time limits bind every unit
}
ANY_IMPORTER = (Role.MANAGER, Role.GIS)  # the pages' own gate; each kind is checked below


def may_import(user: User, kind: str) -> bool:
    return user.role == Role.ADMIN or user.role in IMPORTERS.get(kind, ())


def kinds_for(user: User) -> list[str]:
    """The kinds this user may import, in the pages' order."""
    return [kind for kind in IMPORTERS if may_import(user, kind)]


def require_import(user: User, kind: str) -> None:
    """PermissionDenied unless ``user`` may import (and see the runs of) ``kind``."""
    if kind in IMPORTERS and not may_import(user, kind):
        raise PermissionDenied(_l("You may not import this kind of file."), field="kind")
