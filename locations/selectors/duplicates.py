"""Likely duplicates of a place (docs/moderation.md "Duplicates").

A candidate lies within DUPLICATE_RADIUS_M of the place and has a similar name: the
pg_trgm similarity of the lower-cased names, plus DUPLICATE_CATEGORY_BONUS when the
categories match, reaches DUPLICATE_NAME_SIMILARITY. `similarity` in the answer is the
plain trigram similarity (0-1); the bonus only ranks and admits.

Index contract: the radius is tested first, on `point::geography(POINT,4326)`, one
branch per status so each hits its partial index (approved:
location_geog_approved_gist; pending: location_dup_pending_gist, which also holds the
trigrams of lower(name)); the names are compared on the few rows inside the circle.
Measured in docs/benchmarks.md ("Duplicates").
"""

from collections.abc import Iterable
from uuid import UUID

from django.conf import settings
from django.db import connections

from config.db_router import read_alias
from locations import constants

_GEOG = "l.point::geography(POINT,4326)"


def _candidates_sql(*, origin: str, name: str, category: str, exclude: str, pending: str) -> str:
    """The candidates around one origin (SQL expressions for its geography, lower-cased
    name, category and the id to leave out), best first. `pending` is the extra
    condition on pending candidates ("false": approved only)."""
    branch = (
        "SELECT l.id, l.name, l.category, "  # noqa: S608 (constant fragments, bound values)
        f"ST_Distance({_GEOG}, {origin}) AS distance_m, "
        f"similarity(lower(l.name), {name}) AS similarity "
        "FROM locations_location l "
        f"WHERE l.status = '{{status}}' AND ST_DWithin({_GEOG}, {origin}, %(radius)s::float8) "
        f"AND l.id IS DISTINCT FROM {exclude}"
    )
    approved = branch.format(status=constants.LocationStatus.APPROVED)
    pending_branch = branch.format(status=constants.LocationStatus.PENDING) + f" AND ({pending})"
    weighted = f"c.similarity + CASE WHEN c.category = {category} THEN %(bonus)s ELSE 0 END"
    return (
        "SELECT c.id, c.name, c.distance_m, c.similarity "  # noqa: S608 (as above)
        f"FROM ({approved} UNION ALL {pending_branch}) c "
        f"WHERE {weighted} >= %(threshold)s "
        f"ORDER BY {weighted} DESC, c.distance_m, c.id LIMIT %(limit)s"
    )


def _params() -> dict:
    return {
        "radius": float(settings.DUPLICATE_RADIUS_M),
        "threshold": float(settings.DUPLICATE_NAME_SIMILARITY),
        "bonus": constants.DUPLICATE_CATEGORY_BONUS,
        "limit": constants.DUPLICATE_LIMIT,
    }


def _row(row: tuple) -> dict:
    return {
        "id": str(row[0]),
        "name": row[1],
        "distance_m": round(float(row[2]), 1),
        "similarity": round(float(row[3]), 3),
    }


def location_duplicates_sql(
    *,
    latitude: float,
    longitude: float,
    name: str,
    category: str | None = None,
    exclude_id: UUID | str | None = None,
    pending: bool = False,
    pending_of_user_id: int | None = None,
) -> tuple[str, dict]:
    """The statement of location_duplicates (the benchmark runs it as it is)."""
    params = {
        **_params(),
        "lon": longitude,
        "lat": latitude,
        "name": name,
        "category": category,
        "exclude": str(exclude_id) if exclude_id is not None else None,
        "owner": pending_of_user_id,
    }
    if pending:
        pending_condition = "true"
    elif pending_of_user_id is not None:
        pending_condition = "l.submitter_id = %(owner)s"
    else:
        pending_condition = "false"
    sql = _candidates_sql(
        origin="ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography",
        name="lower(%(name)s)",
        category="%(category)s",
        exclude="%(exclude)s::uuid",
        pending=pending_condition,
    )
    return sql, params


def location_duplicates(
    *,
    latitude: float,
    longitude: float,
    name: str,
    category: str | None = None,
    exclude_id: UUID | str | None = None,
    pending: bool = False,
    pending_of_user_id: int | None = None,
) -> list[dict]:
    """Likely duplicates of a place at (latitude, longitude) named `name`, best first
    ({id, name, distance_m, similarity}): approved places, and pending ones when
    `pending` (moderators) or those of `pending_of_user_id` (a submitter sees only
    their own unreviewed places)."""
    sql, params = location_duplicates_sql(
        latitude=latitude,
        longitude=longitude,
        name=name,
        category=category,
        exclude_id=exclude_id,
        pending=pending,
        pending_of_user_id=pending_of_user_id,
    )
    with connections[read_alias()].cursor() as cursor:
        cursor.execute(sql, params)
        return [_row(row) for row in cursor.fetchall()]


def locations_duplicates_by_id(*, location_ids: Iterable[UUID | str]) -> dict[str, list[dict]]:
    """The likely duplicates (approved and pending) of each of `location_ids`, for a
    page of the moderators' queue: one statement whatever the page size."""
    ids = [str(location_id) for location_id in location_ids]
    result: dict[str, list[dict]] = {location_id: [] for location_id in ids}
    if not ids:
        return result
    candidates = _candidates_sql(
        origin="s.point::geography(POINT,4326)",
        name="lower(s.name)",
        category="s.category",
        exclude="s.id",
        pending="true",
    )
    sql = (
        "SELECT s.id, d.* FROM locations_location s "  # noqa: S608 (as above)
        f"CROSS JOIN LATERAL ({candidates}) d WHERE s.id = ANY(%(ids)s::uuid[])"
    )
    with connections[read_alias()].cursor() as cursor:
        cursor.execute(sql, {**_params(), "ids": ids})
        for row in cursor.fetchall():
            result[str(row[0])].append(_row(row[1:]))
    return result
