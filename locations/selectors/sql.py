"""SQL plumbing shared by the public list reads: the text and category filters and
the statement timeout every public read runs under. Public reads run on this request's
read alias (a healthy replica for anonymous reads, else the primary: config.db_router)."""

from collections.abc import Sequence
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, connections, transaction

from config.db_backend.base import trusting_pooled_connection
from config.db_router import read_alias, retry_on_primary
from locations import constants
from locations.errors import MapUnavailable

# The text search configuration must be the generated column's (locations.models), or
# the GIN index cannot answer; it is a constant of ours, never user input.
TSQUERY = f"websearch_to_tsquery('{constants.SEARCH_CONFIG}', %(q)s)"


def text_and_category_filters(*, q: str, categories: Sequence[str], params: dict) -> list[str]:
    clauses = []
    if q:
        params["q"] = q
        clauses.append(f"l.search_vector @@ {TSQUERY}")
    if categories:
        params["categories"] = list(categories)
        clauses.append("l.category = ANY(%(categories)s::text[])")
    return clauses


@contextmanager
def public_read_timeout():
    """Bound every statement run inside by PLACES_STATEMENT_TIMEOUT_MS.

    SET LOCAL (set_config(..., true)) lasts until the transaction ends, so pooled
    connections keep their defaults. Postgres cancelling a statement, or being
    unreachable, surfaces as MapUnavailable (503 with Retry-After).
    """
    timeout = f"{settings.PLACES_STATEMENT_TIMEOUT_MS}ms"
    alias = read_alias()  # ORM reads inside follow it (config.db_router.ReplicaRouter)
    try:
        with transaction.atomic(using=alias):
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT set_config('statement_timeout', %s, true)", [timeout])
            yield
    except (OperationalError, InterfaceError) as exc:
        raise MapUnavailable() from exc


def run_public_read(sql: str, params: dict) -> Any:
    """Run one public read under the statement timeout; return its single value (the
    document as text, or a tile as bytes)."""
    return run_public_read_row(sql, params)[0]


def run_public_read_row(sql: str, params: dict) -> tuple:
    """Run one public read under the statement timeout; return its one row.

    One round trip instead of four (BEGIN, set_config, the query, COMMIT): Django's
    psycopg cursor binds parameters client-side and sends the text as one simple-protocol
    message, and PostgreSQL runs the statements of such a message as one implicit
    transaction. SET LOCAL therefore bounds the query and ends with it; PostgreSQL 13+
    times each statement of the message separately. (Server-side binding would refuse
    the two statements loudly, not silently drop the timeout.)
    """
    timeout_ms = int(settings.PLACES_STATEMENT_TIMEOUT_MS)
    # A pooled connection is taken without its checkout round trip (config.db_backend):
    # this statement is the check, bounded by its timeout plus a connect timeout.
    deadline = timeout_ms / 1000 + float(
        connections[read_alias()].settings_dict["OPTIONS"].get("connect_timeout", 2)
    )

    def read() -> tuple:
        with connections[read_alias()].cursor() as cursor:
            cursor.execute(f"SET LOCAL statement_timeout = {timeout_ms};\n{sql}", params)
            cursor.cursor.nextset()  # past SET's empty result, to the query's
            return cursor.fetchone()

    try:
        # One statement, safe to repeat: a replica failing under it is retried here.
        return retry_on_primary(lambda: trusting_pooled_connection(read, deadline=deadline))
    except (OperationalError, InterfaceError) as exc:
        # Cancelled by the timeout or no database: the caller may have a stale copy.
        raise MapUnavailable() from exc
