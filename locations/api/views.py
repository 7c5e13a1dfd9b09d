"""Places API views: parse, call one service or selector, render. Errors are raised,
never mapped here: the problem+json handler answers them (locations.errors, Django's
ValidationError from the services)."""

import json

from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import EmailVerified, NotSuspended
from accounts.selectors import user_is_moderator
from config import languages
from config.db_router import replica_read
from config.http_cache import public_read
from config.params import (
    CURSOR_PARAM,
    StrictLimitOffsetPagination,
    cursor_encode,
    link_header,
    page_link,
)
from config.renderers import GeoJSONViewMixin
from locations import categories, constants, selectors, services
from locations.api import idempotency
from locations.api.fallback import GEOJSON_CONTENT_TYPE, serve_with_fallback
from locations.api.pagination import OwnLocationsPagination
from locations.api.schema import (
    PlaceFeatureSerializer,
    SearchFeatureCollectionSerializer,
    ViewportFeatureCollectionSerializer,
)
from locations.api.serializers import (
    CategoryListParamsSerializer,
    CategoryOutputSerializer,
    LocationCreateInputSerializer,
    LocationDuplicatesOutputSerializer,
    LocationDuplicatesParamsSerializer,
    LocationSearchParamsSerializer,
    LocationUpdateInputSerializer,
    LocationViewportParamsSerializer,
    RevisionOutputSerializer,
)
from locations.api.throttles import ReadRateThrottle, SubmissionRateThrottle
from locations.errors import LocationNotFound, NotYourPlace
from locations.geojson import LocationFeatureSerializer

# HEAD is a GET without the body (Django routes it to get()): same rules.
READS = ("GET", "HEAD")

_STALE = " A stale copy served during a database outage carries `X-Cache-Stale: true` and `Age`."


class LocationCollectionView(GeoJSONViewMixin, APIView):
    """POST /locations: submit a place (pending until a moderator approves it)."""

    permission_classes = [IsAuthenticated, NotSuspended, EmailVerified]
    throttle_classes = [SubmissionRateThrottle]

    @extend_schema(
        request=LocationCreateInputSerializer,
        responses={
            201: PlaceFeatureSerializer,
            409: OpenApiResponse(
                description="A request with this Idempotency-Key is still running; see Retry-After."
            ),
            422: OpenApiResponse(description="This Idempotency-Key was used with another body."),
        },
        parameters=[
            OpenApiParameter(
                idempotency.HEADER,
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description="Retries with the same key and body replay the first response.",
            )
        ],
    )
    def post(self, request):
        return idempotency.idempotent(request, scope="location-create", produce=self._create)

    def _create(self) -> Response:
        data = LocationCreateInputSerializer(
            data=self.request.data, context={"request": self.request}
        )
        data.is_valid(raise_exception=True)
        location = services.location_create(
            submitter=self.request.user,
            raw_text=_raw_text(self.request.data),
            **data.validated_data,
        )
        # Re-read with its photos, exactly as GET /locations/{id} will show it.
        feature = selectors.location_public_feature(
            location_id=location.id, viewer=self.request.user
        )
        # Approved places and the submitter's own unreviewed ones: other people's
        # pending places are not public (moderators see them in the queue).
        feature["properties"]["possible_duplicates"] = selectors.location_duplicates(
            latitude=location.point.y,
            longitude=location.point.x,
            name=location.name,
            category=location.category,
            exclude_id=location.id,
            pending_of_user_id=self.request.user.pk,
        )
        return Response(feature, status=status.HTTP_201_CREATED)


def _raw_text(data) -> list[str]:
    """The text fields as sent, before clean_text (a spam signal reads what was removed)."""
    return [
        value
        for key in ("name", "description", "address")
        if isinstance(value := data.get(key), str)
    ]


@replica_read
@public_read
class LocationDuplicatesView(APIView):
    """GET /locations/duplicates: approved places a new one may duplicate ("did you
    mean ...?"), best first."""

    throttle_classes = [ReadRateThrottle]

    @extend_schema(
        parameters=[LocationDuplicatesParamsSerializer],
        responses={200: LocationDuplicatesOutputSerializer},
    )
    def get(self, request):
        params = LocationDuplicatesParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        query = params.validated_data
        with selectors.public_read_timeout():
            candidates = selectors.location_duplicates(
                latitude=query["lat"],
                longitude=query["lon"],
                name=query["name"],
                category=query.get("category"),
            )
        return Response({"possible_duplicates": candidates})


@replica_read
@public_read
class LocationSearchView(GeoJSONViewMixin, APIView):
    """GET /locations/search: approved places by radius, text, or both."""

    throttle_classes = [ReadRateThrottle]

    @extend_schema(
        parameters=[LocationSearchParamsSerializer],
        responses={
            (200, GEOJSON_CONTENT_TYPE): OpenApiResponse(
                SearchFeatureCollectionSerializer,
                description="One page, nearest (or most relevant) first." + _STALE,
            )
        },
    )
    def get(self, request):
        return search_answer(request)


def search_answer(request) -> HttpResponse:
    """GET /locations/search for this request (Django's HttpRequest or DRF's Request):
    the answer of LocationSearchView and of the lean path (locations.api.lean)."""
    params = LocationSearchParamsSerializer(data=request.GET)
    params.is_valid(raise_exception=True)
    search = params.validated_data
    offset, limit = search["offset"], search["limit"]
    next_url = previous_url = None

    def page(offset: int) -> str:
        return page_link(
            request, offset=None, limit=limit, **{CURSOR_PARAM: cursor_encode({"s": offset})}
        )

    if offset + limit <= constants.SEARCH_OFFSET_MAX:  # past the cap: no next page
        next_url = page(offset + limit)
    if offset > 0:
        previous_url = page(max(0, offset - limit))
    response = serve_with_fallback(
        kind="search",
        params=search,
        read=lambda: selectors.locations_search_json(
            **search, next_url=next_url, previous_url=previous_url
        ),
    )
    link = _search_page_links(response.content.decode())
    if link:
        response["Link"] = link
    return response


def _search_page_links(body: str) -> str | None:
    """The Link header of a search page, from its envelope's members. They follow
    `features` (locations_search_sql), so the last `"next"` in the text is the
    envelope's: a place's text inside the features comes earlier, and a URL is
    percent-encoded (no quote can end it early)."""
    members = json.loads("{" + body[body.rfind('"next"') :])
    return link_header(next_url=members["next"], previous_url=members["previous"])


@replica_read
@public_read
class LocationViewportView(GeoJSONViewMixin, APIView):
    """GET /locations/viewport: approved places in a bbox, or grid clusters of them."""

    throttle_classes = [ReadRateThrottle]

    @extend_schema(
        parameters=[LocationViewportParamsSerializer],
        responses={
            (200, GEOJSON_CONTENT_TYPE): OpenApiResponse(
                ViewportFeatureCollectionSerializer,
                description="Places, or grid clusters of them." + _STALE,
            )
        },
    )
    def get(self, request):
        return viewport_answer(request)


def viewport_answer(request) -> HttpResponse:
    """GET /locations/viewport for this request: the answer of LocationViewportView and
    of the lean path (locations.api.lean)."""
    params = LocationViewportParamsSerializer(data=request.GET)
    params.is_valid(raise_exception=True)
    viewport = params.validated_data
    return serve_with_fallback(
        kind="viewport",
        params=viewport,
        read=lambda: selectors.locations_viewport_json(**viewport),
    )


# Its owner and moderators may see a pending place here: never kept for a token.
@replica_read  # GET without credentials only: approved places
@public_read(with_credentials="no-store")
class LocationDetailView(GeoJSONViewMixin, APIView):
    """GET, PATCH, DELETE /locations/{id}. Invisible places are 404, like unknown ones."""

    def get_throttles(self):
        if self.request.method in READS:
            return [ReadRateThrottle()]
        return []

    def get_permissions(self):
        if self.request.method in READS:
            return []
        return [IsAuthenticated(), NotSuspended(), EmailVerified()]

    def _visible(self, location_id):
        location = selectors.location_get_visible(location_id=location_id, user=self.request.user)
        if location is None:
            raise LocationNotFound()
        return location

    def _editable(self, location_id):
        location = self._visible(location_id)
        user = self.request.user
        if location.submitter_id != user.pk and not user_is_moderator(user):
            raise NotYourPlace()
        return location

    def _with_pending_revision(self, location, feature: dict) -> dict:
        # The owner sees their edit awaiting review (null when none); nobody else does.
        user = self.request.user
        if user.is_authenticated and location.submitter_id == user.pk:
            feature["properties"]["pending_revision"] = selectors.location_pending_revision_dict(
                location, as_moderator=user_is_moderator(user), viewer_id=user.pk
            )
        return feature

    @extend_schema(
        responses={
            200: PlaceFeatureSerializer,
            301: OpenApiResponse(
                description="The place was merged into another: `Location` names it."
            ),
        }
    )
    def get(self, request, id):
        # Bounded like the list reads; an outage is MapUnavailable (503).
        with selectors.public_read_timeout():
            location = selectors.location_get_visible(location_id=id, user=request.user)
            # A merged place redirects everybody, its submitter included: it lives on as
            # the target. The public cannot see it, so only a miss pays for the lookup.
            if location is not None and location.status == constants.LocationStatus.MERGED:
                merged_into = location.merged_into_id
            else:
                merged_into = (
                    selectors.location_merged_into(location_id=id) if location is None else None
                )
            if merged_into is not None:
                target = request.build_absolute_uri(
                    reverse("v1:location-detail", kwargs={"id": merged_into})
                )
                return Response(
                    status=status.HTTP_301_MOVED_PERMANENTLY, headers={"Location": target}
                )
            if location is None:
                raise LocationNotFound()
            feature = self._with_pending_revision(
                location, LocationFeatureSerializer(location).data
            )
        return Response(feature)

    @extend_schema(
        request=LocationUpdateInputSerializer,
        responses={
            200: PlaceFeatureSerializer,
            403: OpenApiResponse(description="Neither your place nor a moderator."),
        },
    )
    def patch(self, request, id):
        location = self._editable(id)
        data = LocationUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        location = services.location_update(
            location=location,
            actor=request.user,
            raw_text=_raw_text(request.data),
            **data.validated_data,
        )
        feature = selectors.location_public_feature(location_id=location.id, viewer=request.user)
        return Response(self._with_pending_revision(location, feature))

    @extend_schema(
        request=None,
        responses={
            204: None,
            403: OpenApiResponse(description="Neither your place nor a moderator."),
        },
    )
    def delete(self, request, id):
        services.location_delete(location=self._editable(id), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RevisionsPagination(StrictLimitOffsetPagination):
    default_limit = 50
    max_limit = 200


class LocationRevisionsView(ListAPIView):
    """GET /locations/{id}/revisions: every version and proposal of a place, newest
    first, for its owner and moderators (404 to anyone else, like an unknown place)."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [ReadRateThrottle]
    pagination_class = RevisionsPagination
    serializer_class = RevisionOutputSerializer

    def get_queryset(self):
        user = self.request.user
        location = selectors.location_get_visible(location_id=self.kwargs["id"], user=user)
        if location is None or (location.submitter_id != user.pk and not user_is_moderator(user)):
            raise LocationNotFound()
        return selectors.location_revisions(location_id=location.id)

    def get_serializer_context(self):
        user = self.request.user
        return {
            **super().get_serializer_context(),
            "as_moderator": user_is_moderator(user),
            "viewer_id": user.pk,
        }


class MyLocationsView(GeoJSONViewMixin, ListAPIView):
    """GET /me/locations: the caller's places in every status, newest first; each with
    `pending_revision`, as the owner's GET /locations/{id} shows it."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [ReadRateThrottle]
    pagination_class = OwnLocationsPagination
    serializer_class = LocationFeatureSerializer

    def get_queryset(self):
        return selectors.locations_of_submitter(user=self.request.user)

    @extend_schema(responses={200: PlaceFeatureSerializer(many=True)})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        features = self.get_serializer(page, many=True).data
        for location, feature in zip(page, features, strict=True):
            # Pending revisions are owners' edits: the caller's own, shown to them in full
            # whether or not they moderate (as_moderator only adds others' names).
            feature["properties"]["pending_revision"] = selectors.location_pending_revision_dict(
                location, as_moderator=False, viewer_id=request.user.pk
            )
        return self.get_paginated_response(features)


@public_read
class CategoryListView(APIView):
    """GET /categories: the categories in display order, labelled in the language of
    Accept-Language (English by default), with Content-Language."""

    throttle_classes = [ReadRateThrottle]

    @extend_schema(
        parameters=[
            CategoryListParamsSerializer,
            OpenApiParameter(
                "Accept-Language",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description="en, de or fr (q-values honoured, de-DE is de); English otherwise. "
                "The answer's Content-Language says which was used.",
            ),
        ],
        responses={200: CategoryOutputSerializer(many=True)},
    )
    def get(self, request):
        params = CategoryListParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        language = languages.negotiate(request)
        body = categories.categories_localized(
            language, include_inactive=params.validated_data["include_inactive"]
        )
        return languages.localize(Response(body), language)
