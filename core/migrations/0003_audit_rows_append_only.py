"""PostgreSQL guard: audit entries cannot be changed or deleted by the application's database role.

The only update allowed is the one Django makes when a user is deleted (`actor` set to NULL, nothing else
changes). Purging old entries (`auditlogflush`) needs a role that may disable the trigger. TRUNCATE is not
a row operation: keep it from the application role with privileges (REVOKE TRUNCATE), as the test runner
truncates tables between transactional tests.
"""

from django.db import migrations

GUARD = """
CREATE FUNCTION audit_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.actor_id IS NULL
        AND (to_jsonb(NEW) - 'actor_id') = (to_jsonb(OLD) - 'actor_id') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit entries are append-only (%)', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END $$;
CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON auditlog_logentry
    FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only();
"""

UNGUARD = """
DROP TRIGGER audit_entry_append_only ON auditlog_logentry;
DROP FUNCTION audit_entry_append_only();
"""


def guard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GUARD, params=None)


def unguard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(UNGUARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("core", "0002_api_scope_permissions"), ("auditlog", "0017_add_actor_email")]

    operations = [migrations.RunPython(guard, unguard)]
