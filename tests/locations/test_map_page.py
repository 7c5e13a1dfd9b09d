"""The map page (GET / and /map/): its HTML, and the page itself in Debian's chromium
(driven by Playwright for Python, the system browser, no download) against a real web
server on the test database: tiles, clusters, search, popups and a live approval."""

import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from django.contrib.gis.geos import Point
from rest_framework.authtoken.models import Token

from media_store import storage
from tests.accounts.factories import ModeratorFactory
from tests.locations.factories import LocationFactory
from tests.media_store import samples
from tests.media_store.factories import ImageFactory
from tests.support import BASE_DIR, child_env

# Installed by .ci/setup.sh (apt-get install chromium); no skip without it.
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = BASE_DIR / "docs" / "img"
# Headless chromium has no GPU here: WebGL (MapLibre needs WebGL 2) through SwiftShader.
CHROMIUM_ARGS = ["--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/map/"])
def test_the_map_page_loads_everything_from_this_app(client, path, settings):
    settings.MAP_STYLE_URL = ""
    response = client.get(path)

    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/locations/vendor/maplibre-gl-5.24.1/maplibre-gl.js" in html
    assert "/static/locations/map.js" in html
    # No other host: every URL in the page is relative to this one.
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    config = json.loads(re.search(r'id="map-config"[^>]*>(.*?)</script>', html, re.S).group(1))
    assert config["tilejsonUrl"] == "/api/v1/tiles.json"
    assert config["styleUrl"] == ""
    assert config["searchUrl"] == "/api/v1/locations/search"


@pytest.mark.django_db
def test_the_page_hands_the_configured_basemap_to_the_script(client, settings):
    settings.MAP_STYLE_URL = "https://tiles.example.com/style.json"

    html = client.get("/").content.decode()

    config = json.loads(re.search(r'id="map-config"[^>]*>(.*?)</script>', html, re.S).group(1))
    assert config["styleUrl"] == "https://tiles.example.com/style.json"


@pytest.fixture(scope="module")
def static_root(tmp_path_factory) -> Path:
    """The static files as production serves them: collected, then served by WhiteNoise
    from STATIC_ROOT."""
    root = tmp_path_factory.mktemp("static")
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=BASE_DIR,
        env={**child_env(), "STATIC_ROOT": str(root), "DATABASE_URL": "postgis://unused/unused"},
        check=True,
    )
    return root


def place(lon, lat, name, *, approved=True, **fields):
    return LocationFactory(point=Point(lon, lat, srid=4326), name=name, approved=approved, **fields)


def approve_over_http(origin: str, token: str, location_id) -> None:
    request = urllib.request.Request(  # noqa: S310 (our own loopback server)
        f"{origin}/api/v1/admin/locations/{location_id}/status",
        data=json.dumps({"status": "approved"}).encode(),
        method="PATCH",
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        assert response.status == 200


def test_the_map_in_a_real_browser(web_server, static_root, tmp_path):
    from playwright.sync_api import sync_playwright

    # Spread over the city in small groups: clusters at z11, single places at z16.
    berlin = [
        place(
            13.30 + (i % 6) * 0.035 + (i % 3) * 0.002,
            52.47 + (i // 6) * 0.02 + (i % 2) * 0.001,
            f"Spree bakery {i}",
            category=("shop", "cafe", "park")[i % 3],
            description="Fresh bread every morning.",
        )
        for i in range(48)
    ]
    place(13.4050, 52.5200, "Alexanderplatz fountain", category="monument")
    place(2.3522, 48.8566, "Paris cafe", category="cafe")
    pending = place(13.407, 52.521, "Brand new viewpoint", approved=False, category="viewpoint")
    # Its photo, stored on the S3 endpoint: the popup shows the thumbnail.
    photo = ImageFactory(location=pending, uploader=pending.submitter)
    storage.put_object(
        key=photo.thumbnail_keys["256"], body=samples.webp(160, 90), content_type="image/webp"
    )
    token = Token.objects.create(user=ModeratorFactory()).key
    server = web_server(STATIC_ROOT=str(static_root), THROTTLE_READS="100000/minute")
    # PLACEMAP_SCREENSHOTS=docs/img refreshes the README's screenshots.
    shots = (
        Path(os.environ["PLACEMAP_SCREENSHOTS"])
        if os.environ.get("PLACEMAP_SCREENSHOTS")
        else tmp_path
    )

    errors: list[str] = []
    tiles: list[tuple[int, str]] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 700})
            page.on("console", lambda m: m.type == "error" and errors.append(m.text))
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on(
                "response",
                lambda r: "/api/v1/tiles/" in r.url and tiles.append((r.status, r.url)),
            )

            # Zoomed out over Berlin (all of it in view): clusters.
            page.goto(f"{server.origin}/#10/52.54/13.39")
            page.wait_for_function("() => window.placemap.map && window.placemap.map.loaded()")
            assert page.locator("canvas.maplibregl-canvas").count() == 1
            # Every approved place in view is counted once: clusters plus single places.
            page.wait_for_function(
                """() => window.placemap.map.queryRenderedFeatures(
                        {layers: ['clusters', 'place-points']})
                    .reduce((sum, f) => sum + (f.properties.point_count || 1), 0) === 49""",
                timeout=10000,
            )
            assert any(status == 200 for status, _ in tiles), tiles
            assert page.evaluate(
                "() => window.placemap.map.queryRenderedFeatures({layers: ['clusters']}).length"
            )
            page.wait_for_selector(".cluster-label")
            page.screenshot(path=str(shots / "map-clusters.png"))

            # A search near the map centre lists the bakeries.
            page.fill("#search-q", "bakery")
            page.press("#search-q", "Enter")
            page.wait_for_selector(".search-result")
            assert "Spree bakery" in page.inner_text("#search-results")
            assert "within 50 km" in page.inner_text("#search-status")
            page.screenshot(path=str(shots / "map-search.png"))

            # Zoomed in: single places, and a popup from GET /locations/{id}.
            page.evaluate("() => window.placemap.map.jumpTo({center: [13.406, 52.5205], zoom: 16})")
            page.wait_for_function(
                "() => window.placemap.map.loaded() && window.placemap.socket"
                " && window.placemap.socket.readyState === 1"
            )
            page.wait_for_timeout(500)  # the feed's subscribe follows moveend by 300 ms
            shown = """id => window.placemap.map.queryRenderedFeatures({layers: ['place-points']})
                .some(f => f.properties.id === id)"""
            assert (
                page.evaluate(
                    "() => window.placemap.map.queryRenderedFeatures({layers: ['place-points']}).length"
                )
                > 0
            )
            assert not page.evaluate(shown, str(pending.id))

            # Approved through the API: the open page shows it without a reload.
            approve_over_http(server.origin, token, pending.id)
            page.wait_for_function(shown, arg=str(pending.id), timeout=15000)
            assert any(
                e["type"] == "location.approved" for e in page.evaluate("window.placemap.events")
            )
            point = page.evaluate(
                """id => {
                    const map = window.placemap.map;
                    const f = map.queryRenderedFeatures({layers: ['place-points']})
                        .find(f => f.properties.id === id);
                    const p = map.project(f.geometry.coordinates);
                    return [p.x, p.y];
                }""",
                str(pending.id),
            )
            page.mouse.click(*point)
            popup = page.wait_for_selector(".place-popup h2")
            assert popup.inner_text() == "Brand new viewpoint"
            assert page.inner_text(".place-popup .category") == "Viewpoint"
            assert "benches and shade" in page.inner_text(".place-popup p")
            # The first photo's thumbnail, loaded from storage (naturalWidth: it decoded).
            page.wait_for_function(
                "() => { const img = document.querySelector('.place-popup img');"
                " return img && img.complete && img.naturalWidth === 160; }"
            )
            page.screenshot(path=str(shots / "map-live-approval.png"))
        finally:
            browser.close()

    assert not errors, errors
    assert len(berlin) == 48
