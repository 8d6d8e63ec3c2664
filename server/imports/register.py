"""The population register import: columns, row checks, households, and the plan to apply.

A row is one person. People are grouped into households by 户号 when the file has one,
else by their normalised address (room included). A person's stable key is the keyed hash
of their identity number, else household + name + birth year; a household's is its 户号
or its address. Applying is in ``register_apply``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from geo.address_text import AddressKey, normalise, parse
from server.addresses.matching import AddressIndex
from server.imports import categories, register_state
from server.imports.columns import FieldSpec, Mapping
from server.imports.kinds import Checked, Context
from server.imports.report import ImportReport, problem
from server.imports.tabular import Row
from server.imports.values import PartialDate, RowReader
from server.population.idnumbers import IdNumber, IdNumberError, parse_id_number
from server.population.phones import PhoneError, normalise_phone, split_phones

MAX_AGE, UNUSUAL_AGE = 120, 105
HEADS = {"户主", "本人", "户主本人", "本人户主"}
RELATIONS = {
    "配偶": ("配偶", "妻", "夫", "妻子", "丈夫", "爱人", "老伴"),
    "子女": (
        "子女",
        "子",
        "女",
        "儿子",
        "女儿",
        "长子",
        "次子",
        "长女",
        "次女",
        "独生子",
        "独生女",
    ),
    "父母": ("父母", "父", "母", "父亲", "母亲", "公公", "婆婆", "岳父", "岳母"),
    "其他": (
        "其他",
        "孙子",
        "孙女",
        "外孙",
        "外孙女",
        "兄弟",
        "姐妹",
        "兄",
        "弟",
        "姐",
        "妹",
        "儿媳",
        "女婿",
        "保姆",
        "租客",
        "亲属",
        "非亲属",
    ),
}
RELATION_OF = {text: value for value, texts in RELATIONS.items() for text in texts}
RELATION_OF.update({text: "户主" for text in HEADS})
NO_TAGS: frozenset[str] = frozenset()
OTHER_PHONES = "其他电话："  # in a resident's notes: the numbers after the first
SEX = {"男": "M", "m": "M", "male": "M", "1": "M", "女": "F", "f": "F", "female": "F", "2": "F"}

SPECS: tuple[FieldSpec, ...] = (
    FieldSpec(
        "household_no",
        "户号",
        "Household no.",
        ("户号", "户编号", "户籍号", "家庭编号"),
        max_length=60,
    ),
    FieldSpec(
        "name",
        "姓名",
        "Name",
        ("姓名", "名字", "居民姓名", "人员姓名"),
        required=True,
        max_length=60,
    ),
    FieldSpec("gender", "性别", "Sex", ("性别",), max_length=8),
    FieldSpec(
        "birth",
        "出生日期",
        "Date of birth",
        ("出生日期", "出生年月", "出生年月日", "生日", "出生年份"),
    ),
    FieldSpec(
        "id_number",
        "公民身份号码",
        "Identity number",
        ("公民身份号码", "身份证号", "身份证号码", "身份证", "证件号码"),
        max_length=30,
    ),
    FieldSpec(
        "phone",
        "联系电话",
        "Phone",
        ("联系电话", "手机", "手机号", "手机号码", "电话", "联系方式"),
        max_length=80,
    ),
    FieldSpec(
        "relation",
        "与户主关系",
        "Relation to head",
        ("与户主关系", "关系", "家庭关系", "与户主的关系"),
        max_length=20,
    ),
    FieldSpec(
        "address",
        "地址",
        "Address",
        ("地址", "住址", "门牌", "门牌地址", "居住地址", "现住址", "家庭住址", "现居住地址"),
        max_length=200,
    ),
    FieldSpec("road", "路名", "Road", ("路名", "街路巷", "道路"), max_length=60),
    FieldSpec("lane", "弄号", "Lane", ("弄号", "弄"), max_length=20),
    FieldSpec("building", "楼号", "Building", ("楼号", "号", "门牌号", "幢号"), max_length=20),
    FieldSpec("room", "室号", "Room", ("室号", "室", "房号", "房间号"), max_length=20),
    FieldSpec(
        "cell_code",
        "楼组编码",
        "Building group code",
        ("楼组编码", "网格编码", "所属楼组"),
        max_length=64,
    ),
    FieldSpec(
        "category",
        "人员类别",
        "Category",
        ("人员类别", "类别", "人员类型", "重点人群", "特殊人群", "关爱标签"),
        max_length=200,
    ),
    FieldSpec("notes", "备注", "Notes", ("备注", "说明"), max_length=500),
)


@dataclass(slots=True)
class PersonRow:
    """One person as the file says, checked."""

    row: int
    key: str
    name: str
    gender: str
    birth_year: int | None
    phone: str | None
    relation: str
    id_number: str | None  # the checked 18-character number (sealed only when applied)
    tags: frozenset[str]
    notes: str

    def values(self) -> dict[str, Any]:
        """The resident's columns this row sets (the register's editing verbs take these)."""
        return {
            "name": self.name,
            "gender": self.gender,
            "birth_year": self.birth_year,
            "phone": self.phone,
            "relation": self.relation,
            "notes": self.notes,
        }

    @property
    def digest(self) -> str | None:
        """The keyed hash of the identity number: a person's key is built on it."""
        return self.key[3:] if self.key.startswith("id:") else None


@dataclass(slots=True)
class HouseholdRow:
    """One household of the file, its address matched to a door, its people."""

    key: str
    first_row: int
    address: str
    parts: AddressKey | None
    cell_code: str = ""
    lon: float | None = None
    lat: float | None = None
    address_id: int | None = None
    address_match: str = "unmatched"
    people: list[PersonRow] = field(default_factory=list)

    def values(self) -> dict[str, Any]:
        parts = self.parts
        return {
            "address": self.address[:200],
            "road": parts.road[:60] if parts else "",
            "lane": _lane(parts)[:20] if parts else "",
            "building": parts.number[:20] if parts else "",
            "room": parts.room[:20] if parts else "",
            "lon": self.lon,
            "lat": self.lat,
            "address_id": self.address_id,
            "address_match": self.address_match,
        }  # no "notes": a household's notes are the office's own, never from a file


def _lane(parts: AddressKey) -> str:
    return f"{parts.lane}弄{parts.sublane}支弄" if parts.sublane else parts.lane


class RegisterImport:
    """The population register (户籍/实有人口登记表)."""

    name = "register"
    specs = SPECS

    def check(
        self, ctx: Context, rows: Iterator[Row], mapping: Mapping, report: ImportReport
    ) -> Checked:
        if not (mapping.columns.keys() & {"address", "road", "household_no"}):
            report.add(
                problem(
                    "missing_column",
                    field="address",
                    field_zh="地址",
                    field_en="Address",
                    variants="地址、住址、门牌、户号",
                )
            )
            return Checked(None, {})
        reader = _Reader(ctx, mapping)
        for number, values in rows:
            reader.read(number, values, report)
        state = register_state.load(ctx.session)
        diff = register_state.compare(state, reader.households, ctx, report, set(mapping.columns))
        return Checked(diff, diff.counts(len(reader.households), reader.people))

    def apply(self, ctx: Context, checked: Checked, run_id: Any) -> dict[str, int]:
        from server.imports.register_apply import apply_register

        return apply_register(ctx, checked.plan, run_id)


class _Reader:
    """Reads rows one by one into households; remembers what it needs for file-wide checks."""

    def __init__(self, ctx: Context, mapping: Mapping) -> None:
        self.ctx = ctx
        self.mapping = mapping
        self.tags = categories.lookup_table(ctx.session)
        self.doors = AddressIndex.load(ctx.session)
        self.households: dict[str, HouseholdRow] = {}
        self.seen_keys: dict[str, int] = {}
        #: One frozenset per combination of tags: 100,000 people share a few dozen.
        self.tag_sets: dict[frozenset[str], frozenset[str]] = {NO_TAGS: NO_TAGS}
        self.people = 0
        from server.imports.grid_cells import published_codes

        self.cells = published_codes(ctx.session)

    def read(self, number: int, values: list[Any], report: ImportReport) -> None:
        cells = RowReader(number, values, self.mapping, SPECS)
        name = cells.text("name")
        id_number = self._id_number(cells)
        gender = self._gender(cells, id_number)
        birth_year = self._birth(cells, id_number)
        phone, other_phones = self._phones(cells)
        relation = self._relation(cells)
        tags = self._tags(cells)
        notes = cells.text("notes")
        if other_phones:  # one phone column in the register: the rest are kept in the notes
            notes = "；".join(filter(None, [notes, OTHER_PHONES + "、".join(other_phones)]))
        household = self._household(cells)
        report.extend(cells.problems)
        if household is None or not name:
            return
        digest = self.ctx.vault.digest(id_number.number) if id_number else None
        key = f"id:{digest}" if digest else f"hh:{household.key}/{name}/{birth_year or ''}"
        first = self.seen_keys.setdefault(key, number)
        if first != number:
            rule = "duplicate_person" if digest else "duplicate_key"
            field_name = "id_number" if digest else "name"
            cells.problems.clear()
            cells.flag(rule, field_name, id_number.number if id_number else name, first_row=first)
            report.extend(cells.problems)
            return
        self.people += 1
        household.people.append(
            PersonRow(
                number,
                key[:200],
                name,
                gender,
                birth_year,
                phone,
                relation,
                id_number.number if id_number else None,
                self.tag_sets.setdefault(frozenset(tags), frozenset(tags)) if tags else NO_TAGS,
                notes,
            )
        )

    def _id_number(self, cells: RowReader) -> IdNumber | None:
        text = cells.text("id_number")
        if not text:
            return None
        try:
            found = parse_id_number(text, today=self.ctx.today)
        except IdNumberError as error:
            cells.flag(error.rule, "id_number", text)
            return None
        if found.upgraded_from_15:
            cells.flag("id_upgraded", "id_number", text)
        return found

    def _gender(self, cells: RowReader, id_number: IdNumber | None) -> str:
        text = cells.text("gender")
        gender = SEX.get(text.lower()) if text else None
        if text and gender is None:
            cells.flag("sex_unknown", "gender", text)
        if id_number is not None and gender is not None and gender != id_number.sex:
            zh, en = ("男", "male") if id_number.sex == "M" else ("女", "female")
            cells.flag("id_sex_mismatch", "gender", text, from_id_zh=zh, from_id_en=en)
        if gender is None and id_number is None and not text:
            cells.flag("required_missing", "gender")
        return gender or (id_number.sex if id_number else "")

    def _birth(self, cells: RowReader, id_number: IdNumber | None) -> int | None:
        born: PartialDate | None = cells.date("birth") if cells.has("birth") else None
        if born is not None and id_number is not None:
            from_id = id_number.birth_date
            same = born.year == from_id.year and born.month in (None, from_id.month)
            same = same and born.day in (None, from_id.day)
            if not same:
                cells.flag("id_birth_mismatch", "birth", str(born), from_id=from_id.isoformat())
        year = born.year if born else (id_number.birth_date.year if id_number else None)
        if year is not None:
            age = self.ctx.today.year - year
            field_name = "birth" if born else "id_number"
            shown = str(born) if born else (id_number.number if id_number else "")
            if age < 0 or age > MAX_AGE:
                cells.flag("age_impossible", field_name, shown, age=age)
            elif age > UNUSUAL_AGE:
                cells.flag("age_unusual", field_name, shown, age=age)
        return year

    def _phones(self, cells: RowReader) -> tuple[str | None, list[str]]:
        """The first readable number (the resident's phone) and the others, normalised, in
        the cell's order; each unreadable one is a warning naming it."""
        text = cells.text("phone")
        found: list[str] = []
        for part in split_phones(text):
            try:
                number = normalise_phone(part)
            except PhoneError:
                cells.flag("phone_invalid", "phone", part)
                continue
            if number not in found:
                found.append(number)
        if len(found) > 1:
            cells.flag("phone_several", "phone", text, first=found[0])
        return (found[0] if found else None), found[1:]

    def _relation(self, cells: RowReader) -> str:
        text = cells.text("relation")
        if not text:
            return ""
        found = RELATION_OF.get(categories.normalise(text))
        if found is None:
            cells.flag("relation_unknown", "relation", text)
            return "其他"
        return found

    def _tags(self, cells: RowReader) -> set[str]:
        tags: set[str] = set()
        for text in categories.split(cells.text("category")):
            if text.lower() not in self.tags:
                cells.flag("category_unknown", "category", text)
            elif self.tags[text.lower()]:
                tags.add(self.tags[text.lower()] or "")
        return tags

    def _address_text(self, cells: RowReader) -> str:
        text = cells.text("address")
        if text:
            return text
        road, lane, building, room = (cells.text(f) for f in ("road", "lane", "building", "room"))
        if not road:
            return ""
        lane = f"{lane}弄" if lane and not lane.endswith("弄") else lane
        building = f"{building}号" if building and building[-1].isdigit() else building
        room = f"{room}室" if room and room[-1].isdigit() else room
        return f"{road}{lane}{building}{room}"

    def _household(self, cells: RowReader) -> HouseholdRow | None:
        address = self._address_text(cells)
        if address and cells.has("room") and cells.has("address"):
            room = cells.text("room")
            if room and room not in address:
                address = f"{address}{room}{'室' if room[-1].isdigit() else ''}"
        number = cells.text("household_no")
        if not address and not number:
            cells.flag("required_missing", "address")
            return None
        key = f"no:{number}" if number else f"addr:{normalise(address)}"
        household = self.households.get(key)
        if household is not None:
            if number and address and normalise(address) != normalise(household.address):
                cells.flag(
                    "household_split_address",
                    "address",
                    number,
                    first_row=household.first_row,
                    other=household.address,
                )
            return household
        household = HouseholdRow(
            key[:160], cells.number, address, parse(address) if address else None
        )
        self._place(cells, household)
        self.households[key] = household
        return household

    def _place(self, cells: RowReader, household: HouseholdRow) -> None:
        """Match the household's address to a door; a given building-group code wins."""
        code = cells.text("cell_code")
        field_name = "address" if cells.has("address") else "road"
        if code and code not in self.cells:
            cells.flag("cell_unknown", "cell_code", code)
            code = ""
        if household.parts is None:
            if household.address:
                cells.flag("address_unparsed", field_name, household.address)
            household.cell_code = code
            return
        found = self.doors.match(household.parts)
        household.address_match = found.status
        if found.door is not None:
            door = found.door
            household.address_id, household.lon, household.lat = door.id, door.lon, door.lat
            household.cell_code = door.cell_code or code
        elif len(self.doors):
            household.cell_code = code
            if found.status == "ambiguous":
                shown = "、".join(d.text for d in found.doors)
                cells.flag(
                    "address_ambiguous",
                    field_name,
                    household.address,
                    count=len(found.doors),
                    candidates=shown,
                )
            elif not code:
                cells.flag("address_unmatched", field_name, household.address)
        else:
            household.cell_code = code  # no address layer yet: the code, or unplaced
        if code and household.cell_code != code:
            household.cell_code = code  # the register's own building group is the office's word
