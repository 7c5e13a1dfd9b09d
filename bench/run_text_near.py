#!/usr/bin/env python
"""Text near a point (issue 17): index and plan strategies measured on the SQL alone.

    BENCH_DB=placemap_bench_text .venv/bin/python bench/run_text_near.py \
        [--strategies current,knn_filter,gin_bitmap] [--duration 8] [--repeats 3]

The queries are bench/run_places.py's text case (same seed: a point near a seeded city,
radius 2 km, one of its 30 words and phrases), split by how many of the 1M places match
the words: common (> 50,000), mid (15,000-50,000) and rare (< 15,000). Each strategy is
the search selector's own statement (locations.selectors.locations_search_sql, through
the API's input serializer) with only its row source rewritten, so the JSON built and
the page are the same; it is run from 1 and 8 threads, one connection each, like the
places bench's floor. Prints p50/p95 per strategy, class and concurrency with the load
average, and writes bench/results/text-near-*.json and .md.

Strategies (which indexes exist is up to the caller; each prints the plan it got):
- current: the selector as it is.
- knn_filter: KNN walk on location_geog_approved_gist, words tested row by row
  (ts_match_vq, which no index can answer).
- gin_bitmap: `search_vector @@ query` with index scans off: the GIN bitmap (ANDed with
  the geography GiST's, or alone), then the disc's matches sorted by distance.
- indexed_knn: the words on `(search_vector || '')` (the same vector) left to the
  planner: with location_geog_text_gist, a GiST on the geography and that expression
  (migration 0012), it is a KNN walk that tests the words inside the index. (The first
  runs indexed plain `search_vector` and filtered with `search_vector @@ query`.)
- cell_gin: btree_gin on (grid cell, search_vector): the cells covering the disc's box
  AND the words, as one GIN bitmap (needs btree_gin and the index CELL_INDEX below).
- by_frequency: word statistics pick the plan: gin_bitmap for rare words, knn_filter
  otherwise.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common
from bench.run_places import TEXT_QUERIES, TEXT_RADIUS_M, _near_city, run_floor

CLASSES = ("common", "mid", "rare")
COMMON_MIN, RARE_MAX = 50_000, 15_000
STRATEGIES = (
    "current",
    "knn_filter",
    "gin_bitmap",
    "indexed_knn",
    "cell_gin",
    "by_frequency",
)
# The selector's text filter (location_geog_text_gist's expression), the words tested
# row by row (no index can answer ts_match_vq), and the GIN-usable spelling.
NEAR_FILTER = "(l.search_vector || ''::tsvector) @@ query"
ROW_FILTER = "ts_match_vq(l.search_vector, query)"
INDEX_FILTER = "l.search_vector @@ query"
# cell_gin: a cell is 0.02 degrees square (2.2 km of latitude); the index expression and
# the query's cells must agree.
CELL_DEG = 0.02
CELL_SQL = "(floor(ST_Y(l.point) / 0.02)::int8 * 100000 + floor(ST_X(l.point) / 0.02)::int8 + 9000)"
CELL_INDEX = (
    "CREATE INDEX text_cell_tsv_gin ON locations_location USING gin "
    "((floor(ST_Y(point) / 0.02)::int8 * 100000 + floor(ST_X(point) / 0.02)::int8 + 9000), "
    "search_vector) WHERE status = 'approved'"
)


def text_queries(count: int, seed: int) -> list[dict]:
    """The text case's parameters exactly as bench/run_places.py draws them."""
    rng = random.Random(seed)
    queries = []
    for _ in range(count):
        _near_city(rng)  # the radius case's draw
        lon, lat = _near_city(rng)
        q = rng.choice(TEXT_QUERIES)
        queries.append({"lat": lat, "lon": lon, "radius": TEXT_RADIUS_M, "q": q})
    return queries


def word_counts(conn) -> dict[str, int]:
    return {
        q: conn.execute(
            "SELECT count(*) FROM locations_location WHERE status = 'approved' "
            "AND search_vector @@ websearch_to_tsquery('english', %s)",
            [q],
        ).fetchone()[0]
        for q in TEXT_QUERIES
    }


def word_class(matches: int) -> str:
    if matches > COMMON_MIN:
        return "common"
    return "rare" if matches < RARE_MAX else "mid"


def _cells(params: dict) -> list[int]:
    """The grid cells covering the disc's bounding box (with one cell of margin)."""
    lat, lon, radius = params["lat"], params["lon"], float(params["radius"])
    dlat = radius / 111_000.0
    dlon = radius / (111_000.0 * max(math.cos(math.radians(min(abs(lat) + dlat, 89.9))), 1e-6))
    rows = range(math.floor((lat - dlat) / CELL_DEG) - 1, math.floor((lat + dlat) / CELL_DEG) + 2)
    cols = range(math.floor((lon - dlon) / CELL_DEG) - 1, math.floor((lon + dlon) / CELL_DEG) + 2)
    return [r * 100_000 + c + 9000 for r in rows for c in cols]


def statement(strategy: str, params: dict, klass: str) -> tuple[str, dict]:
    from bench import selector_sql

    sql, bound = selector_sql.statement("text", params)
    if strategy == "current":
        return sql, bound
    if strategy == "by_frequency":
        strategy = "gin_bitmap" if klass == "rare" else "knn_filter"
    # Derive every variant from the row-by-row test.
    sql = sql.replace(NEAR_FILTER, ROW_FILTER)
    if strategy == "knn_filter":
        return sql, bound
    if strategy == "indexed_knn":
        return sql.replace(ROW_FILTER, NEAR_FILTER), bound
    sql = sql.replace(ROW_FILTER, INDEX_FILTER)
    if strategy == "gin_bitmap":
        return "SET LOCAL enable_indexscan = off;\n" + sql, bound
    if strategy == "cell_gin":
        bound = dict(bound, cells=_cells(params))
        sql = sql.replace(INDEX_FILTER, f"{INDEX_FILTER} AND {CELL_SQL} = ANY(%(cells)s::int8[])")
        # The planner underestimates the disc and would AND in the geography GiST's
        # bitmap instead; another spelling of the same cast keeps that index out.
        sql = sql.replace(
            "ST_DWithin(l.point::geography(POINT,4326)", "ST_DWithin(l.point::geography"
        )
        return "SET LOCAL enable_indexscan = off;\n" + sql, bound
    raise ValueError(strategy)


def plan_of(conn, sql: str, params: dict) -> str:
    """The index names the plan uses (the last statement's), to prove which path ran."""
    setup, _, query = sql.rpartition(";\n") if sql.startswith("SET LOCAL") else ("", "", sql)
    with conn.transaction():
        if setup:
            conn.execute(setup)
        rows = conn.execute("EXPLAIN " + query, params).fetchall()
    nodes = []
    for (line,) in rows:
        text = line.strip().lstrip("-> ").strip()
        if " on " in text and ("Scan" in text or "Index" in text):
            nodes.append(text.split("  (")[0])
    return "; ".join(nodes)


def run(statements: list[tuple[str, dict]], concurrency: int, duration: float) -> dict:
    return {**run_floor(statements, concurrency, duration), "load": os.getloadavg()[0]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strategies", default="current")
    parser.add_argument("--classes", default=",".join(CLASSES))
    parser.add_argument("--concurrency", default="1,8")
    parser.add_argument("--duration", type=float, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--label", default="", help="stored with the results (index set)")
    args = parser.parse_args(argv)
    strategies = [s for s in args.strategies.split(",") if s]
    classes = [c for c in args.classes.split(",") if c]
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    for strategy in strategies:
        if strategy not in STRATEGIES:
            parser.error(f"unknown strategy {strategy!r}; one of {STRATEGIES}")

    import psycopg

    common.setup_django()
    machine = common.machine()
    with psycopg.connect(common.pg_dsn()) as conn:
        counts = word_counts(conn)
    by_class: dict[str, list[dict]] = {c: [] for c in CLASSES}
    for params in text_queries(args.queries, args.seed):
        by_class[word_class(counts[params["q"]])].append(params)
    words = {c: sorted({p["q"] for p in by_class[c]}) for c in CLASSES}
    print(f"{common.BENCH_DB}; load {machine['loadavg_at_start']}; classes:")
    for klass in CLASSES:
        print(f"  {klass}: {len(by_class[klass])} queries, words {words[klass]}")

    statements = {
        (s, c): [statement(s, p, c) for p in by_class[c]] for s in strategies for c in classes
    }
    plans = {}
    with psycopg.connect(common.pg_dsn(), cursor_factory=psycopg.ClientCursor) as conn:
        for (strategy, klass), stmts in statements.items():
            plans[f"{strategy}/{klass}"] = plan_of(conn, *stmts[0])
            print(f"  plan {strategy}/{klass}: {plans[f'{strategy}/{klass}']}")
    for stmts in statements.values():  # warm the caches once per strategy and class
        run(stmts, 2, 2)

    raw: dict = {}
    for repeat in range(args.repeats):
        for strategy in strategies:
            for klass in classes:
                for conc in concurrencies:
                    result = run(statements[(strategy, klass)], conc, args.duration)
                    raw.setdefault(f"{strategy}|{klass}|{conc}", []).append(result)
                    print(
                        f"[{repeat + 1}/{args.repeats}] {strategy:<13} {klass:<6} c={conc} "
                        f"{result['rps']:6.1f} req/s p50 {result['p50_ms']:6.1f} "
                        f"p95 {result['p95_ms']:6.1f} ms load {result['load']:.2f} "
                        f"errors {result['errors']}",
                        flush=True,
                    )
    lines = [
        "| strategy | words | conc | req/s | p50 ms | p95 ms | load (1 min) |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    summary = {}
    for key, runs in raw.items():
        strategy, klass, conc = key.split("|")
        med = {k: common.median([r[k] for r in runs]) for k in ("rps", "p50_ms", "p95_ms")}
        loads = [r["load"] for r in runs]
        summary[key] = dict(med, loads=loads, errors=sum(r["errors"] for r in runs))
        lines.append(
            f"| {strategy} | {klass} | {conc} | {med['rps']:.0f} | {med['p50_ms']:.1f} | "
            f"{med['p95_ms']:.1f} | {min(loads):.1f}-{max(loads):.1f} |"
        )
    results = {
        "machine": machine,
        "loadavg_at_end": list(os.getloadavg()),
        "label": args.label,
        "args": vars(args),
        "word_counts": counts,
        "classes": words,
        "plans": plans,
        "summary": summary,
        "raw": raw,
    }
    path = common.write_result("text-near", results, "\n".join(lines) + "\n")
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
