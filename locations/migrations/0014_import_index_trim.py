"""Indexes nothing reads, dropped (issue 17: each was one more random btree insert per place
for the bulk import). locations_locationrevision: revision_author duplicated the author
foreign key's own index, and revision_location_created (location_id, created_at) serves
the location foreign key's lookups, so its single-column index goes. Simple-history's
table: readers filter by id, history_user and submitter (locations/gdpr.py,
locations/services.py); external_id (and its _like twin), merged_into and history_date
were never searched (SIMPLE_HISTORY_DATE_INDEX = False in config/settings/base.py).
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('locations', '0013_category'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='locationrevision',
            name='revision_author',
        ),
        migrations.AlterField(
            model_name='historicallocation',
            name='external_id',
            field=models.CharField(blank=True, max_length=200, null=True),
        ),
        migrations.AlterField(
            model_name='historicallocation',
            name='history_date',
            field=models.DateTimeField(),
        ),
        migrations.AlterField(
            model_name='historicallocation',
            name='merged_into',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='locations.location'),
        ),
        migrations.AlterField(
            model_name='locationrevision',
            name='location',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='revisions', to='locations.location'),
        ),
    ]
