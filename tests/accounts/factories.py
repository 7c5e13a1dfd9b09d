import factory
from django.conf import settings
from django.contrib.auth.models import Group

from accounts.models import User

DEFAULT_PASSWORD = "a-Long-test-passw0rd"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    # Verified, like every account older than the rule (migration 0005): a test about
    # an unverified one says so (tests/accounts/test_email_verification.py).
    email_verified = True
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class ModeratorFactory(UserFactory):
    username = factory.Sequence(lambda n: f"moderator{n}")

    @factory.post_generation
    def moderators_group(obj, create, extracted, **kwargs):
        if create:
            group, _ = Group.objects.get_or_create(name=settings.MODERATORS_GROUP)
            obj.groups.add(group)
