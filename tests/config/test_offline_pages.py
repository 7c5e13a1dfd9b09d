"""The API docs (Swagger UI, ReDoc) and the moderation console's place page load nothing
from another host: every src/href is this site's, and every static file they name is
served by this app (drf-spectacular-sidecar, config/static/vendor/)."""

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.staticfiles import finders
from django.urls import reverse

from tests.accounts.factories import UserFactory
from tests.locations.factories import LocationFactory
from tests.support import logged_in

pytestmark = pytest.mark.django_db


class _References(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]


def references(html: str) -> list[str]:
    parser = _References()
    parser.feed(html)
    return parser.urls


def assert_all_local(html: str) -> list[str]:
    """Every src/href stays on this host; the static ones exist. Returns the URLs."""
    urls = references(html)
    assert urls
    for url in urls:
        parts = urlsplit(url)
        assert not parts.scheme or parts.scheme == "javascript", url
        assert not parts.netloc, url
        if parts.path.startswith(settings.STATIC_URL):
            name = parts.path.removeprefix(settings.STATIC_URL)
            assert finders.find(name), f"{name} is not among the static files"
    return urls


def test_swagger_ui_loads_nothing_from_another_host(client):
    response = client.get("/api/docs")

    assert response.status_code == 200
    urls = assert_all_local(response.content.decode())
    assert any("swagger-ui-dist/swagger-ui-bundle.js" in url for url in urls)
    # Its initialisation script (served by the view) names no other host either.
    script = client.get("/api/docs", {"script": ""})
    assert script.status_code == 200
    assert b'"validatorUrl": null' in script.content or b'"validatorUrl":null' in script.content
    assert b"https://" not in script.content


def test_redoc_loads_nothing_from_another_host(client):
    response = client.get("/api/redoc")

    assert response.status_code == 200
    urls = assert_all_local(response.content.decode())
    assert any("redoc/bundles/redoc.standalone.js" in url for url in urls)
    assert b"fonts.googleapis.com" not in response.content


@pytest.fixture
def moderator_browser(db):
    """A console moderator (staff, in the moderators group) logged in to the admin."""
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=settings.MODERATORS_GROUP))
    return logged_in(user)


def change_page(browser, place) -> str:
    response = browser.get(reverse("admin:locations_location_change", args=[place.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_place_page_of_the_console_loads_openlayers_from_this_app(moderator_browser):
    place = LocationFactory(status="pending")

    urls = assert_all_local(change_page(moderator_browser, place))

    assert f"{settings.STATIC_URL}vendor/ol-7.2.2/ol.js" in urls
    assert f"{settings.STATIC_URL}vendor/ol-7.2.2/ol.css" in urls


def test_the_place_page_shows_the_coordinates_as_text(moderator_browser):
    place = LocationFactory(status="pending")
    place.point.x, place.point.y = 2.2945, 48.8584
    place.save(update_fields=["point"])

    assert "48.8584, 2.2945" in change_page(moderator_browser, place)


def test_the_basemap_comes_from_map_tiles_url(moderator_browser, settings):
    settings.MAP_TILES_URL = "https://tiles.internal.example/{z}/{x}/{y}.png"
    place = LocationFactory(status="pending")

    html = change_page(moderator_browser, place)

    assert "https://tiles.internal.example/{z}/{x}/{y}.png" in html.replace("\\u002D", "-")
    assert "tile.openstreetmap.org" not in html


def test_without_map_tiles_url_the_point_shows_on_a_plain_background(moderator_browser, settings):
    settings.MAP_TILES_URL = ""
    place = LocationFactory(status="pending")

    html = change_page(moderator_browser, place)

    assert "ol.source.OSM" not in html
    assert "new ol.layer.Vector({source: new ol.source.Vector()})" in html
    # The point itself is still handed to the map.
    assert '"type": "Point"' in html or "&quot;type&quot;: &quot;Point&quot;" in html
