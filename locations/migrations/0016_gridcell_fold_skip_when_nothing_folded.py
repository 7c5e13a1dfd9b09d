"""The grid-cell fold stops right after its upsert when the statement changed no cell.

The statement-level triggers fire on every statement on locations_location, also when it
changed nothing the summary counts: an `INSERT ... ON CONFLICT DO UPDATE` fires the UPDATE
trigger even when no row conflicted (an import's every batch), and an edit of a name or a
description changes no cell (0002's UPDATED delta is empty then). Such a statement still
ran the drift check and the clean-up of empty cells (two probes of gridcell_not_positive).
Both only matter after cells changed: between statements no cell is at or below 0, and a
statement that folded nothing cannot have put one there. So when the upsert wrote no row
(ROW_COUNT 0) the function returns at once. A write that does fold still checks the
whole table, as before (tests/locations/test_viewport_aggregates.py).
"""

import importlib

from django.db import migrations

check_0015 = importlib.import_module("locations.migrations.0015_gridcell_fold_check_by_index")

OLD_FUNCTION = check_0015.NEW_FUNCTION
OLD_HEAD = "LANGUAGE plpgsql AS $fold$\nBEGIN\n"
NEW_HEAD = "LANGUAGE plpgsql AS $fold$\nDECLARE\n    folded bigint;\nBEGIN\n"
OLD_AFTER_UPSERT = "    END IF;\n    -- A negative count"
# ROW_COUNT is the upsert's (the last SQL statement run; IF is not one).
NEW_AFTER_UPSERT = (
    "    END IF;\n"
    "    GET DIAGNOSTICS folded = ROW_COUNT;\n"
    "    IF folded = 0 THEN\n"
    "        RETURN NULL;  -- no cell changed: nothing to check or clean up\n"
    "    END IF;\n"
    "    -- A negative count"
)
assert OLD_FUNCTION.count(OLD_HEAD) == 1 and OLD_FUNCTION.count(OLD_AFTER_UPSERT) == 1
NEW_FUNCTION = OLD_FUNCTION.replace(OLD_HEAD, NEW_HEAD).replace(
    OLD_AFTER_UPSERT, NEW_AFTER_UPSERT
)


class Migration(migrations.Migration):
    dependencies = [
        ("locations", "0015_gridcell_fold_check_by_index"),
    ]

    operations = [
        migrations.RunSQL(sql=NEW_FUNCTION, reverse_sql=OLD_FUNCTION),
    ]
