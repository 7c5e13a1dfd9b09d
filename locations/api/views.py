"""Places API views: parse, call one service or selector, render. Errors are raised,
never mapped here: the problem+json handler answers them (locations.errors, Django's
ValidationError from the services)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import user_is_moderator
from config.params import StrictLimitOffsetPagination
from locations import constants, selectors, services
from locations.api import idempotency
from locations.api.fallback import GEOJSON_CONTENT_TYPE, serve_with_fallback
from locations.api.pagination import OwnLocationsPagination
from locations.api.serializers import (
    CategoryOutputSerializer,
    FeatureCollectionOutputSerializer,
    LocationCreateInputSerializer,
    LocationSearchParamsSerializer,
    LocationUpdateInputSerializer,
    LocationViewportParamsSerializer,
    RevisionOutputSerializer,
)
from locations.api.throttles import ReadRateThrottle, SubmissionRateThrottle
from locations.errors import LocationNotFound, NotYourPlace
from locations.geojson import LocationFeatureSerializer

_GEOJSON_RESPONSE = OpenApiResponse(
    FeatureCollectionOutputSerializer,
    description="GeoJSON FeatureCollection (application/geo+json). A stale copy served "
    "during a database outage carries `X-Cache-Stale: true`.",
)


class LocationCollectionView(APIView):
    """POST /locations: submit a place (pending until a moderator approves it)."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [SubmissionRateThrottle]

    @extend_schema(
        request=LocationCreateInputSerializer,
        responses={201: LocationFeatureSerializer},
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
        location = services.location_create(submitter=self.request.user, **data.validated_data)
        # Re-read with its photos, exactly as GET /locations/{id} will show it.
        feature = selectors.location_public_feature(location_id=location.id)
        return Response(feature, status=status.HTTP_201_CREATED)


class LocationSearchView(APIView):
    """GET /locations/search: approved places by radius, text, or both."""

    throttle_classes = [ReadRateThrottle]

    @extend_schema(
        parameters=[LocationSearchParamsSerializer],
        responses={(200, GEOJSON_CONTENT_TYPE): _GEOJSON_RESPONSE},
    )
    def get(self, request):
        params = LocationSearchParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        search = params.validated_data
        next_offset = search["offset"] + search["limit"]
        next_url = None  # past the offset cap there is no next page to offer
        if next_offset <= constants.SEARCH_OFFSET_MAX:
            next_query = request.GET.copy()
            next_query["offset"] = str(next_offset)
            next_query["limit"] = str(search["limit"])
            next_url = request.build_absolute_uri(request.path) + "?" + next_query.urlencode()
        return serve_with_fallback(
            kind="search",
            params=search,
            read=lambda: selectors.locations_search_json(**search, next_url=next_url),
        )


class LocationViewportView(APIView):
    """GET /locations/viewport: approved places in a bbox, or grid clusters of them."""

    throttle_classes = [ReadRateThrottle]

    @extend_schema(
        parameters=[LocationViewportParamsSerializer],
        responses={(200, GEOJSON_CONTENT_TYPE): _GEOJSON_RESPONSE},
    )
    def get(self, request):
        params = LocationViewportParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        viewport = params.validated_data
        return serve_with_fallback(
            kind="viewport",
            params=viewport,
            read=lambda: selectors.locations_viewport_json(**viewport),
        )


class LocationDetailView(APIView):
    """GET, PATCH, DELETE /locations/{id}. Invisible places are 404, like unknown ones."""

    def get_throttles(self):
        if self.request.method == "GET":
            return [ReadRateThrottle()]
        return []

    def get_permissions(self):
        if self.request.method == "GET":
            return []
        return [IsAuthenticated()]

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

    @extend_schema(responses={200: LocationFeatureSerializer})
    def get(self, request, id):
        # Bounded like the list reads; an outage is MapUnavailable (503).
        with selectors.public_read_timeout():
            location = self._visible(id)
            feature = self._with_pending_revision(
                location, LocationFeatureSerializer(location).data
            )
        return Response(feature)

    @extend_schema(
        request=LocationUpdateInputSerializer, responses={200: LocationFeatureSerializer}
    )
    def patch(self, request, id):
        location = self._editable(id)
        data = LocationUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        location = services.location_update(
            location=location, actor=request.user, **data.validated_data
        )
        feature = selectors.location_public_feature(location_id=location.id)
        return Response(self._with_pending_revision(location, feature))

    @extend_schema(request=None, responses={204: None})
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


class MyLocationsView(ListAPIView):
    """GET /me/locations: the caller's places in every status, newest first."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [ReadRateThrottle]
    pagination_class = OwnLocationsPagination
    serializer_class = LocationFeatureSerializer

    def get_queryset(self):
        return selectors.locations_of_submitter(user=self.request.user)


class CategoryListView(APIView):
    """GET /categories: the fixed list of category slugs and labels."""

    throttle_classes = [ReadRateThrottle]

    @extend_schema(responses={200: CategoryOutputSerializer(many=True)})
    def get(self, request):
        return Response(
            [{"slug": slug, "label": label} for slug, label in constants.CATEGORIES.items()]
        )
