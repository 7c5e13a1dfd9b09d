from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import AuthenticationFailed, ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.api.serializers import (
    RegisterInputSerializer,
    TokenInputSerializer,
    TokenOutputSerializer,
    UserOutputSerializer,
)
from accounts.api.throttles import AuthRateThrottle


class RegisterView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [AuthRateThrottle]

    @extend_schema(request=RegisterInputSerializer, responses={201: UserOutputSerializer})
    def post(self, request):
        data = RegisterInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            user = services.user_register(**data.validated_data)
        except services.UsernameTaken:
            raise ValidationError({"username": ["This username is already taken."]}) from None
        return Response(UserOutputSerializer(user).data, status=status.HTTP_201_CREATED)


class TokenView(APIView):
    throttle_classes = [AuthRateThrottle]

    def get_permissions(self):
        if self.request.method == "DELETE":
            return [IsAuthenticated()]
        return [AllowAny()]

    @extend_schema(request=TokenInputSerializer, responses={200: TokenOutputSerializer})
    def post(self, request):
        data = TokenInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            token = services.token_obtain(**data.validated_data)
        except services.InvalidCredentials:
            raise AuthenticationFailed("Unknown username or wrong password.") from None
        return Response(TokenOutputSerializer(token).data)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request):
        services.token_revoke(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: UserOutputSerializer})
    def get(self, request):
        return Response(UserOutputSerializer(request.user).data)
