"""Migration 0004 gives invoices written before it their taxes, from their lines and versions."""

import importlib
from decimal import Decimal

import pytest
from django.apps import apps

from billing.models import Invoice, InvoiceTax
from tests.integration.billing.test_bill_runs import make_accounts, make_tariff, start_and_execute

D = Decimal
migration = importlib.import_module("billing.migrations.0004_invoice_taxes")

pytestmark = pytest.mark.django_db


def test_backfill_recomputes_the_taxes_the_bill_run_wrote():
    make_accounts(make_tariff(), 2)
    start_and_execute()
    written = sorted(InvoiceTax.objects.values_list("invoice_id", "name", "rate", "base_amount", "amount"))
    InvoiceTax.objects.all().delete()  # drafts: their taxes may go

    migration.backfill(apps, None)

    again = sorted(InvoiceTax.objects.values_list("invoice_id", "name", "rate", "base_amount", "amount"))
    assert again == written
    assert [row[1:] for row in again] == [("VAT", D("0.050000"), D("52.75"), D("2.64"))] * 2


def test_backfill_leaves_an_invoice_whose_taxes_do_not_add_up(capsys):
    customers, _ = make_accounts(make_tariff(), 2)
    start_and_execute()
    InvoiceTax.objects.all().delete()
    odd = Invoice.objects.get(customer=customers[0])
    Invoice.objects.filter(pk=odd.pk).update(tax_amount=D("2.65"), total_amount=D("55.40"))

    migration.backfill(apps, None)

    assert list(InvoiceTax.objects.values_list("invoice__customer", flat=True)) == [customers[1].pk]
    assert str(odd.pk) in capsys.readouterr().out
