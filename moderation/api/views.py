"""The moderation API. Thin: the services' errors (PlaceNotFound, IllegalTransition,
InvalidDecision) are answered by the problem+json handler (config.exceptions)."""

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsModerator
from config.params import StrictLimitOffsetPagination
from moderation import selectors, services
from moderation.api.filtersets import ModerationQueueFilterSet
from moderation.api.serializers import (
    LocationRevertInputSerializer,
    LocationStatusInputSerializer,
    ModerationLocationOutputSerializer,
    ModerationLogOutputSerializer,
)


class ModerationPagination(StrictLimitOffsetPagination):
    default_limit = 50
    max_limit = 200


class ModerationQueueView(ListAPIView):
    """GET /admin/locations: places in one status (pending by default), oldest first."""

    permission_classes = [IsModerator]
    serializer_class = ModerationLocationOutputSerializer
    pagination_class = ModerationPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = ModerationQueueFilterSet

    def get_queryset(self):
        # The pending queue; ModerationQueueFilterSet picks the status asked for.
        return selectors.moderation_queue()

    @extend_schema(tags=["moderation"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class LocationStatusView(APIView):
    """PATCH /admin/locations/{id}/status: approve, reject or take down a place."""

    permission_classes = [IsModerator]

    @extend_schema(
        tags=["moderation"],
        request=LocationStatusInputSerializer,
        responses={200: ModerationLocationOutputSerializer},
    )
    def patch(self, request, id):
        data = LocationStatusInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.location_transition(
            location_id=id,
            to_status=data.validated_data["status"],
            moderator=request.user,
            reason_code=data.validated_data["reason_code"],
            reason=data.validated_data["reason"],
            expected_status=data.validated_data["expected_status"],
            expected_version=data.validated_data["expected_version"],
        )
        location = selectors.moderation_location(location_id=id)
        return Response(
            ModerationLocationOutputSerializer(location, context={"request": request}).data
        )


class LocationRevertView(APIView):
    """POST /admin/locations/{id}/revert: restore an earlier revision's content as the
    place's next version (logged; open maps hear location.updated)."""

    permission_classes = [IsModerator]

    @extend_schema(
        tags=["moderation"],
        request=LocationRevertInputSerializer,
        responses={200: ModerationLocationOutputSerializer},
    )
    def post(self, request, id):
        data = LocationRevertInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.location_revert_to(
            location_id=id,
            revision_id=data.validated_data["revision"],
            moderator=request.user,
            expected_version=data.validated_data["expected_version"],
        )
        location = selectors.moderation_location(location_id=id)
        return Response(
            ModerationLocationOutputSerializer(location, context={"request": request}).data
        )


class LocationModerationLogView(ListAPIView):
    """GET /admin/locations/{id}/log: every decision on a place, oldest first."""

    permission_classes = [IsModerator]
    serializer_class = ModerationLogOutputSerializer
    pagination_class = ModerationPagination

    def get_queryset(self):
        location_id = self.kwargs["id"]
        if not selectors.location_has_moderation_trail(location_id=location_id):
            raise services.PlaceNotFound()
        return selectors.location_moderation_log(location_id=location_id)

    @extend_schema(tags=["moderation"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
