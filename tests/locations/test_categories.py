"""Categories as data (issue 18): the migrated rows, their translations, the admin, active
and inactive categories on places and filters, and Accept-Language on every answer that
carries a category label."""

import json
import re

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.db import IntegrityError, transaction

from locations import categories, imports
from locations.models import Category, Location
from tests.accounts.factories import UserFactory
from tests.locations.conftest import API, MIGRATED_CATEGORIES
from tests.support import assert_problem, logged_in

pytestmark = pytest.mark.django_db

PLACE = {
    "name": "Corner spot",
    "description": "",
    "latitude": 52.5,
    "longitude": 13.4,
}
ADMIN = "/admin/locations/category"


def deactivate(slug: str) -> None:
    category = Category.objects.get(slug=slug)
    category.active = False
    category.save(update_fields=["active"])


def new_category(slug: str, **fields) -> Category:
    texts = {
        f"{kind}_{code}": f"{slug} {kind} {code}"
        for code, _name in settings.LANGUAGES
        for kind in ("label", "description")
    }
    return Category.objects.create(slug=slug, **{**texts, **fields})


# --- The migrated rows and their translations -------------------------------------------


def test_the_migration_keeps_every_slug_and_english_label_in_order():
    rows = Category.objects.order_by("order", "slug").values_list("slug", "label_en", "active")

    assert [(slug, label) for slug, label, _active in rows] == list(MIGRATED_CATEGORIES.items())
    assert all(active for _slug, _label, active in rows)


def test_every_active_category_is_translated_into_every_language():
    # Fails when a category (a migration's, or one an admin activated by SQL) lacks a
    # label or description in a language of settings.LANGUAGES.
    assert categories.translation_gaps() == {}
    german = dict(Category.objects.values_list("slug", "label_de"))
    french = dict(Category.objects.values_list("slug", "label_fr"))
    assert (german["viewpoint"], french["viewpoint"]) == ("Aussichtspunkt", "Point de vue")
    # Real translations, not copies of the English: most labels differ in one language.
    differing = [slug for slug, label in MIGRATED_CATEGORIES.items() if french[slug] != label]
    assert len(differing) >= len(MIGRATED_CATEGORIES) // 2


def test_a_category_lacking_a_translation_is_reported():
    new_category("volcano", label_fr="", description_de=" ")

    assert categories.translation_gaps() == {"volcano": ["label_fr", "description_de"]}


def test_the_languages_setting_and_the_translated_columns_agree():
    columns = {f.name for f in Category._meta.get_fields()}
    codes = [code for code, _name in settings.LANGUAGES]

    assert codes == ["en", "de", "fr"]
    assert settings.LANGUAGE_CODE == "en"
    for code in codes:
        assert {f"label_{code}", f"description_{code}"} <= columns
    assert {c.removeprefix("label_") for c in columns if c.startswith("label_")} == set(codes)


def test_the_database_refuses_to_delete_a_category_in_use(place_of, user):
    place_of(user, category="museum")

    with pytest.raises(IntegrityError), transaction.atomic():
        Category.objects.filter(slug="museum").delete()
    assert Category.objects.filter(slug="museum").exists()


def test_the_database_refuses_a_place_with_an_unknown_category(place_of, user):
    with pytest.raises(IntegrityError), transaction.atomic():
        place_of(user, category="volcano")


# --- GET /categories and Accept-Language --------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "language", "park", "viewpoint"),
    [
        (None, "en", "Park", "Viewpoint"),
        ("de", "de", "Park", "Aussichtspunkt"),
        ("fr", "fr", "Parc", "Point de vue"),
        ("en", "en", "Park", "Viewpoint"),
        ("de-DE,de;q=0.9,en;q=0.8", "de", "Park", "Aussichtspunkt"),
        ("fr-CA", "fr", "Parc", "Point de vue"),
        ("es, it;q=0.8", "en", "Park", "Viewpoint"),
        ("*", "en", "Park", "Viewpoint"),
        ("en;q=0.2, fr;q=0.5, de;q=0.4", "fr", "Parc", "Point de vue"),
        ("fr;q=0, de", "de", "Park", "Aussichtspunkt"),
        ("es;q=0.9, de;q=0.1", "de", "Park", "Aussichtspunkt"),
        ("not a language tag;;", "en", "Park", "Viewpoint"),
    ],
)
def test_categories_follow_accept_language_and_say_which(
    api_client, accept, language, park, viewpoint
):
    headers = {} if accept is None else {"HTTP_ACCEPT_LANGUAGE": accept}
    response = api_client.get(f"{API}/categories", **headers)

    assert response.status_code == 200
    assert response["Content-Language"] == language
    assert "Accept-Language" in response["Vary"]
    labels = {c["slug"]: c["label"] for c in response.json()}
    assert (labels["park"], labels["viewpoint"]) == (park, viewpoint)


def test_each_category_has_its_description_and_icon_in_the_language(api_client):
    body = api_client.get(f"{API}/categories", HTTP_ACCEPT_LANGUAGE="de").json()

    drinking = next(c for c in body if c["slug"] == "drinking_water")
    assert drinking == {
        "slug": "drinking_water",
        "label": "Trinkwasser",
        "description": "Ein Brunnen oder Wasserhahn mit Trinkwasser.",
        "icon": "drinking-water",
        "active": True,
    }


def test_a_missing_translation_falls_back_to_english(api_client):
    new_category("volcano", label_de="", description_de="")

    body = api_client.get(f"{API}/categories", HTTP_ACCEPT_LANGUAGE="de").json()

    volcano = next(c for c in body if c["slug"] == "volcano")
    assert (volcano["label"], volcano["description"]) == (
        "volcano label en",
        "volcano description en",
    )


def test_the_etag_differs_per_language_and_revalidates_per_language(api_client):
    english = api_client.get(f"{API}/categories", HTTP_ACCEPT_LANGUAGE="en")
    german = api_client.get(f"{API}/categories", HTTP_ACCEPT_LANGUAGE="de")
    assert english["ETag"] != german["ETag"]

    same = api_client.get(
        f"{API}/categories", HTTP_ACCEPT_LANGUAGE="en", HTTP_IF_NONE_MATCH=english["ETag"]
    )
    assert same.status_code == 304
    # A 304 repeats Vary and the ETag (RFC 9110 15.4.5); the cache keeps Content-Language.
    assert same["ETag"] == english["ETag"]
    assert "Accept-Language" in same["Vary"]
    # The English copy is not a valid answer to a German request.
    other = api_client.get(
        f"{API}/categories", HTTP_ACCEPT_LANGUAGE="de", HTTP_IF_NONE_MATCH=english["ETag"]
    )
    assert other.status_code == 200
    assert other["ETag"] == german["ETag"]


def test_the_list_follows_the_order_and_hides_inactive_ones_unless_asked(api_client):
    deactivate("toilet")
    Category.objects.filter(slug="other").update(order=1)
    categories.clear_cache()

    listed = [c["slug"] for c in api_client.get(f"{API}/categories").json()]
    everything = api_client.get(f"{API}/categories?include_inactive=true").json()

    assert listed[0] == "other"
    assert "toilet" not in listed
    assert [c["active"] for c in everything if c["slug"] == "toilet"] == [False]
    assert len(everything) == len(listed) + 1
    assert_problem(api_client.get(f"{API}/categories?include_inactive=maybe"), 400)


# --- Active and inactive categories on places --------------------------------------------


def test_a_new_place_in_an_inactive_category_is_refused_naming_it(user_client):
    deactivate("toilet")

    response = user_client.post(f"{API}/locations", {**PLACE, "category": "toilet"}, format="json")

    body = assert_problem(response, 400, field="category")
    assert "toilet" in body["errors"]["category"][0]
    assert not Location.objects.exists()


def test_an_unknown_category_is_refused(user_client):
    response = user_client.post(f"{API}/locations", {**PLACE, "category": "volcano"}, format="json")

    body = assert_problem(response, 400, field="category")
    assert "volcano" in body["errors"]["category"][0]


def test_a_category_deactivated_in_another_process_is_refused_at_once(user_client):
    categories.known_slugs()  # this process's copy: toilet still active
    Category.objects.filter(slug="toilet").update(active=False)  # no signal, as elsewhere

    response = user_client.post(f"{API}/locations", {**PLACE, "category": "toilet"}, format="json")

    assert_problem(response, 400, field="category")


def test_an_old_place_keeps_its_inactive_category_through_an_edit(user_client, user, place_of):
    place = place_of(user, "pending", category="toilet")
    deactivate("toilet")

    renamed = user_client.patch(
        f"{API}/locations/{place.id}", {"name": "Renamed toilet"}, format="json"
    )
    same = user_client.patch(
        f"{API}/locations/{place.id}", {"category": "toilet", "name": "Again"}, format="json"
    )

    assert renamed.status_code == 200, renamed.content
    assert same.status_code == 200, same.content
    place.refresh_from_db()
    assert (place.name, place.category) == ("Again", "toilet")


def test_moving_a_place_into_an_inactive_category_is_refused(user_client, user, place_of):
    place = place_of(user, "pending", category="park")
    deactivate("toilet")

    response = user_client.patch(
        f"{API}/locations/{place.id}", {"category": "toilet"}, format="json"
    )

    assert_problem(response, 400, field="category")
    place.refresh_from_db()
    assert place.category == "park"


def test_a_moderator_cannot_move_a_place_into_an_inactive_category_either(
    moderator_client, user, place_of
):
    place = place_of(user, "approved", category="park")
    deactivate("toilet")

    response = moderator_client.patch(
        f"{API}/locations/{place.id}", {"category": "toilet"}, format="json"
    )

    assert_problem(response, 400, field="category")


def test_the_import_refuses_rows_in_an_inactive_category(tmp_path):
    deactivate("toilet")
    path = tmp_path / "places.csv"
    path.write_text(
        "external_id,name,category,longitude,latitude\n"
        "a,Old toilet,toilet,13.4,52.5\n"
        "b,Good park,park,13.4,52.5\n",
        encoding="utf-8",
    )

    report = imports.locations_import(path=path)

    assert [(bad.number, list(bad.errors)) for bad in report.bad_rows] == [(2, ["category"])]
    assert list(Location.objects.values_list("external_id", flat=True)) == ["b"]


def test_filters_accept_an_inactive_category_and_refuse_an_unknown_one(api_client, user, place_of):
    old = place_of(user, category="toilet", lon=13.4, lat=52.5)
    place_of(user, category="park", lon=13.4001, lat=52.5001)
    deactivate("toilet")

    search = api_client.get(f"{API}/locations/search?lat=52.5&lon=13.4&category=toilet")
    viewport = api_client.get(f"{API}/locations/viewport?bbox=13,52,14,53&category=toilet")
    tile = api_client.get(f"{API}/tiles/0/0/0.mvt?category=toilet")
    ogc = api_client.get(
        f"{API}/ogc/collections/places/items?category=toilet", HTTP_ACCEPT="application/geo+json"
    )

    assert [f["id"] for f in search.json()["features"]] == [str(old.id)]
    assert [f["id"] for f in viewport.json()["features"]] == [str(old.id)]
    assert tile.status_code == 200
    assert [f["id"] for f in ogc.json()["features"]] == [str(old.id)]
    for url in (
        f"{API}/locations/search?lat=52.5&lon=13.4&category=volcano",
        f"{API}/locations/viewport?bbox=13,52,14,53&category=volcano",
        f"{API}/tiles/0/0/0.mvt?category=volcano",
        f"{API}/ogc/collections/places/items?category=volcano",
        f"{API}/locations/export?category=volcano",
    ):
        assert_problem(api_client.get(url), 400, field="category")


# --- Other answers with category labels ---------------------------------------------------


def test_the_ogc_queryables_title_each_category_in_the_language(api_client):
    deactivate("toilet")

    response = api_client.get(
        f"{API}/ogc/collections/places/queryables",
        HTTP_ACCEPT="application/schema+json",
        HTTP_ACCEPT_LANGUAGE="fr-FR, en;q=0.5",
    )

    assert response["Content-Language"] == "fr"
    assert "Accept-Language" in response["Vary"]
    category = response.json()["properties"]["category"]
    # Every slug a filter accepts, the inactive one too.
    assert category["enum"] == list(MIGRATED_CATEGORIES)
    titles = {option["const"]: option["title"] for option in category["oneOf"]}
    assert titles["toilet"] == "Toilettes publiques"
    assert titles["library"] == "Bibliothèque"


def test_the_map_page_labels_categories_in_the_language(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="de")

    assert "Accept-Language" in response["Vary"]
    html = response.content.decode()
    config = json.loads(re.search(r'id="map-config"[^>]*>(.*?)</script>', html, re.S).group(1))
    assert config["categoriesLanguage"] == "de"
    assert config["categories"]["playground"] == "Spielplatz"


# --- The admin ------------------------------------------------------------------------------


def category_admin(*actions: str):
    user = UserFactory(is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="locations",
            codename__in=[f"{action}_category" for action in actions],
        )
    )
    return logged_in(user)


def admin_form(**overrides) -> dict:
    form = {"slug": "volcano", "icon": "volcano", "order": "5", "active": "on"}
    for code, _name in settings.LANGUAGES:
        form[f"label_{code}"] = f"Volcano {code}"
        form[f"description_{code}"] = f"A mountain that erupts ({code})."
    return {**form, **overrides}


def test_staff_without_the_permission_cannot_see_categories():
    browser = category_admin()

    assert browser.get(f"{ADMIN}/").status_code == 403


def test_the_admin_lists_categories_in_order_with_their_translations():
    browser = category_admin("view")

    html = browser.get(f"{ADMIN}/").content.decode()

    assert html.index("Aussichtspunkt") < html.index("Bibliothèque")  # viewpoint, library


def test_an_admin_creates_a_translated_category_that_the_api_lists_at_once(api_client):
    browser = category_admin("view", "add")

    response = browser.post(f"{ADMIN}/add/", admin_form())

    assert response.status_code == 302, response.content.decode()[:2000]
    body = api_client.get(f"{API}/categories", HTTP_ACCEPT_LANGUAGE="fr").json()
    assert body[0] == {
        "slug": "volcano",
        "label": "Volcano fr",
        "description": "A mountain that erupts (fr).",
        "icon": "volcano",
        "active": True,
    }


def test_an_active_category_needs_every_translation():
    browser = category_admin("view", "add")

    response = browser.post(f"{ADMIN}/add/", admin_form(label_de="", description_fr=""))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert set(errors) == {"label_de", "description_fr"}
    assert not Category.objects.filter(slug="volcano").exists()


def test_an_admin_reorders_and_deactivates_a_category(api_client, user_client):
    browser = category_admin("view", "change")
    park = Category.objects.get(slug="park")
    form = admin_form(
        slug="park",
        icon=park.icon,
        order="1",
        **{f"label_{c}": getattr(park, f"label_{c}") for c, _n in settings.LANGUAGES},
        **{f"description_{c}": getattr(park, f"description_{c}") for c, _n in settings.LANGUAGES},
    )

    assert browser.post(f"{ADMIN}/park/change/", form).status_code == 302
    assert api_client.get(f"{API}/categories").json()[0]["slug"] == "park"

    response = browser.post(
        f"{ADMIN}/", {"action": "deactivate_selected", "_selected_action": ["park"]}
    )
    assert response.status_code == 302
    assert not Category.objects.get(slug="park").active
    refused = user_client.post(f"{API}/locations", {**PLACE, "category": "park"}, format="json")
    assert_problem(refused, 400, field="category")


def test_the_admin_refuses_to_delete_a_category_in_use_and_deletes_an_unused_one(user, place_of):
    place_of(user, category="museum")
    new_category("volcano")
    browser = category_admin("view", "delete")

    page = browser.get(f"{ADMIN}/museum/delete/")
    refused = browser.post(f"{ADMIN}/museum/delete/", {"post": "yes"})
    deleted = browser.post(f"{ADMIN}/volcano/delete/", {"post": "yes"})

    assert "Deactivate it instead" in page.content.decode()
    assert refused.status_code == 200
    assert Category.objects.filter(slug="museum").exists()
    assert deleted.status_code == 302
    assert not Category.objects.filter(slug="volcano").exists()


def test_the_slug_of_an_existing_category_cannot_be_changed():
    browser = category_admin("view", "change")
    park = Category.objects.get(slug="park")
    form = admin_form(
        slug="garden",
        icon=park.icon,
        **{f"label_{c}": getattr(park, f"label_{c}") for c, _n in settings.LANGUAGES},
        **{f"description_{c}": getattr(park, f"description_{c}") for c, _n in settings.LANGUAGES},
    )

    browser.post(f"{ADMIN}/park/change/", form)

    assert Category.objects.filter(slug="park").exists()
    assert not Category.objects.filter(slug="garden").exists()
