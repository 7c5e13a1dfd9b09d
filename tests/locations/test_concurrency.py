"""Two submissions racing for the same photo: exactly one gets it (SELECT ... FOR UPDATE
in location_create), the other fails whole. Real threads, real connections, committed
data (transaction=True)."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from locations.models import Location
from locations.services import location_create
from media_store.models import Image
from tests.media_store.factories import ImageFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_submissions_cannot_attach_the_same_photo(user):
    image = ImageFactory(uploader=user)
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def submit(name: str) -> None:
        try:
            start.wait()
            location_create(
                submitter=user,
                name=name,
                category="park",
                latitude=52.5,
                longitude=13.4,
                image_ids=[image.id],
            )
            outcomes.append("created")
        except ValidationError as exc:
            assert "image_ids" in exc.message_dict
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(f"Racer {n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["created", "refused"]
    assert Location.objects.count() == 1  # the loser left nothing behind
    winner = Location.objects.get()
    assert Image.objects.get(id=image.id).location_id == winner.id


def test_two_simultaneous_posts_with_one_idempotency_key_create_one_place(user):
    from rest_framework.test import APIClient

    from tests.locations.conftest import API
    from tests.locations.test_create_api import VALID

    start = threading.Barrier(2)
    responses = []

    def post() -> None:
        client = APIClient()
        client.force_authenticate(user)
        try:
            start.wait()
            responses.append(
                client.post(
                    f"{API}/locations", VALID, format="json", headers={"Idempotency-Key": "race"}
                )
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    codes = sorted(r.status_code for r in responses)
    # The loser either saw the claim (409, retry later) or, if it came after, the replay.
    assert codes in ([201, 201], [201, 409])
    assert Location.objects.count() == 1
    if codes == [201, 201]:
        assert {r.json()["id"] for r in responses} == {str(Location.objects.get().id)}
