"""PostgreSQL guard: no two live (non-void) invoices of an account cover the same day.

The unique (account, period start, period end) constraint only stopped the exact same period; a run for
2013-01-01→02 after January was invoiced issued a second invoice for 1 January. The exclusion constraint
compares the half-open date ranges `[period_start, period_end)` of an account's live invoices.
"""

from django.db import migrations

GUARD = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE billing_invoice ADD CONSTRAINT invoice_no_overlapping_days
    EXCLUDE USING gist (customer_id WITH =, daterange(period_start, period_end, '[)') WITH &&)
    WHERE (status <> 'VOID');
"""

UNGUARD = "ALTER TABLE billing_invoice DROP CONSTRAINT IF EXISTS invoice_no_overlapping_days;"


def guard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GUARD, params=None)


def unguard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(UNGUARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("billing", "0004_invoice_taxes")]

    operations = [migrations.RunPython(guard, unguard)]
