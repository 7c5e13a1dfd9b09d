"""Text is normalised (config.text.clean_text) before any length check, in the API and in
the importer alike: invisible characters never make a name long enough."""

import pytest

from locations.models import Location
from tests.locations.conftest import API

INVISIBLE_NAMES = [
    "\u200b\u200b\u200b",  # zero-width spaces (format, Cf)
    "\u00a0\u00a0\u00a0",  # no-break spaces (Zs)
    "\u2060\ufeff\u00ad",  # word joiner, BOM, soft hyphen (Cf)
    "a\u200b\u200b",  # one letter and two invisibles
    "\u3000ab\u2028",  # ideographic space, two letters, line separator
    "\x07\x1bab",  # control characters (Cc)
]


def _place(**fields) -> dict:
    return {"name": "Good name", "category": "park", "latitude": 1, "longitude": 1, **fields}


@pytest.mark.parametrize("name", INVISIBLE_NAMES)
def test_it_refuses_a_name_made_long_enough_by_invisible_characters(user_client, name):
    response = user_client.post(f"{API}/locations", _place(name=name), format="json")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert "name" in response.json()["errors"]
    assert not Location.objects.exists()


def test_it_stores_text_normalised(user_client):
    body = _place(
        name="\u00a0Cafe\u0301\u200b Central\u3000",  # NFD é, a ZWSP, odd spaces
        description="\u200bFirst line\r\n\tsecond line\u2060\x07 ",
        address="\ufeffMain Street 1\u00a0",
    )

    response = user_client.post(f"{API}/locations", body, format="json")

    assert response.status_code == 201
    place = Location.objects.get(id=response.json()["id"])
    assert place.name == "Caf\u00e9 Central"
    assert place.description == "First line\n\tsecond line"
    assert place.address == "Main Street 1"


def test_it_keeps_a_joiner_inside_a_word(user_client):
    name = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"  # Persian, ZWNJ between letters

    response = user_client.post(f"{API}/locations", _place(name=name), format="json")

    assert Location.objects.get(id=response.json()["id"]).name == name


def test_it_refuses_an_edit_to_an_invisible_name(user, user_client, place_of):
    place = place_of(user, status="pending")

    response = user_client.patch(
        f"{API}/locations/{place.id}", {"name": "\u200b\u200b\u200b"}, format="json"
    )

    assert response.status_code == 400
    assert "name" in response.json()["errors"]


def test_the_importer_refuses_an_invisible_name_and_cleans_the_rest(db, tmp_path):
    from locations import imports

    path = tmp_path / "p.csv"
    path.write_text(
        "external_id,name,description,category,address,longitude,latitude\n"
        "a,\u200b\u200b\u200b,,park,,1,1\n"
        "b,\u00a0Fine place\u200b,two\u200b words,park,\u2060Street 2,1,1\n",
        encoding="utf-8",
    )

    report = imports.locations_import(path=path)

    assert [(bad.number, list(bad.errors)) for bad in report.bad_rows] == [(2, ["name"])]
    place = Location.objects.get()
    assert (place.name, place.description, place.address) == (
        "Fine place",
        "two words",
        "Street 2",
    )
