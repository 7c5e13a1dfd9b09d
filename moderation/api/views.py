"""The moderation API. Thin: the services' errors (PlaceNotFound, IllegalTransition,
InvalidDecision) are answered by the problem+json handler (config.exceptions)."""

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import EmailVerified, IsModerator, NotSuspended
from config.params import QueryParamsSerializer, StrictLimitOffsetPagination
from locations.selectors import locations_duplicates_by_id
from media_store.models import ImageModeration
from moderation import selectors, services
from moderation.api.filtersets import ModerationQueueFilterSet
from moderation.api.serializers import (
    FlaggedObjectOutputSerializer,
    FlagInputSerializer,
    FlagOutputSerializer,
    FlagResolutionOutputSerializer,
    FlagResolveInputSerializer,
    ImageStatusInputSerializer,
    LocationMergeInputSerializer,
    LocationRevertInputSerializer,
    LocationStatusInputSerializer,
    ModerationImageOutputSerializer,
    ModerationLocationOutputSerializer,
    ModerationLogOutputSerializer,
    SuspendInputSerializer,
    SuspendOutputSerializer,
    SuspensionOutputSerializer,
    UserTrustOutputSerializer,
)
from moderation.api.throttles import FlagRateThrottle
from moderation.models import FlagStatus
from moderation.trust import user_trust_state


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

    def get_serializer(self, *args, **kwargs):
        if kwargs.get("many") and args:
            # One statement for the page's likely duplicates.
            places = list(args[0])
            duplicates = locations_duplicates_by_id(location_ids=[p.id for p in places])
            kwargs["context"] = {**self.get_serializer_context(), "duplicates": duplicates}
            return self.get_serializer_class()(places, *args[1:], **kwargs)
        return super().get_serializer(*args, **kwargs)

    @extend_schema(tags=["moderation"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class LocationStatusView(APIView):
    """PATCH /admin/locations/{id}/status: approve, reject or take down a place."""

    permission_classes = [IsModerator, NotSuspended, EmailVerified]

    @extend_schema(
        tags=["moderation"],
        request=LocationStatusInputSerializer,
        responses={
            200: ModerationLocationOutputSerializer,
            409: OpenApiResponse(
                description="Not a legal transition from the place's status, or the place "
                "is no longer in `expected_status`."
            ),
        },
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

    permission_classes = [IsModerator, NotSuspended, EmailVerified]

    @extend_schema(
        tags=["moderation"],
        request=LocationRevertInputSerializer,
        responses={
            200: ModerationLocationOutputSerializer,
            409: OpenApiResponse(
                description="The place changed since `expected_version` (with `current_version`)."
            ),
        },
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


# --- Photos ------------------------------------------------------------------------------


class ImageQueueParams(QueryParamsSerializer):
    status = serializers.ChoiceField(
        choices=ImageModeration.choices,
        required=False,
        default=ImageModeration.PENDING,
        help_text="The moderation status of the photos listed; pending when absent.",
    )


class ImageQueueView(ListAPIView):
    """GET /admin/images: photos on places in one moderation status (pending by
    default), oldest first, each with its place."""

    permission_classes = [IsModerator]
    serializer_class = ModerationImageOutputSerializer
    pagination_class = ModerationPagination

    def get_queryset(self):
        params = ImageQueueParams(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        return selectors.images_queue(status=params.validated_data["status"])

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        places = selectors.places_of_images(page)
        data = ModerationImageOutputSerializer(page, many=True, context={"places": places}).data
        return self.get_paginated_response(data)

    @extend_schema(tags=["moderation"], parameters=[ImageQueueParams])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ImageStatusView(APIView):
    """PATCH /admin/images/{id}/status: approve or reject a photo."""

    permission_classes = [IsModerator, NotSuspended, EmailVerified]

    @extend_schema(
        tags=["moderation"],
        request=ImageStatusInputSerializer,
        responses={
            200: ModerationImageOutputSerializer,
            409: OpenApiResponse(
                description="Not a legal transition from the photo's status, or the photo "
                "changed since `expected_version`."
            ),
        },
    )
    def patch(self, request, id):
        data = ImageStatusInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.image_transition(image_id=id, moderator=request.user, **_renamed(data))
        image = selectors.moderation_image(image_id=id)
        places = selectors.places_of_images([image])
        return Response(ModerationImageOutputSerializer(image, context={"places": places}).data)


def _renamed(data) -> dict:
    values = dict(data.validated_data)
    values["to_status"] = values.pop("status")
    return values


# --- Flags -------------------------------------------------------------------------------


_FLAG_CREATE_RESPONSES = {
    201: FlagOutputSerializer,
    409: OpenApiResponse(description="The caller's flag on it is still open."),
}


class _FlagCreateView(APIView):
    permission_classes = [IsAuthenticated, NotSuspended, EmailVerified]
    throttle_classes = [FlagRateThrottle]
    target_type = ""

    def post(self, request, id):
        data = FlagInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        flag = services.flag_create(
            reporter=request.user, target_type=self.target_type, target_id=id, **data.validated_data
        )
        return Response(FlagOutputSerializer(flag).data, status=status.HTTP_201_CREATED)


class LocationFlagView(_FlagCreateView):
    """POST /locations/{id}/flags: report a public place."""

    target_type = services.FLAG_TARGET_LOCATION

    @extend_schema(
        tags=["moderation"], request=FlagInputSerializer, responses=_FLAG_CREATE_RESPONSES
    )
    def post(self, request, id):
        return super().post(request, id)


class ImageFlagView(_FlagCreateView):
    """POST /images/{id}/flags: report a public photo."""

    target_type = services.FLAG_TARGET_IMAGE

    @extend_schema(
        tags=["moderation"], request=FlagInputSerializer, responses=_FLAG_CREATE_RESPONSES
    )
    def post(self, request, id):
        return super().post(request, id)


class FlagQueueParams(QueryParamsSerializer):
    status = serializers.ChoiceField(
        choices=FlagStatus.choices,
        required=False,
        default=FlagStatus.OPEN,
        help_text="The status of the flags listed; open when absent.",
    )


class FlagQueueView(ListAPIView):
    """GET /admin/flags: flagged places and photos, the one flagged longest ago first,
    each with every flag in the status asked for (open by default)."""

    permission_classes = [IsModerator]
    serializer_class = FlaggedObjectOutputSerializer
    pagination_class = ModerationPagination

    def _status(self) -> str:
        params = FlagQueueParams(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        return params.validated_data["status"]

    def get_queryset(self):
        return selectors.flagged_objects(status=self._status())

    def list(self, request, *args, **kwargs):
        flag_status = self._status()
        page = self.paginate_queryset(selectors.flagged_objects(status=flag_status))
        items, places = selectors.flagged_items(page, status=flag_status)
        duplicates = locations_duplicates_by_id(location_ids=places.keys())
        data = FlaggedObjectOutputSerializer(
            items, many=True, context={"places": places, "duplicates": duplicates}
        ).data
        return self.get_paginated_response(data)

    @extend_schema(tags=["moderation"], parameters=[FlagQueueParams])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class FlagResolveView(APIView):
    """PATCH /admin/flags/{id}: dismiss or action a flag and every open flag on its
    object."""

    permission_classes = [IsModerator, NotSuspended, EmailVerified]

    @extend_schema(
        tags=["moderation"],
        request=FlagResolveInputSerializer,
        responses={
            200: FlagResolutionOutputSerializer,
            409: OpenApiResponse(description="The flag was resolved already."),
        },
        parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH)],
    )
    def patch(self, request, id):
        data = FlagResolveInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        take_down = values["take_down"]
        flags = services.flag_resolve(
            flag_id=id,
            moderator=request.user,
            resolution=values["resolution"],
            note=values["note"],
            take_down=services.TakeDown(**take_down) if take_down else None,
            changes=values["changes"] or None,
        )
        first = flags[0]
        body = {
            "resolution": values["resolution"],
            "target_type": first.target_type,
            "location_id": first.location_id,
            "image_id": first.image_id,
            "flags": flags,
        }
        return Response(FlagResolutionOutputSerializer(body).data)


# --- Suspension ------------------------------------------------------------------------------


class UserSuspendView(APIView):
    """POST /admin/users/{username}/suspend."""

    permission_classes = [IsModerator, NotSuspended, EmailVerified]

    @extend_schema(
        tags=["moderation"],
        request=SuspendInputSerializer,
        responses={
            200: SuspendOutputSerializer,
            409: OpenApiResponse(description="The account is suspended already."),
        },
    )
    def post(self, request, username):
        data = SuspendInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.user_suspend(
            username=username, moderator=request.user, **data.validated_data
        )
        body = SuspensionOutputSerializer(result.suspension).data
        body["places_rejected"] = result.places_rejected
        body["revisions_rejected"] = result.revisions_rejected
        body["images_rejected"] = result.images_rejected
        return Response(body)


class UserUnsuspendView(APIView):
    """POST /admin/users/{username}/unsuspend."""

    permission_classes = [IsModerator, NotSuspended, EmailVerified]

    @extend_schema(
        tags=["moderation"],
        request=None,
        responses={
            200: SuspensionOutputSerializer,
            409: OpenApiResponse(description="The account is not suspended."),
        },
    )
    def post(self, request, username):
        suspension = services.user_unsuspend(username=username, moderator=request.user)
        return Response(SuspensionOutputSerializer(suspension).data)


# --- Duplicates and merge, trust (docs/moderation.md) ---------------------------------------


class LocationMergeView(APIView):
    """POST /admin/locations/{id}/merge: merge a place into its duplicate `into`."""

    permission_classes = [IsModerator, NotSuspended, EmailVerified]

    @extend_schema(
        tags=["moderation"],
        request=LocationMergeInputSerializer,
        responses={
            200: ModerationLocationOutputSerializer,
            409: OpenApiResponse(
                description="Merging a place into itself, into a merged place, or a place "
                "merged already."
            ),
        },
    )
    def post(self, request, id):
        data = LocationMergeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.location_merge(
            location_id=id, into_id=data.validated_data["into"], moderator=request.user
        )
        location = selectors.moderation_location(location_id=id)
        return Response(
            ModerationLocationOutputSerializer(location, context={"request": request}).data
        )


class UserTrustView(APIView):
    """POST /admin/users/{username}/trust grants trust by hand; DELETE withdraws it."""

    permission_classes = [IsModerator, NotSuspended, EmailVerified]

    @extend_schema(tags=["moderation"], request=None, responses={200: UserTrustOutputSerializer})
    def post(self, request, username):
        user = services.user_trust_grant(username=username, moderator=request.user)
        return Response(UserTrustOutputSerializer(user_trust_state(user)).data)

    @extend_schema(tags=["moderation"], request=None, responses={200: UserTrustOutputSerializer})
    def delete(self, request, username):
        user = services.user_trust_withdraw(username=username, moderator=request.user)
        return Response(UserTrustOutputSerializer(user_trust_state(user)).data)
