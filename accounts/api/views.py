import tempfile

from django.contrib.auth import logout, update_session_auth_hash
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.api.serializers import (
    EmailVerifyInputSerializer,
    EraseInputSerializer,
    ErasureOutputSerializer,
    MeUpdateInputSerializer,
    PasswordChangeInputSerializer,
    PasswordResetConfirmInputSerializer,
    PasswordResetInputSerializer,
    RegisterInputSerializer,
    TokenInputSerializer,
    TokenOutputSerializer,
    UserOutputSerializer,
)
from accounts.api.throttles import (
    AuthRateThrottle,
    GdprRateThrottle,
    PasswordChangeRateThrottle,
    PasswordResetRateThrottle,
    VerifyResendRateThrottle,
)
from accounts.permissions import NotSuspended
from config import languages

# Exports up to this size are built in memory; bigger ones spill to a temporary file.
EXPORT_SPOOL_BYTES = 16 * 1024 * 1024


class RegisterView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [AuthRateThrottle]

    @extend_schema(
        request=RegisterInputSerializer,
        responses={201: UserOutputSerializer},
        description="Create an account. Unless the server's ACCOUNT_EMAIL_VERIFICATION is "
        "`none`, a verification link is mailed to the address (docs/accounts.md). "
        "`language` (en, de, fr) is the language of the account's mails; without it, the "
        "request's Accept-Language, else English.",
    )
    def post(self, request):
        data = RegisterInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        # Accept-Language (q-values, de-DE -> de) against LANGUAGES; English otherwise:
        # the negotiation of every translated answer (config.languages).
        fields.setdefault("language", languages.negotiate(request))
        user = services.user_register(**fields)
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
        except services.InvalidCredentials as exc:
            # Not left to the handler: only DRF's AuthenticationFailed gets the
            # WWW-Authenticate header (and stays a 401).
            raise AuthenticationFailed(exc.detail) from None
        return Response(TokenOutputSerializer(token).data)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request):
        services.token_revoke(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordResetView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [PasswordResetRateThrottle]

    @extend_schema(
        request=PasswordResetInputSerializer,
        responses={202: None},
        description="Mail a password reset link to the accounts with this address. 202 "
        "whether or not one exists (no account enumeration). See docs/accounts.md.",
    )
    def post(self, request):
        data = PasswordResetInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.password_reset_request(**data.validated_data)
        return Response(status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [AuthRateThrottle]

    @extend_schema(
        request=PasswordResetConfirmInputSerializer,
        responses={204: None},
        description="Set a new password with the `uid` and `token` of a reset link; "
        "every API token of the account is revoked.",
    )
    def post(self, request):
        data = PasswordResetConfirmInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.password_reset_confirm(**data.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordChangeView(APIView):
    # A suspended user may still change their password (tests/accounts/
    # test_suspension_coverage.py exempts it, like /auth/token).
    permission_classes = [IsAuthenticated]
    throttle_classes = [PasswordChangeRateThrottle]

    @extend_schema(
        request=PasswordChangeInputSerializer,
        responses={204: None},
        description="Change your password. Your API token is revoked (sign in again with "
        "POST /auth/token); a browser session stays signed in.",
    )
    def post(self, request):
        data = PasswordChangeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.password_change(user=request.user, **data.validated_data)
        if isinstance(request.successful_authenticator, SessionAuthentication):
            # This browser's session stays valid; other sessions end (the hash changed).
            update_session_auth_hash(request._request, user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class EmailVerifyView(APIView):
    # Opened from a mail, maybe on another device: the link is the proof, not a sign-in.
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [AuthRateThrottle]

    @extend_schema(
        request=EmailVerifyInputSerializer,
        responses={204: None},
        description="Mark the account's email address verified with the `uid` and `token` "
        "of a verification link. A link works once, for EMAIL_VERIFICATION_TIMEOUT, and "
        "only for the address it was sent to (docs/accounts.md).",
    )
    def post(self, request):
        data = EmailVerifyInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.email_verify(**data.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class EmailVerifyResendView(APIView):
    # An unverified or suspended user may ask for a new link (the way out of the gate).
    permission_classes = [IsAuthenticated]
    throttle_classes = [VerifyResendRateThrottle]

    @extend_schema(
        request=None,
        responses={
            202: None,
            409: OpenApiResponse(
                description="Nothing to verify: the address is verified already, the "
                "account has none, or verification is off on this server."
            ),
        },
        description="Mail a new verification link to your address (throttled per user: "
        "THROTTLE_VERIFY_RESEND).",
    )
    def post(self, request):
        services.email_verification_resend(user=request.user)
        return Response(status=status.HTTP_202_ACCEPTED)


class MeView(APIView):
    def get_permissions(self):
        # PATCH: not while suspended, but without a verified address: correcting a
        # mistyped address (and the mails' language) is how an unverified user gets out.
        # DELETE: the GDPR erasure, a right neither takes away.
        if self.request.method == "PATCH":
            return [IsAuthenticated(), NotSuspended()]
        return [IsAuthenticated()]

    def get_throttles(self):
        # Only erasure checks a password; reading the profile is not rate-limited here.
        return [GdprRateThrottle()] if self.request.method == "DELETE" else super().get_throttles()

    @extend_schema(responses={200: UserOutputSerializer})
    def get(self, request):
        return Response(UserOutputSerializer(request.user).data)

    @extend_schema(
        request=MeUpdateInputSerializer,
        responses={200: UserOutputSerializer},
        description="Change your `email` or `language` (en, de, fr: the language of your "
        "mails). A new address is unverified until you open the link mailed to it "
        "(docs/accounts.md); other fields are refused by name.",
    )
    def patch(self, request):
        data = MeUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_update(user=request.user, **data.validated_data)
        return Response(UserOutputSerializer(user).data)

    @extend_schema(
        request=EraseInputSerializer,
        responses={
            200: ErasureOutputSerializer,
            # A DELETE body is not documented by OpenAPI 3.0 tools; its refusals are.
            400: OpenApiResponse(description="Wrong password, or `places` not keep/delete."),
            413: OpenApiResponse(description="The body is larger than the server accepts."),
            415: OpenApiResponse(description="The body's Content-Type is not JSON or a form."),
        },
        description='Erase the account (GDPR art. 17). Body: `{"password": current password, '
        '"places": "keep" (anonymized) or "delete"}`. See docs/gdpr.md.',
    )
    def delete(self, request):
        data = EraseInputSerializer(data=request.data, context={"user": request.user})
        data.is_valid(raise_exception=True)
        summary = services.user_erase(
            user=request.user, delete_places=data.validated_data["places"] == "delete"
        )
        if request.session is not None:
            logout(request)  # a browser session of a deleted account ends here too
        return Response(ErasureOutputSerializer(summary).data)


class MeExportView(APIView):
    permission_classes = [IsAuthenticated]
    throttle_classes = [GdprRateThrottle]

    @extend_schema(
        responses={
            (200, "application/zip"): OpenApiResponse(
                response=OpenApiTypes.BINARY,
                description="ZIP: data.json and photos/ (docs/gdpr.md)",
            )
        }
    )
    def get(self, request):
        spool = tempfile.SpooledTemporaryFile(max_size=EXPORT_SPOOL_BYTES)  # noqa: SIM115 (FileResponse closes it)
        try:
            # ExportUnavailable (storage down) is answered 503 by the problem handler.
            summary = services.user_export(user=request.user, out=spool)
        except BaseException:
            spool.close()
            raise
        spool.seek(0)
        response = FileResponse(
            spool, as_attachment=True, filename=summary.filename, content_type="application/zip"
        )
        response["Cache-Control"] = "private, no-store"
        return response
