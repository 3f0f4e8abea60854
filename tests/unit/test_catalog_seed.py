"""Catalog seed (6.1–6.10): every item and lettered sub-item of clause 6 is seeded."""

import dataclasses
import json
import re
from pathlib import Path

import pytest

from services.catalog.seed_items import (
    ITEM_CODES,
    SEED_ITEMS,
    ItemSeed,
    parent_code,
    seed_by_code,
)

# Clause 6's sub-clause numbers, headings and lettered lists are facts of the
# standard; the fixture names where they were taken from.
CLAUSE_6 = Path(__file__).resolve().parent / "fixtures" / "clause_6.json"

CODE_RE = re.compile(r"^6\.(10|[1-9])(\.\d{1,2})?$")
CJK_RE = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def clause_6() -> dict[str, dict]:
    document = json.loads(CLAUSE_6.read_text(encoding="utf-8"))
    assert "T/JAS 12" in document["source"]
    return {
        c["code"]: {"name": c["heading"], "letters": list(c["letters"])}
        for c in document["clauses"]
    }


def top_level_codes() -> set[str]:
    return {item.code for item in SEED_ITEMS if parent_code(item.code) is None}


def test_the_standard_has_ten_clause_6_items(clause_6):
    assert list(clause_6) == [f"6.{n}" for n in range(1, 11)]


def test_all_ten_clause_6_items_are_seeded(clause_6):
    assert top_level_codes() == set(clause_6)
    assert top_level_codes() == {f"6.{n}" for n in range(1, 11)}


def test_top_level_names_are_the_standards_headings(clause_6):
    by_code = seed_by_code()
    for code, clause in clause_6.items():
        assert by_code[code].name == clause["name"], code


def test_every_lettered_sub_item_is_seeded_by_position(clause_6):
    for code, clause in clause_6.items():
        letters = clause["letters"]
        # the lettering runs a), b), c), … without gaps
        assert letters == [chr(ord("a") + i) for i in range(len(letters))], code
        expected = {f"{code}.{i}" for i in range(1, len(letters) + 1)}
        seeded = {c for c in ITEM_CODES if parent_code(c) == code}
        assert seeded == expected, code


def test_the_lettered_counts_match_the_known_shape(clause_6):
    counts = {code: len(clause["letters"]) for code, clause in clause_6.items()}
    assert counts == {
        "6.1": 4,
        "6.2": 3,
        "6.3": 2,
        "6.4": 4,
        "6.5": 3,
        "6.6": 3,
        "6.7": 2,
        "6.8": 4,
        "6.9": 0,
        "6.10": 0,
    }


def test_codes_are_unique_and_well_formed():
    codes = [item.code for item in SEED_ITEMS]
    assert len(codes) == len(set(codes))
    for code in codes:
        assert CODE_RE.match(code), code
    assert ITEM_CODES == set(codes)


def test_every_sub_item_has_a_parent_listed_before_it():
    seen: set[str] = set()
    for item in SEED_ITEMS:
        parent = parent_code(item.code)
        if parent is not None:
            assert parent in ITEM_CODES, item.code
            assert parent in seen, f"{item.code} precedes its parent {parent}"
        seen.add(item.code)


@pytest.mark.parametrize("item", SEED_ITEMS, ids=lambda item: item.code)
def test_item_fields_are_usable_at_the_window(item: ItemSeed):
    assert isinstance(item.name, str) and item.name.strip() == item.name
    assert CJK_RE.search(item.name), item.name
    assert isinstance(item.description, str) and CJK_RE.search(item.description)
    assert isinstance(item.materials, tuple)
    assert 2 <= len(item.materials) <= 6
    for material in item.materials:
        assert isinstance(material, str) and material.strip() == material != ""
        assert CJK_RE.search(material), material
    assert len(set(item.materials)) == len(item.materials), "duplicate material"
    assert type(item.cycle_days) is int and item.cycle_days > 0
    assert isinstance(item.contact, str)


def test_names_are_unique():
    names = [item.name for item in SEED_ITEMS]
    assert len(names) == len(set(names))


def test_seed_by_code_covers_every_item_in_order():
    by_code = seed_by_code()
    assert list(by_code) == [item.code for item in SEED_ITEMS]
    assert all(by_code[item.code] is item for item in SEED_ITEMS)
    by_code.clear()
    assert seed_by_code(), "seed_by_code returns a fresh dict each time"


@pytest.mark.parametrize(
    ("code", "parent"),
    [
        ("6.3.2", "6.3"),
        ("6.10", None),
        ("6.3", None),
        ("6.1.1", "6.1"),
        ("6.8.4", "6.8"),
    ],
)
def test_parent_code(code, parent):
    assert parent_code(code) == parent


def test_seed_items_are_frozen():
    item = SEED_ITEMS[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        item.name = "changed"  # type: ignore[misc]
    assert item.contact == ""
