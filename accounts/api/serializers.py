from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.validators import RegexValidator
from rest_framework import serializers

from accounts.models import User
from accounts.selectors import user_is_moderator
from accounts.usernames import SKELETON_MAX_LENGTH, username_skeleton
from config.text import CleanCharField


class RegisterInputSerializer(serializers.Serializer):
    # clean_text() first (config.text), so invisible characters and surrounding spaces
    # neither count toward the length nor make a look-alike name.
    username = CleanCharField(
        max_length=150,
        min_length=3,
        validators=[
            RegexValidator(r"^[\w.@+-]+\Z", message="Use letters, digits and @/./+/-/_ only.")
        ],
    )
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(write_only=True, max_length=128, trim_whitespace=False)
    # The language of the account's mails; without it, the request's Accept-Language
    # (the view's default), else English.
    language = serializers.ChoiceField(choices=settings.LANGUAGES, required=False)

    def validate_username(self, value: str) -> str:
        # NFKC can lengthen a name (one ligature becomes many letters).
        if len(username_skeleton(value)) > SKELETON_MAX_LENGTH:
            raise serializers.ValidationError("This username is too long once normalised.")
        return value

    def validate(self, attrs):
        # Django's validators, with the user's own attributes for the similarity check.
        candidate = User(username=attrs["username"], email=attrs["email"])
        try:
            validate_password(attrs["password"], user=candidate)
        except Exception as exc:
            raise serializers.ValidationError({"password": list(exc.messages)}) from None
        return attrs


class PasswordResetInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class PasswordResetConfirmInputSerializer(serializers.Serializer):
    # Validators need the account: the service runs them and names new_password.
    uid = serializers.CharField(max_length=64)
    token = serializers.CharField(max_length=128)
    new_password = serializers.CharField(max_length=128, trim_whitespace=False)


class PasswordChangeInputSerializer(serializers.Serializer):
    old_password = serializers.CharField(max_length=128, trim_whitespace=False)
    new_password = serializers.CharField(max_length=128, trim_whitespace=False)


class EmailVerifyInputSerializer(serializers.Serializer):
    uid = serializers.CharField(max_length=64)
    token = serializers.CharField(max_length=128)


class MeUpdateInputSerializer(serializers.Serializer):
    """PATCH /me: every field optional; a field /me shows but cannot change here
    (username, id, ...) is refused by name rather than silently ignored."""

    email = serializers.EmailField(max_length=254, required=False)
    language = serializers.ChoiceField(choices=settings.LANGUAGES, required=False)

    def validate(self, attrs):
        unknown = sorted(set(getattr(self, "initial_data", {}) or {}) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(
                {name: ["This field cannot be changed here."] for name in unknown}
            )
        return attrs


class TokenInputSerializer(serializers.Serializer):
    username = CleanCharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class TokenOutputSerializer(serializers.Serializer):
    token = serializers.CharField(source="key")


class UserOutputSerializer(serializers.ModelSerializer):
    is_moderator = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "email",
            "email_verified",
            "language",
            "date_joined",
            "is_moderator",
        ]

    def get_is_moderator(self, user) -> bool:
        return user_is_moderator(user)


class EraseInputSerializer(serializers.Serializer):
    """DELETE /me: the password confirms it is the person, `places` is their choice."""

    password = serializers.CharField(max_length=128, trim_whitespace=False)
    places = serializers.ChoiceField(
        choices=[
            ("keep", "Keep my places on the map, without my name"),
            ("delete", "Delete my places and their photos"),
        ]
    )

    def validate_password(self, value: str) -> str:
        if not self.context["user"].check_password(value):
            raise serializers.ValidationError("Wrong password.")
        return value


class ErasureOutputSerializer(serializers.Serializer):
    places_deleted = serializers.IntegerField()
    places_anonymized = serializers.IntegerField()
    images_deleted = serializers.IntegerField()
