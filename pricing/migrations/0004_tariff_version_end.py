"""PostgreSQL guard: a published tariff version allows one change, its open end set to a later instant.

Publishing a version from B while an open-ended version is valid at B ends the open version at B (the
service checks that no publication or issued invoice used it at or after B). Every other update, and
every delete, is still refused.
"""

from django.db import migrations

GUARD = """
CREATE FUNCTION pricing_guard_tariff_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.valid_to IS NULL AND NEW.valid_to IS NOT NULL
        AND NEW.valid_to > OLD.valid_from
        AND (to_jsonb(NEW) - 'valid_to') = (to_jsonb(OLD) - 'valid_to') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% rows are immutable once published (%): only an open end may be set',
        TG_TABLE_NAME, TG_OP USING ERRCODE = 'integrity_constraint_violation';
END $$;
DROP TRIGGER tariff_version_immutable ON pricing_tariffversion;
CREATE TRIGGER tariff_version_immutable BEFORE UPDATE OR DELETE ON pricing_tariffversion
    FOR EACH ROW EXECUTE FUNCTION pricing_guard_tariff_version();
"""

UNGUARD = """
DROP TRIGGER tariff_version_immutable ON pricing_tariffversion;
CREATE TRIGGER tariff_version_immutable BEFORE UPDATE OR DELETE ON pricing_tariffversion
    FOR EACH ROW EXECUTE FUNCTION pricing_refuse_change();
DROP FUNCTION pricing_guard_tariff_version();
"""


def guard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GUARD, params=None)


def unguard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(UNGUARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("pricing", "0003_ledger_entry_hmac")]

    operations = [migrations.RunPython(guard, unguard)]
