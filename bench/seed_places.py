#!/usr/bin/env python
"""Seed N approved places into the bench database, reproducibly and fast.

    .venv/bin/python bench/seed_places.py --n 1000000 [--seed 42] [--recreate]

Creates `placemap_bench` (PostGIS), runs `manage.py migrate` against it, then replaces
the contents of locations_location: 80% of places around a dozen European cities
(gaussian, isotropic in km), 20% uniform over Europe. Loading is one COPY ... FREEZE
into the truncated table with the secondary indexes dropped and rebuilt afterwards
(building an index once is several times cheaper than maintaining it row by row), then
VACUUM ANALYZE. The generated search_vector column is computed by PostgreSQL.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import BENCH_DB, ensure_database, migrate, pg_dsn

# (name, lon, lat, weight, sigma_km). Weights are rough metro sizes, so the busiest city
# gets about 3x the places of the quietest.
CITIES: list[tuple[str, float, float, float, float]] = [
    ("London", -0.1276, 51.5072, 14, 7.0),
    ("Paris", 2.3522, 48.8566, 13, 6.0),
    ("Berlin", 13.4050, 52.5200, 10, 7.0),
    ("Madrid", -3.7038, 40.4168, 10, 6.0),
    ("Rome", 12.4964, 41.9028, 8, 6.0),
    ("Barcelona", 2.1734, 41.3851, 8, 4.5),
    ("Amsterdam", 4.9041, 52.3676, 6, 4.0),
    ("Vienna", 16.3738, 48.2082, 6, 5.0),
    ("Prague", 14.4378, 50.0755, 6, 5.0),
    ("Warsaw", 21.0122, 52.2297, 7, 6.0),
    ("Lisbon", -9.1393, 38.7223, 6, 4.5),
    ("Stockholm", 18.0686, 59.3293, 6, 5.0),
]
# Uniform share: lon/lat rectangle over Europe.
CONTINENT = (-10.0, 36.0, 30.0, 60.0)
CITY_SHARE = 0.8
KM_PER_DEG_LAT = 111.32

CATEGORY_NOUNS: dict[str, list[str]] = {
    "restaurant": ["Bistro", "Kitchen", "Trattoria", "Brasserie", "Grill", "Diner", "Tavern"],
    "cafe": ["Café", "Coffee House", "Roastery", "Tea Room", "Espresso Bar"],
    "bar": ["Bar", "Pub", "Taproom", "Wine Bar", "Cocktail Lounge"],
    "park": ["Park", "Gardens", "Green", "Common", "Meadow"],
    "museum": ["Museum", "Gallery", "Collection", "Exhibition Hall"],
    "viewpoint": ["Viewpoint", "Lookout", "Terrace", "Overlook"],
    "monument": ["Monument", "Memorial", "Statue", "Column", "Gate"],
    "shop": ["Shop", "Bookshop", "Boutique", "Bakery", "Deli", "Record Store"],
    "market": ["Market", "Market Hall", "Flea Market", "Farmers Market"],
    "library": ["Library", "Reading Room", "Public Library"],
    "playground": ["Playground", "Play Park", "Adventure Playground"],
    "toilet": ["Public Toilet", "Restrooms", "WC"],
    "drinking_water": ["Drinking Fountain", "Water Tap", "Fountain"],
    "other": ["Corner", "Spot", "Place", "Courtyard", "Passage"],
}
ADJECTIVES = [
    "Golden", "Old", "Blue", "Little", "Green", "Royal", "Hidden", "Corner", "Riverside",
    "Sunny", "Red", "Silver", "Quiet", "Grand", "Northern", "Harbour", "Market", "Linden",
    "Oak", "Chestnut", "Copper", "Velvet", "Crooked", "Lantern", "Maple", "Station",
]  # fmt: skip
SURNAMES = [
    "Rossi", "Müller", "Dubois", "García", "Novák", "Kowalski", "Jansen", "Silva", "Berg",
    "Smith", "Bauer", "Moreau", "Ferrari", "Lindqvist", "Horvat", "Costa", "Weber", "Martin",
]  # fmt: skip
STREETS = [
    "High", "Church", "Station", "Mill", "Market", "Park", "River", "Castle", "Bridge",
    "Garden", "King", "Queen", "Chapel", "Harbour", "Linden", "Oak", "School", "Victoria",
]  # fmt: skip
STREET_KINDS = ["Street", "Road", "Lane", "Avenue", "Square", "Way"]

# Description vocabulary. Features are per category so that text queries behave like a
# real map (espresso near cafés, not playgrounds); the first words of each list are
# drawn more often (zipf-like), so queries span common and rare terms.
FEATURES: dict[str, list[str]] = {
    "restaurant": ["pasta", "seafood", "vegan dishes", "wood-fired pizza", "tapas", "ramen",
                   "dumplings", "steak", "a tasting menu", "brunch", "curry", "falafel"],
    "cafe": ["espresso", "cakes", "croissants", "oat milk", "wifi", "cinnamon buns",
             "filter coffee", "board games", "matcha", "sourdough toast"],
    "bar": ["craft beer", "cocktails", "natural wine", "live jazz", "karaoke", "darts",
            "whisky", "cider", "quiz nights", "a rooftop"],
    "park": ["a pond", "old trees", "a rose garden", "a running track", "ducks", "picnic lawns",
             "a bandstand", "tennis courts", "wildflowers", "a sculpture trail"],
    "museum": ["paintings", "fossils", "sculpture", "photography", "maps", "textiles",
               "ceramics", "a planetarium", "archaeology", "clocks"],
    "viewpoint": ["sunset", "skyline", "river views", "sunrise", "a bench", "a telescope",
                  "bridges", "rooftops", "mountains", "the harbour"],
    "monument": ["bronze", "marble", "a plaque", "an inscription", "a fountain", "carvings",
                 "a crypt", "an obelisk", "granite", "mosaics"],
    "shop": ["books", "vinyl", "bread", "cheese", "vintage clothes", "stationery", "toys",
             "bicycles", "flowers", "chocolate"],
    "market": ["fruit", "vegetables", "street food", "antiques", "fish", "spices", "flowers",
               "cheese", "honey", "crafts"],
    "library": ["quiet desks", "wifi", "rare books", "a children's corner", "newspapers",
                "study rooms", "comics", "maps", "a reading garden", "archives"],
    "playground": ["swings", "a sandpit", "a zip line", "slides", "a climbing frame",
                   "a splash pad", "benches", "shade", "a toddler area", "trampolines"],
    "toilet": ["baby changing", "step-free access", "a hand dryer", "attendants", "showers",
               "a radar key", "clean basins", "night opening", "free entry", "wide doors"],
    "drinking_water": ["cold water", "a bottle filler", "a dog bowl", "cast iron", "a spout",
                       "filtered water", "a push button", "shade", "a bench", "a lion head"],
    "other": ["murals", "street art", "a courtyard", "cobblestones", "history", "a clock",
              "graffiti", "ivy", "lanterns", "a fountain"],
}  # fmt: skip
OPENERS = [
    "A {adj} {kind} known for {f1}.",
    "Locals come here for {f1} and {f2}.",
    "{Adj} {kind} with {f1}, {f2} and friendly staff.",
    "Small {kind} near the {street} {street_kind}, good for {f1}.",
    "Busy at weekends; best visited early for {f1}.",
]
EXTRAS = [
    "Open late in summer.",
    "Step-free entrance on the side street.",
    "Cash only on market days.",
    "Dogs welcome.",
    "Quiet on weekday mornings.",
    "Popular with students and families.",
    "Seasonal hours, check before you go.",
    "Easy to reach by tram.",
    "",
    "",
]
DESCRIPTIVE = ["cosy", "historic", "lively", "quiet", "bright", "family-run", "tiny",
               "spacious", "charming", "modern", "rustic", "hidden"]  # fmt: skip


def zipf_choice(rng: random.Random, items: list[str]) -> str:
    # Weight 1/(rank+1): the head of each list is a common word, the tail a rare one.
    index = min(int(len(items) * rng.random() ** 2.2), len(items) - 1)
    return items[index]


def city_point(rng: random.Random) -> tuple[float, float, str]:
    lon0, lat0, name, sigma = _CITY_PICK[rng.choices(_CITY_INDEX, _CITY_WEIGHTS)[0]]
    dy_km = rng.gauss(0.0, sigma)
    dx_km = rng.gauss(0.0, sigma)
    lat = lat0 + dy_km / KM_PER_DEG_LAT
    lon = lon0 + dx_km / (KM_PER_DEG_LAT * math.cos(math.radians(lat0)))
    return lon, lat, name


_CITY_PICK = [(lon, lat, name, sigma) for name, lon, lat, _w, sigma in CITIES]
_CITY_INDEX = list(range(len(CITIES)))
_CITY_WEIGHTS = [w for _n, _lon, _lat, w, _s in CITIES]
# The categories migration 0012 creates (locations.Category), in their order.
_CATEGORY_SLUGS = list(CATEGORY_NOUNS)
# Food and drink dominate real maps; toilets and water taps are rarer.
_CATEGORY_WEIGHTS = [18, 14, 10, 8, 4, 3, 4, 16, 3, 2, 4, 2, 2, 10]


def generate_rows(n: int, seed: int):
    """Yield COPY text lines (tab separated), deterministic for a given seed."""
    rng = random.Random(seed)
    now = datetime(2026, 11, 1, tzinfo=UTC)
    three_years = 3 * 365 * 24 * 3600
    for _ in range(n):
        if rng.random() < CITY_SHARE:
            lon, lat, city = city_point(rng)
        else:
            lon = rng.uniform(CONTINENT[0], CONTINENT[2])
            lat = rng.uniform(CONTINENT[1], CONTINENT[3])
            city = "Europe"
        category = rng.choices(_CATEGORY_SLUGS, _CATEGORY_WEIGHTS)[0]
        kind = rng.choice(CATEGORY_NOUNS[category])
        features = FEATURES[category]
        roll = rng.random()
        if roll < 0.4:
            name = f"{rng.choice(ADJECTIVES)} {kind}"
        elif roll < 0.7:
            name = f"{rng.choice(SURNAMES)}'s {kind}"
        else:
            name = f"{kind} {rng.choice(STREETS)} {rng.choice(STREET_KINDS)}"
        adj = rng.choice(DESCRIPTIVE)
        street = rng.choice(STREETS)
        street_kind = rng.choice(STREET_KINDS)
        f1 = zipf_choice(rng, features)
        f2 = zipf_choice(rng, [f for f in features if f != f1])
        sentence = rng.choice(OPENERS).format(
            adj=adj,
            Adj=adj.capitalize(),
            kind=kind.lower(),
            f1=f1,
            f2=f2,
            street=street,
            street_kind=street_kind,
        )
        extra = rng.choice(EXTRAS)
        description = f"{sentence} {extra}".strip()
        address = f"{rng.randint(1, 240)} {street} {street_kind}, {city}"
        created = now - timedelta(seconds=rng.randrange(three_years))
        approved = created + timedelta(seconds=rng.randrange(60, 72 * 3600))
        place_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        yield (
            f"{place_id}\t{name}\t{description}\t{category}\t{address}\t"
            f"SRID=4326;POINT({lon:.6f} {lat:.6f})\tapproved\t"
            f"{created.isoformat()}\t{created.isoformat()}\t{approved.isoformat()}\n"
        )


COLUMNS = (
    "id, name, description, category, address, point, status, created_at, updated_at, approved_at"
)


def secondary_indexes(conn) -> list[tuple[str, str]]:
    """Indexes of the table that no constraint owns (those can be dropped and rebuilt)."""
    return conn.execute(
        """
        SELECT i.relname, pg_get_indexdef(i.oid)
        FROM pg_index x
        JOIN pg_class i ON i.oid = x.indexrelid
        WHERE x.indrelid = 'locations_location'::regclass
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)
        ORDER BY i.relname
        """
    ).fetchall()


def seed(n: int, seed_value: int, dbname: str) -> dict:
    import psycopg

    timings: dict[str, float] = {}
    with psycopg.connect(pg_dsn(dbname)) as conn:
        conn.execute("SET maintenance_work_mem = '1GB'")
        conn.execute("SET synchronous_commit = off")
        indexes = secondary_indexes(conn)
        started = time.perf_counter()
        with conn.transaction():
            # TRUNCATE + COPY in one transaction allows FREEZE: rows are written already
            # frozen and all-visible, so no later VACUUM has to rewrite 1M tuples.
            # CASCADE empties the bench copies of the tables pointing at places (images,
            # moderation log); the bench database holds nothing else worth keeping.
            conn.execute("TRUNCATE locations_location CASCADE")
            # The submitter FK is DEFERRABLE INITIALLY DEFERRED: queued checks would block
            # CREATE INDEX in this transaction ("pending trigger events").
            conn.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for name, _definition in indexes:
                conn.execute(f'DROP INDEX "{name}"')
            copy_sql = f"COPY locations_location ({COLUMNS}) FROM STDIN FREEZE"
            with conn.cursor() as cur, cur.copy(copy_sql) as copy:
                buffer: list[str] = []
                for index, line in enumerate(generate_rows(n, seed_value), 1):
                    buffer.append(line)
                    if len(buffer) >= 5000:
                        copy.write("".join(buffer))
                        buffer.clear()
                    if index % 200_000 == 0:
                        elapsed = time.perf_counter() - started
                        print(f"  copied {index:>9,} rows  {elapsed:6.1f} s", flush=True)
                if buffer:
                    copy.write("".join(buffer))
            timings["copy_s"] = time.perf_counter() - started
            index_started = time.perf_counter()
            for name, definition in indexes:
                one = time.perf_counter()
                conn.execute(definition)
                timings[f"index_{name}_s"] = time.perf_counter() - one
                print(f"  built {name} in {timings[f'index_{name}_s']:.1f} s", flush=True)
            timings["indexes_s"] = time.perf_counter() - index_started
    with psycopg.connect(pg_dsn(dbname), autocommit=True) as conn:
        one = time.perf_counter()
        conn.execute("VACUUM (ANALYZE) locations_location")
        timings["vacuum_analyze_s"] = time.perf_counter() - one
        count = conn.execute("SELECT count(*) FROM locations_location").fetchone()[0]
        size = conn.execute(
            "SELECT pg_size_pretty(pg_total_relation_size('locations_location'))"
        ).fetchone()[0]
    timings["total_s"] = time.perf_counter() - started
    return {"rows": count, "table_size": size, "timings": timings}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="places to seed")
    parser.add_argument("--seed", type=int, default=42, help="random seed (same seed, same rows)")
    parser.add_argument("--db", default=BENCH_DB, help="database name (default placemap_bench)")
    parser.add_argument("--recreate", action="store_true", help="drop and recreate the database")
    parser.add_argument("--skip-migrate", action="store_true")
    args = parser.parse_args(argv)
    if not args.db.startswith("placemap_bench"):
        parser.error("the bench only writes to databases named placemap_bench*")

    started = time.perf_counter()
    ensure_database(args.db, recreate=args.recreate)
    if not args.skip_migrate:
        migrate(args.db)
    print(f"migrated {args.db} in {time.perf_counter() - started:.1f} s; seeding {args.n:,} places")
    report = seed(args.n, args.seed, args.db)
    t = report["timings"]
    print(
        f"seeded {report['rows']:,} places ({report['table_size']}) in {t['total_s']:.1f} s: "
        f"COPY {t['copy_s']:.1f} s, indexes {t['indexes_s']:.1f} s, "
        f"VACUUM ANALYZE {t['vacuum_analyze_s']:.1f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
