"""A place's Feature built by hand (locations.geojson.location_feature_dict) against
drf-gis' GeoFeatureModelSerializer, for 200 places (a full page of GET /me/locations),
without the database: `.venv/bin/python bench/feature_serializers.py`. The figures are
in docs/benchmarks.md."""

import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    from django.contrib.gis.geos import Point
    from django.utils import timezone
    from rest_framework_gis.serializers import GeoFeatureModelListSerializer

    from locations.geojson import LocationFeatureSerializer, location_feature_dict
    from locations.models import Location

    class DrfGisList(LocationFeatureSerializer):
        class Meta(LocationFeatureSerializer.Meta):
            list_serializer_class = GeoFeatureModelListSerializer

    random.seed(1)
    now = timezone.now()
    places = []
    for index in range(200):
        lon, lat = round(random.uniform(-180, 180), 9), round(random.uniform(-90, 90), 9)
        place = Location(
            id=uuid.uuid4(),
            name=f"Place {index}",
            description="d" * 80,
            category="park",
            status="approved",
            point=Point(lon, lat, srid=4326),
            created_at=now,
            updated_at=now,
            approved_at=now,
        )
        place._prefetched_objects_cache = {"images": []}
        places.append(place)

    paths = {
        "hand-built": lambda: [location_feature_dict(p) for p in places],
        "drf-gis many=True": lambda: DrfGisList(places, many=True).data,
        "drf-gis one serializer per place": lambda: [
            LocationFeatureSerializer(p).data for p in places
        ],
    }
    timings: dict[str, list[float]] = {name: [] for name in paths}
    for _ in range(7):
        for name, build in paths.items():
            started = time.perf_counter()
            build()
            timings[name].append((time.perf_counter() - started) * 1000)
    for name, values in timings.items():
        median = statistics.median(values)
        print(f"{name}: {median:.1f} ms per 200 Features ({median * 5:.0f} us each)")
    print("load average", os.getloadavg())


if __name__ == "__main__":
    main()
