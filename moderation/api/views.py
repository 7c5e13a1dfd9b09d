from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsModerator
from config.exceptions import Conflict
from config.params import StrictLimitOffsetPagination
from locations.models import Location, LocationStatus
from moderation import selectors, services
from moderation.api.serializers import (
    LocationStatusInputSerializer,
    ModerationLocationOutputSerializer,
    ModerationLogOutputSerializer,
    QueueQuerySerializer,
)


class ModerationPagination(StrictLimitOffsetPagination):
    default_limit = 50
    max_limit = 200


class ModerationQueueView(ListAPIView):
    """GET /admin/locations: places in one status (pending by default), oldest first."""

    permission_classes = [IsModerator]
    serializer_class = ModerationLocationOutputSerializer
    pagination_class = ModerationPagination

    def get_queryset(self):
        query = QueueQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return selectors.moderation_queue(status=query.validated_data["status"])

    @extend_schema(
        tags=["moderation"],
        parameters=[
            OpenApiParameter("status", enum=LocationStatus.values, default=LocationStatus.PENDING)
        ],
    )
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
        try:
            services.location_transition(
                location_id=id,
                to_status=data.validated_data["status"],
                moderator=request.user,
                reason_code=data.validated_data["reason_code"],
                reason=data.validated_data["reason"],
                expected_status=data.validated_data["expected_status"],
            )
        except Location.DoesNotExist:
            raise NotFound("No such place.") from None
        except services.IllegalTransition as exc:
            raise Conflict(str(exc)) from None
        except services.InvalidDecision as exc:
            raise ValidationError(exc.errors) from None
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from None
        location = selectors.moderation_location(location_id=id)
        return Response(ModerationLocationOutputSerializer(location).data)


class LocationModerationLogView(ListAPIView):
    """GET /admin/locations/{id}/log: every decision on a place, oldest first."""

    permission_classes = [IsModerator]
    serializer_class = ModerationLogOutputSerializer
    pagination_class = ModerationPagination

    def get_queryset(self):
        location_id = self.kwargs["id"]
        if not selectors.location_has_moderation_trail(location_id=location_id):
            raise NotFound("No such place.")
        return selectors.location_moderation_log(location_id=location_id)

    @extend_schema(tags=["moderation"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
