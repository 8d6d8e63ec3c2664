"""Classes of data, the audiences that read them, and which audience each role is."""

from __future__ import annotations

from enum import StrEnum

from server.enums import Role


class DataClass(StrEnum):
    """How far a value may travel. Every column of every table has one (declaration.py)."""

    #: Anyone, without signing in: Open311, the directory, the residents' pages.
    PUBLIC = "public"
    #: Any member of staff signed in: staff names, units, cells, exact points of street
    #: matters, what staff wrote about a matter in the street.
    INTERNAL = "internal"
    #: About an identifiable resident: the household register (room numbers, names, birth
    #: years, phones), where a household lives, which residents a visit saw.
    PERSONAL = "personal"
    #: Special categories about a resident: health, care needs, key-group tags, what a
    #: household visit found and every case that came out of one.
    SENSITIVE = "sensitive"
    #: How to reach someone who called, wrote or booked: only for calling them back.
    CONTACT = "contact"
    #: Hashes of tokens, codes and passwords: never read back by anyone.
    SECRET = "secret"


class Audience(StrEnum):
    """Who is reading, as far as personal data is concerned."""

    #: No sign-in: Open311's read side, the directory, lookups, maps of public places.
    PUBLIC = "public"
    #: Holds one private link (a rating code, a booking link): sees that one record's
    #: public side, nothing more (a link can be forwarded).
    LINK_HOLDER = "link_holder"
    #: Holds the follow link of their own online report: also the text and place they gave.
    REPORTER = "reporter"
    #: Signed-in staff without personal-data rights (GIS staff), and every export taken
    #: without the "personal data" box.
    STAFF = "staff"
    #: Grid workers: the households, residents and visits of the cells they cover (scope is
    #: enforced by server/cases/coverage.py and server/fieldsync/scope.py), never contacts.
    CELL_STAFF = "cell_staff"
    #: The centre and managers on screen (contacts masked, each reveal audited), and the
    #: exports of dispatchers and administrators who tick the box (audited).
    OFFICE = "office"


#: What each audience may read. SECRET is read by nobody.
READS: dict[Audience, frozenset[DataClass]] = {
    Audience.PUBLIC: frozenset({DataClass.PUBLIC}),
    Audience.LINK_HOLDER: frozenset({DataClass.PUBLIC}),
    Audience.REPORTER: frozenset({DataClass.PUBLIC}),  # + their own text: declaration.OWN
    Audience.STAFF: frozenset({DataClass.PUBLIC, DataClass.INTERNAL}),
    Audience.CELL_STAFF: frozenset(
        {DataClass.PUBLIC, DataClass.INTERNAL, DataClass.PERSONAL, DataClass.SENSITIVE}
    ),
    Audience.OFFICE: frozenset(
        {
            DataClass.PUBLIC,
            DataClass.INTERNAL,
            DataClass.PERSONAL,
            DataClass.SENSITIVE,
            DataClass.CONTACT,
        }
    ),
}

#: Each role on screen. Managers oversee visits and cases (every view of a visit log or a
#: caller is audited); GIS staff draw grids and need nobody's personal data.
ROLE_AUDIENCE: dict[Role, Audience] = {
    Role.WORKER: Audience.CELL_STAFF,
    Role.DISPATCHER: Audience.OFFICE,
    Role.MANAGER: Audience.OFFICE,
    Role.GIS: Audience.STAFF,
    Role.ADMIN: Audience.OFFICE,
}

#: Roles that may take personal data out of the system in an export (ticking the box, which
#: is audited). Everyone else's exports are read as Audience.STAFF.
PERSONAL_EXPORT_ROLES = frozenset({Role.DISPATCHER, Role.ADMIN})


def may_read(audience: Audience, data_class: DataClass) -> bool:
    """True when `audience` may read values of `data_class`.

    >>> may_read(Audience.PUBLIC, DataClass.PERSONAL), may_read(Audience.OFFICE, DataClass.CONTACT)
    (False, True)
    """
    return data_class in READS[audience]


def audience_for_role(role: Role | str | None) -> Audience:
    """The audience of a signed-in role on screen; nobody signed in is the public."""
    if role is None:
        return Audience.PUBLIC
    return ROLE_AUDIENCE[Role(role)]


def export_audience(role: Role | str, *, personal: bool) -> Audience:
    """Who an export is read as: the office only with the box ticked by a role allowed to."""
    return Audience.OFFICE if personal and Role(role) in PERSONAL_EXPORT_ROLES else Audience.STAFF
