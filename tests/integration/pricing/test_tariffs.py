"""Tariff services: creating tariffs, publishing immutable versions without overlaps, declaring events."""

import hashlib
import inspect
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone as django_timezone

from pricing.models import PricingEvent, Tariff, TariffVersion
from pricing.services import tariffs as tariff_services
from pricing.services.tariffs import (
    InvalidTariffDocumentError,
    OverlappingTariffVersion,
    UnableToCreateTariff,
    UnableToDeclareEvent,
    pricing_event_declare,
    tariff_create,
    tariff_version_publish,
)

pytestmark = pytest.mark.django_db

JAN = datetime(2024, 1, 1, tzinfo=UTC)
FEB = datetime(2024, 2, 1, tzinfo=UTC)
MAR = datetime(2024, 3, 1, tzinfo=UTC)


def doc(energy: dict | None = None, **top: object) -> dict:
    """A GBP, Europe/London tariff/v1 document (flat 0.2450 unless `energy` is given)."""
    return {
        "format": "tariff/v1",
        "currency": "GBP",
        "timezone": "Europe/London",
        "energy": energy or {"kind": "flat", "rate_per_kwh": "0.2450"},
        **top,
    }


def publish(code: str, valid_from: datetime, valid_to: datetime | None, document: dict) -> TariffVersion:
    tariff_create(code=code, name=f"Tariff {code}", direction="IMPORT")
    return tariff_version_publish(
        tariff_code=code,
        valid_from=valid_from,
        valid_to=valid_to,
        document=document,
        now=django_timezone.now(),
    )


def test_creating_a_tariff_twice_returns_it_and_other_attributes_are_refused():
    first = tariff_create(code="FLAT-1", name="Flat", direction="IMPORT")

    again = tariff_create(code="FLAT-1", name="Flat", direction="IMPORT")
    with pytest.raises(UnableToCreateTariff) as conflict:
        tariff_create(code="FLAT-1", name="Flat", direction="EXPORT")

    assert again.pk == first.pk
    assert conflict.value.code == "tariff_exists"
    assert conflict.value.field == "code"
    assert Tariff.objects.count() == 1


def test_publishing_stores_the_kind_the_canonical_hash_and_the_publication_time():
    document = doc(standing_charge_per_day="0.4500")
    now = datetime(2023, 12, 20, 9, 0, tzinfo=UTC)
    tariff_create(code="FLAT-1", name="Flat", direction="IMPORT")

    version = tariff_version_publish(
        tariff_code="FLAT-1", valid_from=JAN, valid_to=None, document=document, now=now
    )

    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"))
    assert version.kind == "flat"
    assert version.document_sha256 == hashlib.sha256(canonical.encode()).hexdigest()
    assert version.published_at == now
    assert TariffVersion.objects.get().document == document


def test_republishing_the_identical_version_returns_it():
    first = publish("FLAT-1", JAN, FEB, doc())

    again = publish("FLAT-1", JAN, FEB, doc())

    assert again.pk == first.pk
    assert TariffVersion.objects.count() == 1


@pytest.mark.parametrize(
    ("valid_from", "valid_to"),
    [(JAN + timedelta(days=10), FEB + timedelta(days=1)), (JAN - timedelta(days=1), None), (JAN, FEB)],
)
def test_an_overlapping_version_is_refused_naming_the_version(valid_from, valid_to):
    existing = publish("FLAT-1", JAN, FEB, doc())

    with pytest.raises(OverlappingTariffVersion) as refused:
        publish("FLAT-1", valid_from, valid_to, doc({"kind": "flat", "rate_per_kwh": "0.30"}))

    assert refused.value.field == "valid_from"
    assert f"overlaps version {existing.pk} of tariff FLAT-1 valid from 2024-01-01T00:00:00Z" in str(
        refused.value
    )
    assert list(TariffVersion.objects.values_list("pk", "document")) == [(existing.pk, doc())]


def test_a_later_version_ends_the_open_ended_one_and_adjacent_versions_are_accepted():
    """Check 29 (issue 10 item 2): an open-ended version no longer blocks every later price."""
    publish("FLAT-1", JAN, FEB, doc())
    open_ended = publish("FLAT-1", FEB, None, doc({"kind": "flat", "rate_per_kwh": "0.30"}))

    publish("FLAT-1", datetime(2030, 1, 1, tzinfo=UTC), None, doc())

    open_ended.refresh_from_db()
    assert open_ended.valid_to == datetime(2030, 1, 1, tzinfo=UTC)
    assert TariffVersion.objects.count() == 3


@pytest.mark.parametrize(
    ("energy", "field", "message"),
    [
        (
            {
                "kind": "tiered",
                "tiers": [
                    {"up_to_kwh": "300", "rate_per_kwh": "0.20"},
                    {"up_to_kwh": None, "rate_per_kwh": 0.25},
                ],
            },
            "document.energy.tiers[1].rate_per_kwh",
            "must be a decimal written as a string",
        ),
        (
            {"kind": "flat", "rate_per_kwh": "0.1234567"},
            "document.energy.rate_per_kwh",
            "more than 6 decimal places",
        ),
        ({"kind": "solar"}, "document.energy.kind", "must be one of"),
    ],
)
def test_a_bad_document_is_refused_naming_the_field(energy, field, message):
    with pytest.raises(InvalidTariffDocumentError) as refused:
        publish("BAD-1", JAN, None, doc(energy))

    assert refused.value.field == field
    assert message in refused.value.messages[0]
    assert not TariffVersion.objects.exists()


def test_a_version_period_must_not_be_empty_or_naive():
    tariff_create(code="FLAT-1", name="Flat", direction="IMPORT")

    with pytest.raises(Exception, match="validTo must be after validFrom"):
        tariff_version_publish(
            tariff_code="FLAT-1", valid_from=FEB, valid_to=JAN, document=doc(), now=django_timezone.now()
        )
    with pytest.raises(Exception, match="UTC offset"):
        tariff_version_publish(
            tariff_code="FLAT-1",
            valid_from=datetime(2024, 1, 1),  # noqa: DTZ001 - naive on purpose
            valid_to=None,
            document=doc(),
            now=django_timezone.now(),
        )


def test_no_service_changes_a_published_version():
    version = publish("FLAT-1", JAN, FEB, doc())
    before = TariffVersion.objects.values().get()

    with pytest.raises(OverlappingTariffVersion):
        publish("FLAT-1", JAN, FEB, doc({"kind": "flat", "rate_per_kwh": "0.99"}))

    assert TariffVersion.objects.values().get() == before
    assert version.pk == before["id"]
    services = [
        name
        for name, function in inspect.getmembers(tariff_services, inspect.isfunction)
        if function.__module__ == tariff_services.__name__ and not name.startswith("_")
    ]
    assert sorted(services) == [
        "canonical_json",
        "document_sha256",
        "pricing_event_declare",
        "tariff_create",
        "tariff_rename",  # the tariff's name only: versions are untouched
        "tariff_version_publish",
    ]


@pytest.mark.postgres
def test_the_database_refuses_overlapping_versions_written_past_the_service():
    version = publish("FLAT-1", JAN, FEB, doc())
    clash = TariffVersion(
        tariff=version.tariff,
        valid_from=JAN + timedelta(days=5),
        valid_to=None,
        document=doc(),
        kind="flat",
        document_sha256="x" * 64,
        published_at=JAN,
    )

    with pytest.raises(IntegrityError, match="tariff_version_no_overlap"), transaction.atomic():
        TariffVersion.objects.bulk_create([clash])

    assert TariffVersion.objects.count() == 1


@pytest.mark.postgres
def test_the_database_refuses_to_update_or_delete_a_published_version():
    publish("FLAT-1", JAN, FEB, doc())

    with pytest.raises(IntegrityError, match="immutable"), transaction.atomic():
        TariffVersion.objects.update(document=doc({"kind": "flat", "rate_per_kwh": "0.01"}))
    with pytest.raises(IntegrityError, match="immutable"), transaction.atomic():
        TariffVersion.objects.all().delete()

    assert TariffVersion.objects.get().document == doc()


EVENT_DOC = doc(events={"critical_peak": {"rate_per_kwh": "0.4000"}, "emergency": {"rate_per_kwh": "0.8000"}})
EVENT_START = datetime(2024, 1, 15, 17, 0, tzinfo=UTC)


def test_declaring_the_same_event_twice_returns_it():
    publish("EVT-1", JAN, None, EVENT_DOC)
    publish("EVT-2", JAN, None, EVENT_DOC)
    declare = {
        "kind": PricingEvent.Kind.CRITICAL_PEAK,
        "start": EVENT_START,
        "end": EVENT_START + timedelta(hours=2),
        "now": django_timezone.now(),
    }

    first = pricing_event_declare(**declare, tariff_codes=["EVT-1", "EVT-2"])
    again = pricing_event_declare(**declare, tariff_codes=["EVT-2", "EVT-1"])

    assert again.pk == first.pk
    assert sorted(first.tariffs.values_list("code", flat=True)) == ["EVT-1", "EVT-2"]
    assert PricingEvent.objects.count() == 1


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"tariff_codes": ["EVT-1", "NOPE-9"]}, "tariff_codes", "No tariff 'NOPE-9'."),
        ({"end": EVENT_START}, "end", "An event must end after it starts."),
        ({"end": EVENT_START + timedelta(days=8)}, "end", "An event lasts at most 7 days."),
        ({"kind": "brownout"}, "kind", "Kind must be one of CRITICAL_PEAK, EMERGENCY."),
        ({"tariff_codes": ["FLAT-1"]}, "tariff_codes", "has no rate for critical_peak events"),
    ],
)
def test_a_bad_event_declaration_is_refused(kwargs, field, message):
    publish("EVT-1", JAN, None, EVENT_DOC)
    publish("FLAT-1", JAN, None, doc())
    declare = {
        "kind": PricingEvent.Kind.CRITICAL_PEAK,
        "start": EVENT_START,
        "end": EVENT_START + timedelta(hours=2),
        "tariff_codes": ["EVT-1"],
        "now": django_timezone.now(),
        **kwargs,
    }

    with pytest.raises(UnableToDeclareEvent) as refused:
        pricing_event_declare(**declare)

    assert refused.value.field == field
    assert message in refused.value.messages[0]
    assert not PricingEvent.objects.exists()
