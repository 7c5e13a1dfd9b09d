"""The floor's SQL: the very statements the API runs, from locations.selectors.

Parameters go through the API's own input serializers first, so defaults (limit,
ordering, radius) are the ones a request without them gets. Needs django.setup()."""

from __future__ import annotations


def statement(case: str, params: dict) -> tuple[str, dict]:
    from locations import selectors
    from locations.api import serializers

    if case in ("radius", "text"):
        data = {key: str(value) for key, value in params.items()}
        serializer = serializers.LocationSearchParamsSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        search = dict(serializer.validated_data)
        search.setdefault("lat", None)
        search.setdefault("lon", None)
        return selectors.locations_search_sql(**search)
    if case in ("viewport", "viewport_clusters", "viewport_small"):
        data = {"bbox": ",".join(str(v) for v in params["bbox"])}
        serializer = serializers.LocationViewportParamsSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        viewport = dict(serializer.validated_data)
        return selectors.locations_viewport_sql(**viewport)
    raise ValueError(f"unknown case {case!r}")
