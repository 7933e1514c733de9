"""PostgreSQL guards: no overlapping versions of one tariff (exclusion constraint), and published
tariff versions, published rates, publications and ledger entries can be neither updated nor deleted."""

from django.db import migrations

GUARDS = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE pricing_tariffversion ADD CONSTRAINT tariff_version_no_overlap
    EXCLUDE USING gist (tariff_id WITH =, tstzrange(valid_from, valid_to, '[)') WITH &&);

CREATE FUNCTION pricing_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are immutable once published (%)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END $$;

CREATE TRIGGER tariff_version_immutable BEFORE UPDATE OR DELETE ON pricing_tariffversion
    FOR EACH ROW EXECUTE FUNCTION pricing_refuse_change();
CREATE TRIGGER published_rate_immutable BEFORE UPDATE OR DELETE ON pricing_publishedrate
    FOR EACH ROW EXECUTE FUNCTION pricing_refuse_change();
CREATE TRIGGER publication_immutable BEFORE UPDATE OR DELETE ON pricing_ratepublication
    FOR EACH ROW EXECUTE FUNCTION pricing_refuse_change();
CREATE TRIGGER ledger_entry_immutable BEFORE UPDATE OR DELETE ON pricing_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION pricing_refuse_change();
"""


def guards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GUARDS, params=None)


class Migration(migrations.Migration):
    dependencies = [("pricing", "0001_initial")]

    operations = [migrations.RunPython(guards, migrations.RunPython.noop)]
