"""POST /images/upload, GET and DELETE /images/{id}."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import EmailVerified, NotSuspended
from media_store import selectors, services, storage
from media_store.api.serializers import ImageDetailSerializer, ImageUploadInputSerializer
from media_store.api.throttles import UploadRateThrottle
from media_store.api.upload_handlers import (
    FILE_FIELD,
    BoundedImageUploadHandler,
    refuse_oversized_body,
)


class ImageUploadView(APIView):
    permission_classes = [IsAuthenticated, NotSuspended, EmailVerified]
    parser_classes = [MultiPartParser]
    throttle_classes = [UploadRateThrottle]

    def initialize_request(self, request, *args, **kwargs):
        # Installed before anything can parse the body (SessionAuthentication's CSRF
        # check reads request.POST, which would otherwise use Django's default handlers).
        request.upload_handlers = [BoundedImageUploadHandler(request)]
        return super().initialize_request(request, *args, **kwargs)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authentication, permission, throttle
        # Both before the body is read: a too-large body is refused unread, and while
        # storage is down the client is told at once instead of uploading in vain.
        refuse_oversized_body(request.META)
        storage.raise_if_unavailable()

    @extend_schema(
        request={"multipart/form-data": ImageUploadInputSerializer},
        responses={
            201: ImageDetailSerializer,
            400: OpenApiResponse(
                description="Corrupt, truncated, too many pixels, empty, "
                "no file, or location_id not one of your places."
            ),
            403: OpenApiResponse(
                description="Your account is suspended (the detail gives the reason and "
                "the end date)."
            ),
            413: OpenApiResponse(description="Larger than IMAGE_UPLOAD_MAX_BYTES."),
            415: OpenApiResponse(description="Not a JPEG, PNG or WebP image (by content)."),
            503: OpenApiResponse(
                description="Photo storage is down, or every decode slot of the server "
                "stayed busy (IMAGE_MAX_CONCURRENT_DECODES); see Retry-After."
            ),
        },
        summary="Upload a photo (JPEG, PNG or WebP), optionally to one of your places",
    )
    def post(self, request):
        params = ImageUploadInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        upload = params.validated_data[FILE_FIELD]
        # Its errors (imaging, targets, storage) are ApplicationErrors: the problem
        # handler answers them.
        image = services.image_upload(
            uploader=request.user,
            data=upload.read(),
            location_id=params.validated_data.get("location_id"),
        )
        body = ImageDetailSerializer(image).data
        return Response(body, status=status.HTTP_201_CREATED)


class ImageDetailView(APIView):
    permission_classes = [IsAuthenticated, NotSuspended, EmailVerified]

    @extend_schema(responses={200: ImageDetailSerializer}, summary="One of your photos")
    def get(self, request, id):
        image = selectors.image_get_for_user(image_id=id, user=request.user)
        return Response(ImageDetailSerializer(image).data)

    @extend_schema(responses={204: None}, summary="Delete a photo and its stored files")
    def delete(self, request, id):
        image = selectors.image_get_for_user(image_id=id, user=request.user)
        services.image_delete(image=image)
        return Response(status=status.HTTP_204_NO_CONTENT)
