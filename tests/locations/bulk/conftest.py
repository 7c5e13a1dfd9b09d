import pytest
from django.db import connection

from tests.accounts.factories import UserFactory

PLACES = 10_000


@pytest.fixture
def ten_thousand_places(db) -> int:
    """10,000 approved places (plus a few pending and rejected ones that no public export
    may show), inserted in one statement: 10,000 factory saves would dominate the run.
    Every 1000th place carries text that CSV and JSON writers must escape."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO locations_location (
                id, name, description, category, address, point, status, submitter_id,
                external_id, created_at, updated_at, approved_at)
            SELECT gen_random_uuid(),
                   CASE WHEN g %% 1000 = 0 THEN '=HYPERLINK("x"), "quoted", ünïcødé ' || g
                        ELSE 'Place ' || g END,
                   CASE WHEN g %% 1000 = 0 THEN E'two\\nlines, a comma; a "quote" and \\\\ end'
                        ELSE 'Description ' || g END,
                   (ARRAY['park', 'cafe', 'museum', 'bar'])[1 + g %% 4],
                   '',
                   ST_SetSRID(ST_MakePoint(-179.5 + (g %% 359), -80 + (g %% 160) + 0.25), 4326),
                   'approved', NULL, 'ext-' || g, now(), now(), now()
            FROM generate_series(1, %s) AS g
            """,
            [PLACES],
        )
        cursor.execute(
            """
            INSERT INTO locations_location (
                id, name, description, category, address, point, status, created_at,
                updated_at)
            SELECT gen_random_uuid(), 'Hidden ' || s, '', 'park', '',
                   ST_SetSRID(ST_MakePoint(10, 10), 4326), s, now(), now()
            FROM unnest(ARRAY['pending', 'pending', 'rejected']) AS s
            """
        )
    return PLACES


@pytest.fixture
def operator(db):
    """Staff with the add permission on places: the people who may import."""
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def operator_client(client, operator):
    client.force_login(operator)
    return client
