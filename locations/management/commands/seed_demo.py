"""Demo data for `make run`: three cities of approved places, a few pending ones, and an
admin, a moderator and a plain user. Idempotent: a second run changes nothing."""

import random
import uuid

from django.contrib.gis.geos import Point
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts import services as account_services
from accounts.models import User
from locations.categories import active_slugs
from locations.models import Location, LocationStatus

DEMO_NAMESPACE = uuid.UUID("6f1c9c1e-4c7b-4a8e-9a57-0d1f4c3b2a10")
CITIES = {
    "Berlin": (13.4050, 52.5200),
    "Paris": (2.3522, 48.8566),
    "Lisbon": (-9.1393, 38.7223),
}
PLACES_PER_CITY = 120
PENDING_PER_CITY = 4
ADJECTIVES = [
    "Quiet",
    "Sunny",
    "Old",
    "Little",
    "Green",
    "Hidden",
    "Grand",
    "Corner",
    "Riverside",
    "Blue",
]
NOUNS = {
    "restaurant": "Kitchen",
    "cafe": "Coffee House",
    "bar": "Tavern",
    "park": "Garden",
    "museum": "Museum",
    "viewpoint": "Lookout",
    "monument": "Monument",
    "shop": "Store",
    "market": "Market",
    "library": "Library",
    "playground": "Playground",
    "toilet": "Public Toilet",
    "drinking_water": "Fountain",
    "other": "Spot",
}
DESCRIPTIONS = [
    "Friendly staff, shaded seating and a view of the square.",
    "Open late; locals recommend it for a quiet evening.",
    "Step-free access, benches and a water fountain nearby.",
    "A favourite with families at weekends; busy around noon.",
    "Historic building restored in the nineties, worth a detour.",
]
DEMO_USERS = [
    # username, password, staff, superuser, moderator
    ("admin", "placemap-admin", True, True, False),
    ("moderator", "placemap-moderator", True, False, True),
    ("alice", "placemap-alice", False, False, False),
]


class Command(BaseCommand):
    help = "Create demo users and places (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options):
        users = {
            name: self._user(name, pw, staff, su, mod) for name, pw, staff, su, mod in DEMO_USERS
        }
        created = self._places(submitter=users["alice"])
        self.stdout.write(self.style.SUCCESS(f"Demo places: {created} created."))
        self.stdout.write("Demo accounts (password / API token):")
        for name, password, *_ in DEMO_USERS:
            token, _ = Token.objects.get_or_create(user=users[name])
            self.stdout.write(f"  {name:<10} {password:<20} Token {token.key}")

    def _user(self, username, password, staff, superuser, moderator) -> User:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "email": f"{username}@placemap.local",
                "is_staff": staff,
                "is_superuser": superuser,
            },
        )
        if created:
            user.set_password(password)
            user.save(update_fields=["password"])
        # Demo addresses (@placemap.local) receive nothing: vouched for, so the demo
        # accounts may write under ACCOUNT_EMAIL_VERIFICATION=mandatory.
        account_services.email_mark_verified(user=user)
        if moderator:
            account_services.moderator_grant(user=user)
        return user

    def _places(self, *, submitter: User) -> int:
        rng = random.Random(2026)  # noqa: S311 (reproducible demo data, not secrets)
        now = timezone.now()
        rows = []
        # The demo's categories that exist and are active (an operator may have changed them).
        active = active_slugs(fresh=True)
        slugs = [slug for slug in NOUNS if slug in active]
        for city, (lon, lat) in CITIES.items():
            for n in range(PLACES_PER_CITY + PENDING_PER_CITY):
                category = rng.choice(slugs)
                external_id = f"demo-{city.lower()}-{n}"
                approved = n < PLACES_PER_CITY
                rows.append(
                    Location(
                        id=uuid.uuid5(DEMO_NAMESPACE, external_id),
                        external_id=external_id,
                        name=f"{rng.choice(ADJECTIVES)} {NOUNS[category]} {n + 1}",
                        description=f"{rng.choice(DESCRIPTIONS)} In {city}.",
                        category=category,
                        point=Point(lon + rng.gauss(0, 0.03), lat + rng.gauss(0, 0.02), srid=4326),
                        status=LocationStatus.APPROVED if approved else LocationStatus.PENDING,
                        approved_at=now if approved else None,
                        submitter=submitter,
                    )
                )
        before = Location.objects.filter(external_id__startswith="demo-").count()
        Location.objects.bulk_create(rows, ignore_conflicts=True)
        return Location.objects.filter(external_id__startswith="demo-").count() - before
