"""The grid of zoomed-out viewports: cell sizes and how a viewport reads the GridCell
summary. Pure geometry on a BBox's envelopes; no database."""

import math
from dataclasses import dataclass

from locations import constants
from locations.geo import BBox
from locations.models import GRID_LEVELS


def cluster_cell_size(*, viewport: BBox, zoom: int | None, limit: int) -> float:
    """Grid cell (degrees) for clustering a viewport.

    Cells are 360 / 2**k degrees with edges on multiples of the cell, so the grid stays
    put while a map pans. Start from the zoom (about 64 px cells) or, without
    a zoom, from a fine grid, and coarsen until the cells the viewport can touch fit in
    `limit` — a clustered answer is never longer than a plain one.
    """
    # Without a zoom, start below a metre and let the loop coarsen.
    k = zoom + int(math.log2(constants.CLUSTER_CELLS_PER_TILE)) if zoom is not None else 30
    while k > 0:
        cell = 360.0 / 2**k
        touched = sum(
            (math.floor((x2 - x1) / cell) + 2) * (math.floor((y2 - y1) / cell) + 2)
            for x1, y1, x2, y2 in viewport.envelopes
        )
        if touched <= limit:
            return cell
        k -= 1
    return 360.0


# --- Zoomed-out clusters from the GridCell summary ------------------------------------
# Counting every place of a continent-wide viewport takes seconds at 1M places; the
# summary (locations.models.GridCell, kept by triggers) already holds per-cell counts and
# coordinate sums. A viewport splits into the summary cells lying wholly inside it (read
# from the summary) and the thin strips along its edges where summary cells stick out
# (read from the places, through the GiST index). Every place inside lies in exactly one
# of the two, by the same float8 cell number locations_grid_cell(lon, size) (floor(lon /
# size) without underflow, migration 0003) the triggers store, so the
# counts still add up to the true total.

# Clusters read summary cells at least 2**SUMMARY_SUBDIVISION times finer per edge. Finer
# means thinner edge strips but more summary rows to add up: on 1M places (docs/places.md)
# 1 beat 2 and 3 (Europe at limit 500: 13 ms vs 112 ms and 42 ms; noisy machine), since
# the strips go through the GiST index while summary rows are read one by one.
SUMMARY_SUBDIVISION = 1


@dataclass(frozen=True)
class SummaryEnvelope:
    """One envelope of a viewport against the summary grid: its places in cells
    cx in [ix1, ix2), cy in [iy1, iy2) come from the summary, the rest from `strips`."""

    envelope: tuple[float, float, float, float]
    ix1: int
    ix2: int
    iy1: int
    iy2: int
    strips: tuple[tuple[float, float, float, float], ...]


@dataclass(frozen=True)
class SummaryPlan:
    level: int  # GridCell level read
    size: float  # its cell, 360 / 2**level degrees
    shift: int  # a summary cell number >> shift is its cluster's cell number
    envelopes: tuple[SummaryEnvelope, ...]


def viewport_summary_plan(*, viewport: BBox, cell: float, q: str = "") -> SummaryPlan | None:
    """How a clustered viewport reads the summary, or None when it should count places.

    None for a text filter (the summary has no words: the places matching `q` are
    counted, the GIN index narrowing them), for clusters finer than the finest level
    allows, and when no summary cell fits inside the viewport (nothing to gain).
    """
    if q:
        return None
    cluster_level = round(math.log2(360.0 / cell))
    level = next((lv for lv in GRID_LEVELS if lv >= cluster_level + SUMMARY_SUBDIVISION), None)
    if level is None:
        return None
    size = 360.0 / 2**level
    envelopes = []
    for x1, y1, x2, y2 in viewport.envelopes:
        ix1, ix2 = _inner_cells(x1, x2, size)
        iy1, iy2 = _inner_cells(y1, y2, size)
        if ix1 >= ix2 or iy1 >= iy2:
            envelopes.append(SummaryEnvelope((x1, y1, x2, y2), 0, 0, 0, 0, ((x1, y1, x2, y2),)))
            continue
        left, right, bottom, top = ix1 * size, ix2 * size, iy1 * size, iy2 * size
        strips = (
            (x1, y1, left, y2),
            (right, y1, x2, y2),
            (left, y1, right, bottom),
            (left, top, right, y2),
        )
        envelopes.append(SummaryEnvelope((x1, y1, x2, y2), ix1, ix2, iy1, iy2, strips))
    if all(e.ix1 >= e.ix2 for e in envelopes):
        return None
    return SummaryPlan(level, size, level - cluster_level, tuple(envelopes))


def _inner_cells(low: float, high: float, size: float) -> tuple[int, int]:
    # Whole cells [first, end) inside [low, high]; the loops undo a division that rounded
    # a bound across a cell edge (cell edges themselves are exact: n * 45 / 2**k).
    first, end = math.ceil(low / size), math.floor(high / size)
    while first * size < low:
        first += 1
    while end * size > high:
        end -= 1
    return first, end
