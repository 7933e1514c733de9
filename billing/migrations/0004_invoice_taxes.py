"""Each invoice's taxes per (name, rate) (TARIFFS.md), guarded like its lines on PostgreSQL.

Invoices written before this migration get their taxes from their lines and the tax rules of the tariff
versions those lines came from (the bill run's own arithmetic); an invoice whose recomputed taxes do not add
up to its stored tax amount is left without a breakdown and reported.
"""

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import django.db.models.deletion
from django.db import migrations, models

CENT = Decimal("0.01")

GUARD = """
CREATE TRIGGER invoice_tax_guard BEFORE INSERT OR UPDATE OR DELETE ON billing_invoicetax
    FOR EACH ROW EXECUTE FUNCTION billing_guard_invoice_line();
"""


def backfill(apps, schema_editor):
    Invoice = apps.get_model("billing", "Invoice")
    InvoiceLine = apps.get_model("billing", "InvoiceLine")
    InvoiceTax = apps.get_model("billing", "InvoiceTax")
    bases: dict[int, dict[tuple[str, Decimal], Decimal]] = defaultdict(dict)
    lines = InvoiceLine.objects.filter(tariff_version__isnull=False).values_list(
        "invoice_id", "amount", "tariff_version__document"
    )
    for invoice_id, amount, document in lines.iterator(chunk_size=10_000):
        tax = (document or {}).get("tax")
        if tax:
            key = (tax["name"], Decimal(tax["rate"]))
            bases[invoice_id][key] = bases[invoice_id].get(key, Decimal("0.00")) + amount
    stored = dict(Invoice.objects.filter(pk__in=list(bases)).values_list("pk", "tax_amount"))
    rows, mismatched = [], []
    for invoice_id, by_tax in bases.items():
        taxes = [
            InvoiceTax(
                invoice_id=invoice_id,
                name=name,
                rate=rate,
                base_amount=base,
                amount=(base * rate).quantize(CENT, ROUND_HALF_UP),
            )
            for (name, rate), base in sorted(by_tax.items())
        ]
        if sum((t.amount for t in taxes), Decimal("0.00")) == stored.get(invoice_id):
            rows += taxes
        else:
            mismatched.append(invoice_id)
    InvoiceTax.objects.bulk_create(rows, batch_size=5_000)
    if mismatched:
        print(f"\n  invoices left without a tax breakdown (recomputed taxes differ): {sorted(mismatched)[:50]}")


def guard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GUARD, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0003_postgresql_guards"),
        ("pricing", "0002_postgresql_guards"),
    ]

    operations = [
        migrations.CreateModel(
            name="InvoiceTax",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=100)),
                (
                    "rate",
                    models.DecimalField(decimal_places=6, help_text="A fraction: 0.05 is 5 %.", max_digits=7),
                ),
                ("base_amount", models.DecimalField(decimal_places=2, max_digits=14)),
                ("amount", models.DecimalField(decimal_places=2, max_digits=14)),
                (
                    "invoice",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="taxes", to="billing.invoice"
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("invoice", "name", "rate"), name="invoice_tax_once_per_name_rate")
                ],
            },
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.RunPython(guard, migrations.RunPython.noop),
    ]
