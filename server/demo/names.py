"""Name lists for the demo district: illustrative area names and common Chinese personal names."""

from __future__ import annotations

import random

# (name, name_en, road whose middle it should lie near, or None). Illustrative, not official:
# 梅安 (梅安老式公房) and 俞静 (俞静居民区社群工作室) appear in the seed text; the others are named
# after the real roads of the subdistrict.
RESIDENTIAL_AREA_NAMES: tuple[tuple[str, str, str | None], ...] = (
    ("新华一村居民区", "Xinhua No. 1 Village Residential Area", "新华路"),
    ("梅安居民区", "Mei'an Residential Area", None),
    ("法华居民区", "Fahua Residential Area", "法华镇路"),
    ("俞静居民区", "Yujing Residential Area", None),
    ("番禺居民区", "Panyu Residential Area", "番禺路"),
    ("定西居民区", "Dingxi Residential Area", "定西路"),
    ("幸福居民区", "Xingfu Residential Area", "幸福路"),
    ("安顺居民区", "Anshun Residential Area", "安顺路"),
)

CHINESE_ORDINALS = ("一", "二", "三", "四", "五", "六", "七", "八", "九", "十")

# Common surnames, weighted towards those frequent in Shanghai.
SURNAMES: tuple[str, ...] = (
    *("王", "张", "陈", "李", "徐", "朱", "周", "沈", "陆", "顾"),
    *("王", "张", "陈", "李", "徐", "朱", "周", "沈", "陆", "顾"),
    *("吴", "杨", "黄", "金", "钱", "蒋", "姚", "施", "俞", "倪"),
    *("刘", "赵", "孙", "胡", "郭", "马", "高", "林", "何", "郑"),
    *("宋", "唐", "曹", "许", "邓", "冯", "曾", "彭", "吕", "蔡"),
    *("丁", "叶", "潘", "杜", "戴", "夏", "钟", "汪", "范", "方"),
    *("石", "谭", "邹", "秦", "严", "袁", "孔", "毛", "汤", "龚"),
)

# Given names by generation (birth year up to the key) and gender, as common in each era.
GIVEN_NAMES: tuple[tuple[int, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        1955,
        ("根宝", "建国", "国庆", "福林", "永康", "志明", "德兴", "金林", "阿毛", "荣发", "关根"),
        ("秀英", "桂英", "凤英", "美珍", "阿娣", "素珍", "月娥", "杏娣", "彩凤", "金妹", "佩芳"),
    ),
    (
        1975,
        ("伟民", "国强", "建华", "卫东", "志刚", "海平", "建平", "勇", "军", "伟", "明华"),
        ("丽华", "红梅", "美玲", "秀兰", "雅琴", "丽萍", "敏", "静", "燕", "琳", "慧娟"),
    ),
    (
        1995,
        ("磊", "涛", "杰", "斌", "超", "俊", "晨", "骏", "浩", "佳辉", "天翔"),
        ("婷", "佳怡", "晓雯", "颖", "倩", "雯", "洁", "蕾", "怡雯", "诗韵", "佳琪"),
    ),
    (
        9999,
        ("子涵", "浩然", "宇轩", "梓豪", "俊杰", "一鸣", "睿", "奕辰", "宸", "沐阳", "嘉懿"),
        ("欣怡", "子萱", "梓涵", "诗涵", "语桐", "可馨", "一诺", "雨彤", "思琪", "安琪", "若汐"),
    ),
)


def given_name(rng: random.Random, birth_year: int, gender: str) -> str:
    """A given name typical of `birth_year` for gender "M" or "F"."""
    for until, male, female in GIVEN_NAMES:
        if birth_year <= until:
            return rng.choice(male if gender == "M" else female)
    raise AssertionError("unreachable: last generation has no upper bound")


def surname(rng: random.Random) -> str:
    """A common surname."""
    return rng.choice(SURNAMES)
