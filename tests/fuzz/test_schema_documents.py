"""What the schema fuzzing found the schema getting wrong, pinned down without a server:
the API answers search and viewport as application/geo+json, and a moderation queue item
has no approval time (and no submitter once the account is erased)."""

from drf_spectacular.generators import SchemaGenerator


def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def test_the_schema_says_search_and_viewport_answer_geojson():
    paths = schema()["paths"]
    for path in ("/api/v1/locations/search", "/api/v1/locations/viewport"):
        content = paths[path]["get"]["responses"]["200"]["content"]
        assert list(content) == ["application/geo+json"], (path, list(content))


def test_the_schema_lets_a_queue_item_lack_an_approval_time_and_a_submitter():
    fields = schema()["components"]["schemas"]["ModerationLocationOutput"]["properties"]
    assert fields["approved_at"].get("nullable") is True
    assert fields["submitter"].get("nullable") is True


def test_a_pending_place_in_the_queue_has_no_approval_time(moderator_client, user):
    from locations.services import location_create

    location_create(
        submitter=user, name="Queued place", category="cafe", latitude=48.85, longitude=2.35
    )
    response = moderator_client.get("/api/v1/admin/locations")
    assert response.status_code == 200
    assert response.json()["results"][0]["approved_at"] is None
