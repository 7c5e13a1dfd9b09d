"""Places that existed before versions: their current content becomes version 1, as an
applied revision and a baseline audit row, so their first change has a "before" and a
moderator can revert to it. Set-wise SQL (no RunPython: no model code, no row loop)."""

from django.db import migrations

BACKFILL = """
INSERT INTO locations_locationrevision (
    id, location_id, name, description, category, address, point, base_version, version,
    status, author_id, source, changes, created_at, reason_code, reason
)
SELECT gen_random_uuid(), l.id, l.name, l.description, l.category, l.address, l.point,
       0, l.version, 'applied', l.submitter_id,
       CASE WHEN l.external_id IS NULL THEN 'submit' ELSE 'import' END,
       jsonb_build_object(
           'name', jsonb_build_object('before', NULL, 'after', l.name),
           'description', jsonb_build_object('before', NULL, 'after', l.description),
           'category', jsonb_build_object('before', NULL, 'after', l.category),
           'address', jsonb_build_object('before', NULL, 'after', l.address),
           'point', jsonb_build_object('before', NULL, 'after', ST_AsGeoJSON(l.point, 7)::jsonb)
       ),
       l.created_at, '', ''
FROM locations_location l
WHERE NOT EXISTS (SELECT 1 FROM locations_locationrevision r WHERE r.location_id = l.id);

INSERT INTO locations_historicallocation (
    id, name, description, category, address, point, status, submitter_id, external_id,
    created_at, updated_at, approved_at, version,
    history_date, history_change_reason, history_type, history_user_id
)
SELECT l.id, l.name, l.description, l.category, l.address, l.point, l.status,
       l.submitter_id, l.external_id, l.created_at, l.updated_at, l.approved_at, l.version,
       now(), 'baseline', '+', NULL
FROM locations_location l
WHERE NOT EXISTS (SELECT 1 FROM locations_historicallocation h WHERE h.id = l.id);
"""


class Migration(migrations.Migration):
    dependencies = [("locations", "0008_location_version_revisions_history")]

    operations = [migrations.RunSQL(BACKFILL, reverse_sql=migrations.RunSQL.noop)]
