"""Make the grid-cell trigger's end-of-statement check an index probe whatever the table's
statistics.

0003's check, `IF EXISTS (SELECT FROM locations_gridcell WHERE n < 0)`, is meant to probe
the partial index gridcell_not_positive (n <= 0; empty between statements). Without
statistics on n (a new table, or every row written by the current transaction, as in a
bulk import), PostgreSQL assumes a third of the rows match `n < 0`, and for EXISTS a
sequential scan then looks cheapest: each statement on locations_location read the whole
grid table. Profiling issue 17's 1M-row import showed it: about 1 s of trigger time per
5000-row batch once the grid held ~1M cells, most of the merge. `min(n)` over
`n <= 0` is answered from the index (the min/max rewrite: first entry of an ordered index
scan) under any statistics. Same rule, same message; the fold itself is unchanged.
"""

import importlib

from django.db import migrations

fold_0003 = importlib.import_module("locations.migrations.0003_gridcell_fold_any_float")

OLD_CHECK = "IF EXISTS (SELECT FROM locations_gridcell WHERE n < 0) THEN"
NEW_CHECK = "IF (SELECT min(n) FROM locations_gridcell WHERE n <= 0) < 0 THEN"

OLD_FUNCTION = fold_0003.fold_function(fold_0003.UPSERT)
assert OLD_CHECK in OLD_FUNCTION
NEW_FUNCTION = OLD_FUNCTION.replace(OLD_CHECK, NEW_CHECK)


class Migration(migrations.Migration):
    dependencies = [
        ("locations", "0014_import_index_trim"),
    ]

    operations = [
        migrations.RunSQL(sql=NEW_FUNCTION, reverse_sql=OLD_FUNCTION),
    ]
