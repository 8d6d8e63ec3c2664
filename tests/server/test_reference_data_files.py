"""The reference data files (intake catalogue, care tags) are well-formed, read with tomllib."""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).parents[2]
CATALOGUE_PATH = ROOT / "server/catalogue/data/catalogue.toml"
CARE_TAGS_PATH = ROOT / "server/population/data/care_tags.toml"

UNIT_KINDS = {
    "department",
    "stationed_unit",
    "property_company",
    "repair_team",
    "social_org",
    "volunteer_team",
    "service_provider",
}
DATATYPES = {"string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"}
VALUELISTS = {"singlevaluelist", "multivaluelist"}
PRIORITIES = ("urgent", "high", "normal")

UNIT_CODE = re.compile(r"^U-[A-Z]{2,8}$")
CATEGORY_CODE = {"affair": re.compile(r"^A0[1-9]$"), "service": re.compile(r"^S0[1-9]$")}
ITEM_CODE = re.compile(r"^(?P<category>[AS]0[1-9])-(?P<number>\d{2})$")
ASCII_KEY = re.compile(r"^[a-z][a-z0-9_]*$")
PHONE = re.compile(r"^0\d{2,3}-\d{4}-\d{4}$")
HAN = re.compile(r"[\u4e00-\u9fff]")

# Column widths in server/catalogue/models.py, server/units/models.py, server/population/models.py.
NAME_ZH_MAX, NAME_EN_MAX = 100, 150
TAG_CODE_MAX, TAG_NAME_ZH_MAX, TAG_NAME_EN_MAX = 40, 60, 100


def _load(path: Path) -> dict[str, Any]:
    with path.open("rb") as f:
        return tomllib.load(f)


CATALOGUE = _load(CATALOGUE_PATH)
CARE_TAGS = _load(CARE_TAGS_PATH)
UNITS: list[dict[str, Any]] = CATALOGUE["units"]
CATEGORIES: list[dict[str, Any]] = CATALOGUE["categories"]
ITEMS: list[dict[str, Any]] = CATALOGUE["items"]
TAGS: list[dict[str, Any]] = CARE_TAGS["tags"]
CATEGORY_BY_CODE = {c["code"]: c for c in CATEGORIES}


def _questions() -> list[tuple[str, dict[str, Any]]]:
    return [(item["code"], q) for item in ITEMS for q in item.get("questions", [])]


QUESTION_PARAMS = [pytest.param(code, q, id=f"{code}.{q['code']}") for code, q in _questions()]


def _duplicates(values: list[Any]) -> list[Any]:
    return [v for v, n in Counter(values).items() if n > 1]


# --- files and schema -----------------------------------------------------------------------


def test_both_files_declare_schema_version_1() -> None:
    assert CATALOGUE["schema"] == 1
    assert CARE_TAGS["schema"] == 1


def test_catalogue_has_only_the_known_top_level_tables() -> None:
    assert set(CATALOGUE) == {"schema", "units", "categories", "items"}


# --- the seed's counts ----------------------------------------------------------------------


def test_there_are_exactly_7_affair_categories_and_8_service_categories() -> None:
    kinds = Counter(c["kind"] for c in CATEGORIES)
    assert kinds == {"affair": 7, "service": 8}


def test_there_are_exactly_36_affair_items_and_112_service_items() -> None:
    kinds = Counter(CATEGORY_BY_CODE[item["category"]]["kind"] for item in ITEMS)
    assert kinds == {"affair": 36, "service": 112}


def test_every_category_has_at_least_one_item() -> None:
    used = {item["category"] for item in ITEMS}
    assert used == set(CATEGORY_BY_CODE)


# --- codes ----------------------------------------------------------------------------------


def test_unit_category_and_item_codes_are_unique() -> None:
    assert _duplicates([u["code"] for u in UNITS]) == []
    assert _duplicates([c["code"] for c in CATEGORIES]) == []
    assert _duplicates([i["code"] for i in ITEMS]) == []


@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u["code"])
def test_unit_code_is_u_dash_and_capital_letters(unit: dict[str, Any]) -> None:
    assert UNIT_CODE.match(unit["code"])


@pytest.mark.parametrize("category", CATEGORIES, ids=lambda c: c["code"])
def test_category_code_starts_with_a_for_affairs_and_s_for_services(
    category: dict[str, Any],
) -> None:
    assert category["kind"] in CATEGORY_CODE
    assert CATEGORY_CODE[category["kind"]].match(category["code"])


def test_category_codes_are_numbered_from_01_without_gaps() -> None:
    for prefix, count in (("A", 7), ("S", 8)):
        codes = sorted(c["code"] for c in CATEGORIES if c["code"].startswith(prefix))
        assert codes == [f"{prefix}{n:02d}" for n in range(1, count + 1)]


@pytest.mark.parametrize("item", ITEMS, ids=lambda i: i["code"])
def test_item_code_is_its_category_code_and_a_two_digit_number(item: dict[str, Any]) -> None:
    match = ITEM_CODE.match(item["code"])
    assert match, item["code"]
    assert match["category"] == item["category"]
    assert int(match["number"]) >= 1


# --- references -----------------------------------------------------------------------------


@pytest.mark.parametrize("item", ITEMS, ids=lambda i: i["code"])
def test_item_category_exists_and_its_kind_matches_the_code_prefix(item: dict[str, Any]) -> None:
    category = CATEGORY_BY_CODE.get(item["category"])
    assert category is not None
    expected_kind = "affair" if item["code"].startswith("A") else "service"
    assert category["kind"] == expected_kind


def test_every_default_unit_is_a_defined_unit() -> None:
    unit_codes = {u["code"] for u in UNITS}
    unknown = sorted({i["default_unit"] for i in ITEMS} - unit_codes)
    assert unknown == []


def test_item_codes_mentioned_in_comments_exist() -> None:
    text = CATALOGUE_PATH.read_text(encoding="utf-8")
    comments = "\n".join(line for line in text.splitlines() if line.lstrip().startswith("#"))
    mentioned = set(re.findall(r"\b[AS]0\d-\d{2}\b", comments))
    assert mentioned - {i["code"] for i in ITEMS} == set()


# --- units ----------------------------------------------------------------------------------


@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u["code"])
def test_unit_has_a_known_kind_names_in_both_languages_and_a_phone(unit: dict[str, Any]) -> None:
    assert unit["kind"] in UNIT_KINDS
    assert HAN.search(unit["name_zh"])
    assert unit["name_en"].strip()
    assert PHONE.match(unit["phone"])


def test_unit_names_are_unique_in_both_languages() -> None:
    assert _duplicates([u["name_zh"] for u in UNITS]) == []
    assert _duplicates([u["name_en"] for u in UNITS]) == []


# --- names ----------------------------------------------------------------------------------


@pytest.mark.parametrize("entry", CATEGORIES + ITEMS, ids=lambda e: e["code"])
def test_names_are_non_empty_in_both_languages_and_fit_the_columns(entry: dict[str, Any]) -> None:
    assert HAN.search(entry["name_zh"])
    assert entry["name_en"].strip() == entry["name_en"]
    assert entry["name_en"]
    assert not HAN.search(entry["name_en"])
    assert len(entry["name_zh"]) <= NAME_ZH_MAX
    assert len(entry["name_en"]) <= NAME_EN_MAX


def test_item_and_category_names_are_unique_in_both_languages() -> None:
    for entries in (CATEGORIES, ITEMS):
        assert _duplicates([e["name_zh"] for e in entries]) == []
        assert _duplicates([e["name_en"] for e in entries]) == []


# --- limits and keywords --------------------------------------------------------------------


@pytest.mark.parametrize("item", ITEMS, ids=lambda i: i["code"])
def test_time_limits_are_positive_and_urgent_is_no_longer_than_high_or_normal(
    item: dict[str, Any],
) -> None:
    limits = item["limits_hours"]
    assert set(limits) == set(PRIORITIES)
    urgent, high, normal = (limits[p] for p in PRIORITIES)
    assert all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in (urgent, high, normal)
    )
    assert 0 < urgent <= high <= normal


def test_the_seeds_exposed_cable_example_is_urgent_within_2_hours_to_a_repair_team() -> None:
    cable = next(i for i in ITEMS if "电线" in i["name_zh"] and "裸露" in i["name_zh"])
    assert CATEGORY_BY_CODE[cable["category"]]["kind"] == "affair"
    assert cable["limits_hours"]["urgent"] == 2
    unit = next(u for u in UNITS if u["code"] == cable["default_unit"])
    assert unit["kind"] == "repair_team"


@pytest.mark.parametrize("item", ITEMS, ids=lambda i: i["code"])
def test_item_has_non_empty_unique_chinese_keywords(item: dict[str, Any]) -> None:
    keywords = item["keywords"]
    assert keywords
    assert all(isinstance(k, str) and k.strip() == k and HAN.search(k) for k in keywords)
    assert _duplicates(keywords) == []


def test_no_keyword_points_to_two_items() -> None:
    assert _duplicates([k for i in ITEMS for k in i["keywords"]]) == []


# --- questions ------------------------------------------------------------------------------


@pytest.mark.parametrize(("item_code", "question"), QUESTION_PARAMS)
def test_question_is_well_formed_and_only_valuelists_have_values(
    item_code: str, question: dict[str, Any]
) -> None:
    assert ASCII_KEY.match(question["code"])
    assert question["datatype"] in DATATYPES
    assert isinstance(question["required"], bool)
    assert HAN.search(question["description_zh"])
    assert question["description_en"].strip()
    if question["datatype"] in VALUELISTS:
        values = question.get("values", [])
        assert len(values) >= 2, item_code
        for value in values:
            assert ASCII_KEY.match(value["key"])
            assert HAN.search(value["name_zh"])
            assert value["name_en"].strip()
        assert _duplicates([v["key"] for v in values]) == []
    else:
        assert "values" not in question, item_code


def test_question_codes_are_unique_within_each_item() -> None:
    for item in ITEMS:
        assert _duplicates([q["code"] for q in item.get("questions", [])]) == [], item["code"]


def test_some_items_have_extra_questions() -> None:
    assert len({code for code, _ in _questions()}) >= 10


# --- care tags ------------------------------------------------------------------------------


def test_care_tag_codes_and_names_are_unique() -> None:
    assert _duplicates([t["code"] for t in TAGS]) == []
    assert _duplicates([t["name_zh"] for t in TAGS]) == []
    assert _duplicates([t["name_en"] for t in TAGS]) == []


def test_there_are_between_10_and_14_care_tags_including_living_alone() -> None:
    assert 10 <= len(TAGS) <= 14
    assert "living_alone" in {t["code"] for t in TAGS}


@pytest.mark.parametrize("tag", TAGS, ids=lambda t: t["code"])
def test_care_tag_is_snake_case_named_in_both_languages_and_fits_the_columns(
    tag: dict[str, Any],
) -> None:
    assert ASCII_KEY.match(tag["code"])
    assert len(tag["code"]) <= TAG_CODE_MAX
    assert HAN.search(tag["name_zh"])
    assert len(tag["name_zh"]) <= TAG_NAME_ZH_MAX
    assert tag["name_en"].strip()
    assert len(tag["name_en"]) <= TAG_NAME_EN_MAX
    assert HAN.search(tag["description_zh"])


@pytest.mark.parametrize("tag", TAGS, ids=lambda t: t["code"])
def test_care_tag_visit_interval_and_priority_are_positive_integers(tag: dict[str, Any]) -> None:
    for key in ("visit_every_days", "priority"):
        value = tag[key]
        assert isinstance(value, int) and not isinstance(value, bool)
        assert value > 0
    assert tag["visit_every_days"] <= 366


def test_older_people_living_alone_are_visited_weekly_and_come_first() -> None:
    living_alone = next(t for t in TAGS if t["code"] == "living_alone")
    assert living_alone["visit_every_days"] == 7
    assert living_alone["priority"] == min(t["priority"] for t in TAGS)
