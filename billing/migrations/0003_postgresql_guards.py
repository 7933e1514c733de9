"""PostgreSQL guards: total = net + tax (exact numeric here, unlike SQLite's floats); agreements of one meter point never overlap; issued invoices, their lines and
credit notes cannot be changed (an issued invoice may only become VOID, nothing else about it changes)."""

from django.db import migrations

GUARDS = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE billing_invoice ADD CONSTRAINT invoice_total_is_net_plus_tax
    CHECK (total_amount = net_amount + tax_amount);
ALTER TABLE billing_agreement ADD CONSTRAINT agreement_no_overlap
    EXCLUDE USING gist (meter_point_id WITH =, tstzrange(valid_from, valid_to, '[)') WITH &&);

CREATE FUNCTION billing_guard_invoice() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status <> 'DRAFT' THEN
            RAISE EXCEPTION 'invoice % is % and cannot be deleted', OLD.number, OLD.status
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.status = 'VOID' OR (OLD.status = 'ISSUED' AND (
        NEW.status <> 'VOID' OR NEW.number IS DISTINCT FROM OLD.number
        OR NEW.net_amount <> OLD.net_amount OR NEW.tax_amount <> OLD.tax_amount
        OR NEW.total_amount <> OLD.total_amount OR NEW.customer_id <> OLD.customer_id
        OR NEW.period_start <> OLD.period_start OR NEW.period_end <> OLD.period_end
        OR NEW.currency <> OLD.currency OR NEW.issued_at IS DISTINCT FROM OLD.issued_at)) THEN
        RAISE EXCEPTION 'invoice % is % and cannot be changed', OLD.number, OLD.status
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;

CREATE FUNCTION billing_guard_invoice_line() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    parent_status text;
BEGIN
    SELECT status INTO parent_status FROM billing_invoice
        WHERE id = (CASE WHEN TG_OP = 'DELETE' THEN OLD.invoice_id ELSE NEW.invoice_id END);
    IF parent_status IS NOT NULL AND parent_status <> 'DRAFT' THEN
        RAISE EXCEPTION 'lines of a % invoice cannot be changed', parent_status
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;

CREATE FUNCTION billing_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are immutable (%)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END $$;

CREATE TRIGGER invoice_guard BEFORE UPDATE OR DELETE ON billing_invoice
    FOR EACH ROW EXECUTE FUNCTION billing_guard_invoice();
CREATE TRIGGER invoice_line_guard BEFORE INSERT OR UPDATE OR DELETE ON billing_invoiceline
    FOR EACH ROW EXECUTE FUNCTION billing_guard_invoice_line();
CREATE TRIGGER credit_note_immutable BEFORE UPDATE OR DELETE ON billing_creditnote
    FOR EACH ROW EXECUTE FUNCTION billing_refuse_change();
"""


def guards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GUARDS, params=None)


class Migration(migrations.Migration):
    dependencies = [("billing", "0002_billing")]

    operations = [migrations.RunPython(guards, migrations.RunPython.noop)]
