"""p50/p95 of the duplicate-candidates statement (docs/benchmarks.md "Duplicate candidates").

    BENCH_DB=placemap_bench_16 .venv/bin/python bench/run_duplicates.py

On a database seeded by bench/seed_places.py, with 5% of the places made pending first:
    UPDATE locations_location SET status='pending', approved_at=NULL
        WHERE abs(hashtext(id::text)) % 20 = 0; VACUUM ANALYZE locations_location;
One connection (c=1); each probe is a submission 22 m from a sampled place with its
name changed ("<name> x"), so every probe finds that place.
"""

import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
import django

django.setup()
import psycopg  # noqa: E402

from bench.common import pg_dsn  # noqa: E402
from locations.selectors.duplicates import (  # noqa: E402
    _candidates_sql,
    _params,
    location_duplicates_sql,
)

dsn = pg_dsn()
random.seed(7)
with psycopg.connect(dsn, autocommit=True) as c:
    rows = c.execute(
        "SELECT id, name, category, ST_Y(point), ST_X(point) FROM locations_location TABLESAMPLE SYSTEM (0.5) LIMIT 3000"
    ).fetchall()
    random.shuffle(rows)

    def run(kind, n=1000):
        times = []
        found = 0
        for _i, name, cat, lat, lon in rows[:n]:
            # a submission next to an existing place, with its name slightly changed
            sql, params = location_duplicates_sql(
                latitude=lat + 0.0002,
                longitude=lon,
                name=name + " x",
                category=cat,
                pending=(kind == "moderator"),
                pending_of_user_id=(42 if kind == "submit" else None),
            )
            t = time.perf_counter()
            r = c.execute(sql, params).fetchall()
            times.append((time.perf_counter() - t) * 1000)
            found += bool(r)
        times.sort()
        print(
            f"{kind:10s} n={n} p50={statistics.median(times):.2f} ms p95={times[int(0.95 * n) - 1]:.2f} ms p99={times[int(0.99 * n) - 1]:.2f} ms max={times[-1]:.2f} ms with-candidates={found}"
        )

    for _ in range(1):
        run("submit", 200)  # warm-up
    run("submit")
    run("public")
    run("moderator")
    ids = [r[0] for r in rows[:50]]
    cand = _candidates_sql(
        origin="s.point::geography(POINT,4326)",
        name="lower(s.name)",
        category="s.category",
        exclude="s.id",
        pending="true",
    )
    sql = f"SELECT s.id, d.* FROM locations_location s CROSS JOIN LATERAL ({cand}) d WHERE s.id = ANY(%(ids)s::uuid[])"
    times = []
    for k in range(50):
        ids = [r[0] for r in rows[k * 50 : (k + 1) * 50]]
        t = time.perf_counter()
        c.execute(sql, {**_params(), "ids": ids}).fetchall()
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    print(
        f"queue page of 50: p50={statistics.median(times):.2f} ms p95={times[int(0.95 * len(times)) - 1]:.2f} ms"
    )
    sql, params = location_duplicates_sql(
        latitude=52.52, longitude=13.405, name="Bakery Berlin", category="cafe", pending=True
    )
    print(
        "\n".join(r[0] for r in c.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params).fetchall())
    )
    print(
        c.execute(
            "SELECT count(*) FROM locations_location WHERE ST_DWithin(point::geography(POINT,4326), ST_SetSRID(ST_MakePoint(13.405,52.52),4326)::geography, 75) AND status='approved'"
        ).fetchone()
    )
