"""Address text: the spellings real register files use give one key; properties by hypothesis."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from geo.address_text import AddressKey, building_key, normalise, parse

roads = st.sampled_from(["新华路", "法华镇路", "番禺路", "定西路", "淮海西路", "延安西路"])
numbers = st.integers(min_value=1, max_value=999).map(str)
maybe = st.one_of(st.just(""), numbers)


@st.composite
def addresses(draw: st.DrawFn) -> AddressKey:
    lane = draw(maybe)
    return AddressKey(
        road=draw(roads),
        lane=lane,
        sublane=draw(maybe) if lane else "",
        number=draw(numbers),
        room=draw(maybe),
    )


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "0" <= c <= "9" else c for c in text)


@pytest.mark.parametrize(
    "spelling",
    [
        "新华路329弄12号302室",
        "新华路３２９弄１２号３０２室",
        "上海市长宁区新华路街道新华路329弄12号楼302",
        "新华路329弄12栋302室",
        "新华路329弄12幢 302",
        "新华路329弄12-302",
        "新华路329弄12号-302室",
        "新华路三二九弄十二号三〇二室",
        "新华路329弄12号3楼302室",
        "长宁区 新华路 329 弄 12 号 302 室",
    ],
)
def test_every_spelling_of_one_flat_gives_the_same_key(spelling: str) -> None:
    assert parse(spelling) == AddressKey("新华路", "329", "", "12", "302")


def test_a_road_named_after_a_town_keeps_its_name() -> None:
    key = parse("长宁区法华镇路535弄1号101室")
    assert key is not None and key.road == "法华镇路"


def test_a_sub_lane_is_part_of_the_building_key() -> None:
    assert building_key("新华路329弄5支弄3号") != building_key("新华路329弄3号")


def test_text_without_a_road_and_a_number_is_not_an_address() -> None:
    assert parse("不详") is None
    assert parse("新华路") is None


@given(addresses())
def test_the_standard_text_of_a_key_parses_back_to_the_key(key: AddressKey) -> None:
    assert parse(key.text()) == key


@given(addresses())
def test_full_width_digits_and_spaces_change_nothing(key: AddressKey) -> None:
    spaced = " ".join(full_width(key.text()))
    assert parse(spaced) == key


@given(st.text(max_size=40))
def test_normalising_twice_is_normalising_once(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once


@given(addresses())
def test_a_city_and_district_in_front_change_nothing(key: AddressKey) -> None:
    assert parse(f"上海市长宁区{key.text()}") == key
