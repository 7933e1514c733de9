"""Publishing a version from B ends the open-ended version at B (issue 10 item 2; RELIABILITY.md check 29)."""

from datetime import UTC, date, datetime

import pytest
from auditlog.models import LogEntry
from django.db import IntegrityError, transaction
from django.utils import timezone as django_timezone

from pricing.models import RatePublication, TariffVersion
from pricing.services.tariffs import OverlappingTariffVersion, TariffVersionInUse, tariff_version_publish
from tests.integration.pricing.test_tariffs import JAN, doc, publish

pytestmark = pytest.mark.django_db

MAR = datetime(2024, 3, 1, tzinfo=UTC)
NEW_PRICE = doc({"kind": "flat", "rate_per_kwh": "0.3100"})


def test_a_version_from_b_ends_the_open_ended_version_at_b_and_is_audited():
    """Check 29: the price can change; the old version keeps its document and ends exactly at B."""
    old = publish("FLAT-1", JAN, None, doc())

    new = tariff_version_publish(
        tariff_code="FLAT-1", valid_from=MAR, valid_to=None, document=NEW_PRICE, now=django_timezone.now()
    )

    old.refresh_from_db()
    assert (old.valid_from, old.valid_to, old.document) == (JAN, MAR, doc())
    assert (new.valid_from, new.valid_to) == (MAR, None)
    entry = LogEntry.objects.get_for_object(old).filter(action=LogEntry.Action.UPDATE).get()
    assert entry.changes_dict["valid_to"][0] == "None"
    assert entry.changes_dict["valid_to"][1].startswith("2024-03-01 00:00:00")
    again = tariff_version_publish(
        tariff_code="FLAT-1", valid_from=MAR, valid_to=None, document=NEW_PRICE, now=django_timezone.now()
    )
    assert again.pk == new.pk


def test_a_version_from_before_the_open_version_starts_is_still_an_overlap():
    """Check 29: only the open end may move; the start of a published version never does."""
    publish("FLAT-1", MAR, None, doc())

    with pytest.raises(OverlappingTariffVersion):
        tariff_version_publish(
            tariff_code="FLAT-1", valid_from=JAN, valid_to=None, document=NEW_PRICE, now=django_timezone.now()
        )


def test_ending_a_version_whose_rates_were_published_after_b_is_refused_naming_the_field():
    """Check 29: a publication of 2024-03-01 used the open version on B's day: refused, nothing written."""
    old = publish("FLAT-1", JAN, None, doc())
    RatePublication.objects.create(
        tariff=old.tariff, tariff_version=old, day=date(2024, 3, 1), published_at=JAN, content_sha256="0" * 64
    )

    with pytest.raises(TariffVersionInUse) as refused:
        tariff_version_publish(
            tariff_code="FLAT-1", valid_from=MAR, valid_to=None, document=NEW_PRICE, now=django_timezone.now()
        )

    assert refused.value.field == "valid_from"
    assert "2024-03-01 are published" in str(refused.value)
    old.refresh_from_db()
    assert (old.valid_to, TariffVersion.objects.count()) == (None, 1)
    tariff_version_publish(
        tariff_code="FLAT-1",
        valid_from=datetime(2024, 3, 2, tzinfo=UTC),
        valid_to=None,
        document=NEW_PRICE,
        now=django_timezone.now(),
    )


@pytest.mark.postgres
def test_the_database_allows_setting_an_open_end_and_nothing_else():
    """Check 29: the trigger lets exactly the open end be set; other updates and deletes still fail."""
    old = publish("FLAT-1", JAN, None, doc())

    with pytest.raises(IntegrityError, match="immutable"), transaction.atomic():
        TariffVersion.objects.update(valid_to=MAR, document=NEW_PRICE)
    TariffVersion.objects.update(valid_to=MAR)
    with pytest.raises(IntegrityError, match="immutable"), transaction.atomic():
        TariffVersion.objects.update(valid_to=datetime(2024, 4, 1, tzinfo=UTC))
    with pytest.raises(IntegrityError, match="immutable"), transaction.atomic():
        TariffVersion.objects.all().delete()

    old.refresh_from_db()
    assert (old.valid_to, old.document) == (MAR, doc())
