"""Fictional households and residents, with care tags consistent with age and household."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass

from server.demo.models import CARE_TAGS, REFERENCE_YEAR, DemoResident
from server.demo.names import given_name, surname

DEMO_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:wangge:demo-district")
PHONE_PREFIX = "1380000"  # + 4 digits: a block reserved for the demo, clearly fictional
MIN_PHONE_AGE = 14
ELDERLY_AGE = 60

# Household kinds and weights (Xinhua is an old inner-city area with many elderly residents).
HOUSEHOLD_KINDS: tuple[tuple[str, float], ...] = (
    ("single_elderly", 0.10),
    ("single_adult", 0.10),
    ("elderly_couple", 0.10),
    ("couple", 0.14),
    ("couple_child", 0.28),
    ("three_generations", 0.12),
    ("elderly_with_child", 0.10),
    ("with_grandchild", 0.06),
)


@dataclass(frozen=True)
class Person:
    """A resident before ids and tags: relation, gender, birth year."""

    relation: str
    gender: str
    birth_year: int


def _other(gender: str) -> str:
    return "F" if gender == "M" else "M"


def _born(rng: random.Random, age_min: int, age_max: int) -> int:
    return REFERENCE_YEAR - rng.randint(age_min, age_max)


def _couple(rng: random.Random, age_min: int, age_max: int) -> list[Person]:
    head_gender = rng.choice("MF")
    head_year = _born(rng, age_min, age_max)
    spouse_year = head_year + rng.randint(-4, 4)
    return [
        Person("户主", head_gender, head_year),
        Person("配偶", _other(head_gender), spouse_year),
    ]


def _child_of(rng: random.Random, parent_year: int, relation: str) -> Person:
    """A child of someone born in `parent_year`, born no later than REFERENCE_YEAR."""
    year = min(parent_year + rng.randint(23, 36), REFERENCE_YEAR - rng.randint(0, 3))
    return Person(relation, rng.choice("MF"), year)


FAMILY_HEAD_AGES = {
    "couple_child": (30, 55),
    "three_generations": (35, 58),
    "elderly_with_child": (60, 88),
    "with_grandchild": (56, 78),
}


def compose_household(rng: random.Random) -> list[Person]:
    """Members of one household, the head (户主) first."""
    kind = rng.choices([k for k, _ in HOUSEHOLD_KINDS], [w for _, w in HOUSEHOLD_KINDS])[0]
    if kind == "single_elderly":
        return [Person("户主", rng.choice("MFF"), _born(rng, 65, 96))]
    if kind == "single_adult":
        return [Person("户主", rng.choice("MF"), _born(rng, 22, 59))]
    if kind == "elderly_couple":
        return _couple(rng, 64, 90)
    if kind == "couple":
        return _couple(rng, 24, 58)
    members = _couple(rng, *FAMILY_HEAD_AGES[kind])
    if kind == "elderly_with_child" and rng.random() < 0.4:
        members = members[:1]  # widowed parent living with an adult child
    members.append(_child_of(rng, members[0].birth_year, "子女"))
    if kind == "three_generations":
        members.append(
            Person("父母", rng.choice("MF"), members[0].birth_year - rng.randint(24, 34))
        )
    if kind == "with_grandchild":
        members.append(_child_of(rng, members[-1].birth_year, "其他"))
    return members


def age(birth_year: int) -> int:
    """Age in REFERENCE_YEAR (the demo never reads the clock)."""
    return REFERENCE_YEAR - birth_year


def _household_tags(members: list[Person], rng: random.Random) -> set[str]:
    """Tags that hold for every member of the household."""
    ages = [age(m.birth_year) for m in members]
    tags: set[str] = set()
    all_elderly = min(ages) >= ELDERLY_AGE
    if len(members) >= 2 and all_elderly:
        tags.add("elderly_only_household")
    if rng.random() < 0.03:
        tags.add("low_income")
    has_child = any(m.relation == "子女" for m in members)
    if min(ages) >= 50 and not has_child and rng.random() < 0.04:
        tags.add("family_planning_special")
    elif all_elderly and len(members) <= 2 and rng.random() < 0.5:
        tags.add("empty_nest")
    return tags


def _person_tags(
    person: Person, size: int, shared: set[str], rng: random.Random
) -> tuple[str, ...]:
    """Care tags of one member, in CARE_TAGS order."""
    years = age(person.birth_year)
    tags = set(shared)
    if size == 1 and years >= ELDERLY_AGE:
        tags.add("living_alone")
    if years >= 80:
        tags.add("aged_80_plus")
    if rng.random() < 0.025:
        tags.add("disability")
    if years >= 40 and rng.random() < 0.03:
        tags.add("serious_illness")
    if years < 18 and ("low_income" in shared or rng.random() < 0.02):
        tags.add("child_in_difficulty")
    if years >= ELDERLY_AGE and rng.random() < 0.02:
        tags.add("entitled_groups")
    if "family_planning_special" in tags and person.relation not in ("户主", "配偶"):
        tags.discard("family_planning_special")
    return tuple(t for t in CARE_TAGS if t in tags)


def _surnames(members: list[Person], rng: random.Random) -> list[str]:
    """Children (and the head's father) share the father's surname; others draw their own."""
    names = [surname(rng) for _ in members]
    head, rest = members[0], members[1:]
    has_spouse = len(members) > 1 and members[1].relation == "配偶"
    father = names[1] if head.gender == "F" and has_spouse else names[0]
    for i, m in enumerate(rest, start=1):
        if m.relation == "子女" or (m.relation == "父母" and m.gender == "M"):
            names[i] = father if m.relation == "子女" else names[0]
    return names


def make_residents(
    household_id: str, members: list[Person], rng: random.Random, phones: list[int]
) -> list[DemoResident]:
    """Residents of one household, with ids, names, phones and care tags."""
    shared = _household_tags(members, rng)
    residents = []
    for i, (m, family) in enumerate(zip(members, _surnames(members, rng), strict=True)):
        phone = f"{PHONE_PREFIX}{phones.pop():04d}" if age(m.birth_year) >= MIN_PHONE_AGE else None
        residents.append(
            DemoResident(
                id=str(uuid.uuid5(DEMO_NAMESPACE, f"resident/{household_id}/{i}")),
                household_id=household_id,
                name=family + given_name(rng, m.birth_year, m.gender),
                gender=m.gender,
                birth_year=m.birth_year,
                phone=phone,
                relation=m.relation,
                care_tags=_person_tags(m, len(members), shared, rng),
            )
        )
    return residents
