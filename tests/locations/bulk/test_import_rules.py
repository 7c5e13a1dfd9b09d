"""The importer checks rows set-wise in SQL (locations.imports._SqlRules) after a small
Python pass; the API checks them with LocationCreateInputSerializer. They must agree:
the same rows refused, with the same messages in the same order, and the same values
stored for the rows accepted. Each rule below has a valid, an invalid and a boundary
value, plus hostile ones (invisible text, NUL, odd numbers, other JSON types)."""

import json
from pathlib import Path

import pytest

from locations import categories, constants, imports
from locations.models import Location
from tests.locations.test_categories import new_category

pytestmark = pytest.mark.django_db

NAME_MAX, NAME_MIN = constants.NAME_MAX_LENGTH, constants.NAME_MIN_LENGTH
DESCRIPTION_MAX, ADDRESS_MAX = constants.DESCRIPTION_MAX_LENGTH, constants.ADDRESS_MAX_LENGTH
EXTERNAL_ID_MAX = imports.EXTERNAL_ID_MAX_LENGTH

BASE = {"name": "Good place", "category": "park", "longitude": 2.35, "latitude": 48.85}


@pytest.fixture(autouse=True)
def _retired_category():
    new_category("retired", active=False)
    categories.clear_cache()
    yield
    categories.clear_cache()


# (field, value, checked in SQL rather than by the serializer in Python)
CASES = [
    ("name", "a" * NAME_MIN, True),
    ("name", "a" * (NAME_MIN - 1), True),
    ("name", "a" * NAME_MAX, True),
    ("name", "a" * (NAME_MAX + 1), True),
    ("name", "", True),
    ("name", "   ", True),
    ("name", "\u200b\u200b\u200b", True),  # invisible: cleaned to blank
    ("name", "ab\u200b", True),  # cleaned to 2 characters
    ("name", "\u00a0Caf\u0065\u0301 \u2060", True),  # NBSP, NFD, word joiner
    ("name", "e\u0301" * NAME_MAX, True),  # 240 code points, NFC folds to 120
    ("name", "ab\x00c", False),  # NUL: refused by the serializer's validator
    ("name", "ab\x00" + "c" * NAME_MAX, False),  # two messages for one field
    ("name", 12345, False),
    ("name", True, False),
    ("name", ["a list"], False),
    ("name", None, True),  # a null property is an absent one: required
    ("description", "d" * DESCRIPTION_MAX, True),
    ("description", "d" * (DESCRIPTION_MAX + 1), True),
    ("description", "two\nlines\tand a tab\x07bell", True),
    ("description", "", True),
    ("description", {"an": "object"}, False),
    ("category", "museum", True),
    ("category", "Museum", True),
    ("category", " park", True),  # trimmed, as the API's CharField does
    ("category", "retired", True),  # deactivated: refused for new places
    ("category", "", True),
    ("category", "spaceport" * 30, True),
    ("category", "par\x00k", False),
    ("category", 7, False),
    ("category", None, True),
    ("address", "a" * ADDRESS_MAX, True),
    ("address", "a" * (ADDRESS_MAX + 1), True),
    ("address", " \u3000 ", True),  # ideographic space: blank is allowed here
    ("latitude", 90, True),
    ("latitude", 90.0000000001, True),  # out of range, although it rounds to 90
    ("latitude", -90, True),
    ("latitude", -90.000001, True),
    ("latitude", 89.99999999996, True),  # in range, rounds to 90
    ("latitude", 5e-324, True),  # subnormal: stored as 0
    ("latitude", "45.5", True),
    ("latitude", " 4.5e1 ", True),
    ("latitude", "1_0", True),
    ("latitude", "\u0663", True),  # ARABIC-INDIC DIGIT THREE: float() reads 3
    ("latitude", "1e-400", True),  # underflows to 0 in float()
    ("latitude", "nan", False),
    ("latitude", "-Infinity", False),
    ("latitude", "1e400", False),
    ("latitude", "", False),
    ("latitude", "north", False),
    ("latitude", "9" * 1001, False),
    ("latitude", True, False),
    ("latitude", None, False),
    ("longitude", 180, True),
    ("longitude", -180.0000001, True),
    ("longitude", 180.5, True),
    ("external_id", "e" * EXTERNAL_ID_MAX, True),
    ("external_id", "e" * (EXTERNAL_ID_MAX + 1), True),
    ("external_id", "  padded id  ", True),
    ("external_id", "tab\tinside", True),
    ("external_id", "\x7fdel is not a control here", True),
    ("external_id", 42, True),
    ("external_id", 4.5, True),
    ("external_id", "", True),
    ("external_id", "nul\x00", False),
    ("external_id", True, False),
    ("external_id", [1], False),
]


def _features() -> list[dict]:
    features = []
    for number, (name, value, _) in enumerate(CASES, start=1):
        properties = {key: value for key, value in BASE.items() if key in ("name", "category")}
        coordinates = [BASE["longitude"], BASE["latitude"]]
        if name == "longitude":
            coordinates[0] = value
        elif name == "latitude":
            coordinates[1] = value
        else:
            properties[name] = value
        properties.setdefault("external_id", f"case-{number}")
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": coordinates},
                "properties": properties,
            }
        )
    return features


def _write_geojson(tmp_path: Path) -> Path:
    path = tmp_path / "cases.geojson"
    # ensure_ascii keeps NUL and lone surrogates as escapes, as a hostile file would.
    path.write_text(json.dumps({"type": "FeatureCollection", "features": _features()}))
    return path


def _expected() -> list[tuple]:
    """What the serializer makes of each row: errors, or the values it would store."""
    validate = imports.RowValidator()
    expected = []
    for number, feature in enumerate(_features(), start=1):
        record = imports._geojson_record(number, json.loads(json.dumps(feature)))
        expected.append(validate(number, imports.UNIT_FEATURE, record))
    return expected


def test_the_sql_rules_refuse_exactly_what_the_serializer_refuses(db, tmp_path):
    seen: list[imports.BadRow] = []

    report = imports.locations_import(
        path=_write_geojson(tmp_path), dry_run=True, on_bad_row=seen.append
    )

    expected_bad = [row for row in _expected() if isinstance(row, imports.BadRow)]
    assert [(bad.number, bad.errors) for bad in seen] == [
        (bad.number, bad.errors) for bad in expected_bad
    ]
    assert [str(bad) for bad in report.bad_rows] == [str(bad) for bad in expected_bad]
    assert report.rows_valid == len(CASES) - len(expected_bad)


def test_the_rows_both_accept_are_stored_as_the_serializer_would_store_them(db, tmp_path):
    imports.locations_import(path=_write_geojson(tmp_path))

    stored = {
        place.external_id: (
            place.name,
            place.description,
            place.category,
            place.address,
            place.point.x,
            place.point.y,
        )
        for place in Location.objects.all()
    }
    accepted = [row for row in _expected() if not isinstance(row, imports.BadRow)]
    assert None in stored  # the "" external id is no id
    assert len(stored) == len(accepted)
    for _, external_id, name, description, category, address, lon, lat in accepted:
        assert stored[external_id] == (name, description, category, address, lon, lat)


@pytest.mark.parametrize(("field", "value", "in_sql"), CASES)
def test_each_rule_is_checked_where_the_table_says(field, value, in_sql):
    """The rules must really run in SQL: only the values the fast pass cannot hand over
    exactly go to the serializer."""
    number = CASES.index((field, value, in_sql)) + 1
    record = imports._geojson_record(number, json.loads(json.dumps(_features()[number - 1])))
    called = []

    def serializer(*args):
        called.append(args)
        return imports.RowValidator()(*args)

    imports._prepare(number, number, imports.UNIT_FEATURE, record, serializer)

    assert (not called) == in_sql


def test_a_csv_row_gets_the_same_verdict_as_the_same_geojson_row(db, tmp_path):
    header = "external_id,name,description,category,address,longitude,latitude\n"
    rows = [
        ("c1", "ab", "", "park", "", "1", "1"),
        ("c2", "Fine", "", "Park", "", "1", "91"),
        ("c3", "Fine", "", "park", "", " 1_0 ", "-90.5"),
        ("c4", "\u200bFine\u200b", "", "park", "a" * (ADDRESS_MAX + 1), "x", "1"),
        ("e" * (EXTERNAL_ID_MAX + 1), "Fine", "", "cafe", "", "181", "1"),
    ]
    path = tmp_path / "cases.csv"
    path.write_text(header + "".join(",".join(row) + "\n" for row in rows))
    validate = imports.RowValidator()
    expected = []
    for line, row in enumerate(rows, start=2):
        record = dict(zip(header.strip().split(","), row, strict=True))
        checked = validate(line, imports.UNIT_LINE, record)
        if isinstance(checked, imports.BadRow):
            expected.append(str(checked))

    report = imports.locations_import(path=path, dry_run=True)

    assert [str(bad) for bad in report.bad_rows] == expected
    assert len(expected) == 5


def test_the_category_rule_and_the_serializer_use_the_same_snapshot():
    rules = imports._SqlRules(imports.RowValidator()._serializer)
    assert rules.params["categories_known"] == rules.categories.known()
    assert "retired" in rules.params["categories_known"]
    assert "retired" not in rules.params["categories_active"]
    assert "park" in rules.params["categories_active"]


def test_abort_reports_the_first_bad_row_in_file_order_whoever_finds_it(db, tmp_path):
    # Line 3 breaks a rule checked in SQL; line 4 one the parser finds while reading.
    path = tmp_path / "p.csv"
    path.write_text(
        "external_id,name,category,longitude,latitude\n"
        "a,Fine place,park,1,1\n"
        "b,Fine place,park,1,91\n"
        "c,Too,few\n"
        "d,Fine place,park,1,1\n"
    )

    with pytest.raises(imports.ImportAborted) as aborted:
        imports.locations_import(path=path, on_error=imports.ON_ERROR_ABORT)

    report = aborted.value.report
    assert [str(bad) for bad in report.bad_rows] == [
        "line 3: latitude: Ensure this value is less than or equal to 90."
    ]
    assert (report.rows_read, report.bad_row_count) == (2, 1)
    assert not Location.objects.exists()


def test_bad_rows_before_a_broken_file_are_reported_before_the_file_error(db, tmp_path):
    path = tmp_path / "p.geojson"
    good = json.dumps(_features()[0])
    bad = json.dumps({**_features()[0], "properties": {"name": "x", "category": "park"}})
    path.write_text('{"type": "FeatureCollection", "features": [' + f"{good}, {bad}, {{")
    seen: list[imports.BadRow] = []

    with pytest.raises(imports.ImportFileError, match="after feature 2"):
        imports.locations_import(path=path, on_bad_row=seen.append)
    assert [str(row) for row in seen] == [
        "feature 2: name: Ensure this field has at least 3 characters."
    ]

    # With abort, the bad row comes first: an abort, not a file error.
    with pytest.raises(imports.ImportAborted):
        imports.locations_import(path=path, on_error=imports.ON_ERROR_ABORT)
    assert not Location.objects.exists()


def test_a_serializer_field_without_a_sql_rule_stops_the_import_at_start():
    from rest_framework import serializers

    from locations.api.serializers import LocationCreateInputSerializer

    class WithAnUnknownRule(LocationCreateInputSerializer):
        name = serializers.RegexField(r"^[a-z]+$")

    class WithANewRequiredField(LocationCreateInputSerializer):
        opening_hours = serializers.CharField()

    with pytest.raises(TypeError, match="name"):
        imports._SqlRules(WithAnUnknownRule())
    with pytest.raises(TypeError, match="opening_hours"):
        imports._SqlRules(WithANewRequiredField())
