from django.urls import reverse

from notifications.selectors import notifications_for_user
from notifications.services import notify
from tests.accounts.factories import UserFactory


def submitted(place) -> dict:
    return {"location_id": str(place.id), "location_name": place.name}


def test_notifications_for_user_lists_only_that_users_newest_first(submitter, place):
    first = notify(
        recipient=submitter, event="location.submitted", context=submitted(place), dedupe_key="1"
    )[0]
    second = notify(
        recipient=submitter, event="location.approved", context=submitted(place), dedupe_key="1"
    )[0]
    notify(
        recipient=UserFactory(),
        event="location.submitted",
        context=submitted(place),
        dedupe_key="other",
    )

    assert list(notifications_for_user(user=submitter)) == [second, first]


def test_the_admin_lists_notifications_read_only(admin_client, submitter, place):
    (notification,) = notify(
        recipient=submitter,
        event="location.rejected",
        context={**submitted(place), "reason_code": "spam", "reason": "Advert."},
        dedupe_key="1",
    )

    changelist = admin_client.get(reverse("admin:notifications_notification_changelist"))
    detail = admin_client.get(
        reverse("admin:notifications_notification_change", args=[notification.pk])
    )

    assert changelist.status_code == 200
    assert "location.rejected" in changelist.content.decode()
    assert detail.status_code == 200
    assert 'name="status"' not in detail.content.decode()
    assert admin_client.get(reverse("admin:notifications_notification_add")).status_code == 403
