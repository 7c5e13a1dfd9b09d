"""Make the grid-cell trigger accept every coordinate the column accepts.

0002's cell number floor(x / size) raises "value out of range: underflow" in float8 when x
is so close to 0 that x / size rounds to 0 (a subnormal such as 5e-324), which failed the
approval of such a place. The API, import and admin now round coordinates to 1e-9 degrees
(locations.geo.quantize_degrees), but a row written by any other path must not break
moderation either, so:

- locations_grid_cell(x, size) is floor(x / size) without the division where it could
  underflow: for |x| < 1e-300 the exact answer is 0 (x >= 0) or -1 (x < 0), the same
  number floor(x / size) gives wherever it does not raise, so the viewport's edge strips
  (locations.selectors) and the stored cells still agree on every place.
- The sums take coordinates within 1e-12 degrees of 0 as 0. Otherwise a subnormal sum
  divided by a count (the viewport's mean, sum_lon / n) underflows in turn; with every
  summand 0 or at least 1e-12 in size, a sum is 0 or far above that. The mean moves by
  less than 1e-12 degrees, far below the 7 decimals served.

- The column itself now refuses what no trigger could fold: a longitude outside
  -180..180 or a latitude outside -90..90, NaN, infinities and an empty point
  (location_point_in_range).
  So "any value the column accepts" is a finite WGS 84 coordinate, and every one of them
  folds.

The summary is rebuilt once so existing cells use the same sums as the new trigger.
"""

from django.db import migrations

# Both helpers are plain IMMUTABLE SQL expressions and not STRICT, so the planner inlines
# them (a STRICT function around a CASE is not inlined): the viewport's queries
# (locations.selectors) use them too at no cost per row.
LEVELS = "{4,6,8,10,12,14,16}"  # unchanged since 0002

CELL_FUNCTION = """
CREATE FUNCTION locations_grid_cell(x float8, size float8) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $cell$
    SELECT CASE WHEN abs(x) >= 1e-300 THEN floor(x / size)
                WHEN x < 0 THEN -1::float8 ELSE 0::float8 END
$cell$;
CREATE FUNCTION locations_grid_sum_term(x float8) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $term$
    SELECT CASE WHEN abs(x) >= 1e-12 THEN x ELSE 0::float8 END
$term$;
"""

UPSERT = f"""
    WITH delta(category, x, y, s) AS (DELTA)
    INSERT INTO locations_gridcell AS g (level, cx, cy, category, n, sum_lon, sum_lat)
    SELECT lv, locations_grid_cell(d.x, 360.0::float8 / (1 << lv))::int,
           locations_grid_cell(d.y, 360.0::float8 / (1 << lv))::int,
           d.category, sum(d.s),
           sum(d.s * locations_grid_sum_term(d.x)), sum(d.s * locations_grid_sum_term(d.y))
    FROM delta d CROSS JOIN unnest('{LEVELS}'::int[]) lv
    GROUP BY 1, 2, 3, 4
    ORDER BY 1, 2, 3, 4
    ON CONFLICT (level, cx, cy, category) DO UPDATE SET
        n = g.n + EXCLUDED.n,
        sum_lon = g.sum_lon + EXCLUDED.sum_lon,
        sum_lat = g.sum_lat + EXCLUDED.sum_lat;"""  # noqa: S608 (constants only)

# As in 0002.
INSERTED = "SELECT category, ST_X(point), ST_Y(point), 1 FROM new_rows WHERE status = 'approved'"
DELETED = "SELECT category, ST_X(point), ST_Y(point), -1 FROM old_rows WHERE status = 'approved'"
UPDATED = """
        SELECT side.category, side.x, side.y, side.s
        FROM old_rows o JOIN new_rows nw ON nw.id = o.id
        CROSS JOIN LATERAL (VALUES
            (o.category, ST_X(o.point), ST_Y(o.point), -1, o.status),
            (nw.category, ST_X(nw.point), ST_Y(nw.point), 1, nw.status)
        ) side(category, x, y, s, status)
        WHERE side.status = 'approved'
          AND (o.status, o.category, ST_X(o.point), ST_Y(o.point))
              IS DISTINCT FROM (nw.status, nw.category, ST_X(nw.point), ST_Y(nw.point))"""


def fold_function(upsert: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION locations_gridcell_fold() RETURNS trigger
LANGUAGE plpgsql AS $fold$
BEGIN
    IF TG_OP = 'INSERT' THEN {upsert.replace("DELTA", INSERTED)}
    ELSIF TG_OP = 'DELETE' THEN {upsert.replace("DELTA", DELETED)}
    ELSE {upsert.replace("DELTA", UPDATED)}
    END IF;
    -- A negative count means the table had drifted from the places: refuse the write
    -- rather than serve wrong totals (rebuild with the backfill statement).
    IF EXISTS (SELECT FROM locations_gridcell WHERE n < 0) THEN
        RAISE EXCEPTION 'locations_gridcell out of step with locations_location';
    END IF;
    DELETE FROM locations_gridcell WHERE n = 0;
    RETURN NULL;
END
$fold$;
"""  # noqa: S608 (constants only)


# 0002's statement, for the way back.
UPSERT_0002 = f"""
    WITH delta(category, x, y, s) AS (DELTA)
    INSERT INTO locations_gridcell AS g (level, cx, cy, category, n, sum_lon, sum_lat)
    SELECT lv, floor(d.x / (360.0::float8 / (1 << lv)))::int,
           floor(d.y / (360.0::float8 / (1 << lv)))::int,
           d.category, sum(d.s), sum(d.s * d.x), sum(d.s * d.y)
    FROM delta d CROSS JOIN unnest('{LEVELS}'::int[]) lv
    GROUP BY 1, 2, 3, 4
    ORDER BY 1, 2, 3, 4
    ON CONFLICT (level, cx, cy, category) DO UPDATE SET
        n = g.n + EXCLUDED.n,
        sum_lon = g.sum_lon + EXCLUDED.sum_lon,
        sum_lat = g.sum_lat + EXCLUDED.sum_lat;"""  # noqa: S608 (constants only)


def rebuild(cell: str, term: str) -> str:
    # Holds a SHARE ROW EXCLUSIVE lock so no write falls between the delete and the insert.
    return f"""
LOCK TABLE locations_location IN SHARE ROW EXCLUSIVE MODE;
DELETE FROM locations_gridcell;
INSERT INTO locations_gridcell (level, cx, cy, category, n, sum_lon, sum_lat)
SELECT lv, {cell.format(v="p.x")}, {cell.format(v="p.y")},
       p.category, count(*), sum({term.format(v="p.x")}), sum({term.format(v="p.y")})
FROM (
    SELECT category, ST_X(point) AS x, ST_Y(point) AS y
    FROM locations_location WHERE status = 'approved'
) p CROSS JOIN unnest('{LEVELS}'::int[]) lv
GROUP BY 1, 2, 3, 4;
ANALYZE locations_gridcell;
"""  # noqa: S608 (constants only)


POINT_IN_RANGE = """
-- COALESCE: an empty point has no X (NULL), which a bare CHECK would let through.
ALTER TABLE locations_location ADD CONSTRAINT location_point_in_range CHECK (
    COALESCE(ST_X(point) BETWEEN -180 AND 180 AND ST_Y(point) BETWEEN -90 AND 90, false)
);
"""

FORWARD = (
    POINT_IN_RANGE
    + CELL_FUNCTION
    + fold_function(UPSERT)
    + rebuild(
        "locations_grid_cell({v}, 360.0::float8 / (1 << lv))::int", "locations_grid_sum_term({v})"
    )
)
REVERSE = (
    fold_function(UPSERT_0002)
    + rebuild("floor({v} / (360.0::float8 / (1 << lv)))::int", "{v}")
    + """
DROP FUNCTION locations_grid_sum_term(float8);
DROP FUNCTION locations_grid_cell(float8, float8);
ALTER TABLE locations_location DROP CONSTRAINT location_point_in_range;
"""
)


class Migration(migrations.Migration):
    dependencies = [
        ("locations", "0002_gridcell"),
    ]

    operations = [
        migrations.RunSQL(sql=FORWARD, reverse_sql=REVERSE),
    ]
