"""Writes of the pricing app: tariffs, their published versions and pricing events.

Published versions are never deleted, and never updated but for one change (migrations/0003 allows only
this on PostgreSQL): publishing a version from B while an open-ended version is valid at B ends the open
version at B, unless a publication or an issued invoice (asked through `tariff_version_ending`) already
used it at or after B. A change of price is therefore a new version for a later period.
"""

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction

from core.errors import NOT_FOUND, DomainError
from core.periods import check_instant
from pricing.documents import InvalidTariffDocument, parse_tariff_document
from pricing.models import PricingEvent, RatePublication, Tariff, TariffDirection, TariffVersion
from pricing.selectors.tariffs import tariff_versions_overlapping
from pricing.signals import tariff_version_ending

MAX_EVENT_LENGTH = timedelta(days=7)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class UnableToCreateTariff(DomainError, code="tariff_invalid"): ...


class UnableToPublishTariff(DomainError, code="tariff_version_invalid"): ...


class InvalidTariffDocumentError(UnableToPublishTariff, code="invalid_tariff_document"): ...


class OverlappingTariffVersion(UnableToPublishTariff, code="tariff_version_overlap"): ...


class TariffVersionInUse(UnableToPublishTariff, code="tariff_version_in_use"): ...


class UnableToDeclareEvent(DomainError, code="pricing_event_invalid"): ...


def canonical_json(document: object) -> str:
    """The document as canonical JSON: sorted keys, no spaces (what `document_sha256` hashes)."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def document_sha256(document: object) -> str:
    return hashlib.sha256(canonical_json(document).encode()).hexdigest()


@transaction.atomic
def tariff_create(*, code: str, name: str, direction: str = TariffDirection.IMPORT) -> Tariff:
    """Create a tariff; the same request again returns it, other attributes for its code are refused."""
    code, name = code.strip(), name.strip()
    if not code or len(code) > 40:
        raise UnableToCreateTariff("A tariff code has 1 to 40 characters.", field="code")
    if not name or len(name) > 200:
        raise UnableToCreateTariff("A tariff name has 1 to 200 characters.", field="name")
    if direction not in TariffDirection.values:
        raise UnableToCreateTariff(
            f"Direction must be IMPORT or EXPORT, not '{direction}'.", field="direction"
        )
    existing = Tariff.objects.filter(code=code).first()
    if existing is None:
        try:
            with transaction.atomic():
                return Tariff.objects.create(code=code, name=name, direction=direction)
        except IntegrityError:  # created concurrently: compare with the winner
            existing = Tariff.objects.get(code=code)
    if existing.name == name and existing.direction == direction:
        return existing
    raise UnableToCreateTariff(
        f"Tariff {code} exists with another name or direction.", field="code", code="tariff_exists"
    )


@transaction.atomic
def tariff_rename(*, code: str, name: str) -> Tariff:
    """Give a tariff another name; its code and direction never change (agreements and versions use them)."""
    name = name.strip()
    if not name or len(name) > 200:
        raise UnableToCreateTariff("A tariff name has 1 to 200 characters.", field="name")
    tariff = Tariff.objects.select_for_update().filter(code=code).first()
    if tariff is None:
        raise UnableToCreateTariff(f"No tariff {code}.", field="code", code=NOT_FOUND)
    tariff.name = name
    tariff.save(update_fields=["name"])
    return tariff


@transaction.atomic
def tariff_version_publish(
    *,
    tariff_code: str,
    valid_from: datetime,
    valid_to: datetime | None,
    document: object,
    now: datetime,
) -> TariffVersion:
    """Publish a version of a tariff valid over `[valid_from, valid_to)` (open end: None).

    The document is validated (`tariff/v1`); the period must not overlap another version, except an
    open-ended version valid before `valid_from`, which is ended at `valid_from` (audited) unless a rate
    publication or an issued invoice used it at or after then (`TariffVersionInUse`). Publishing the
    identical version again returns it.
    """
    tariff = Tariff.objects.select_for_update().filter(code=tariff_code).first()  # serialises publishing
    if tariff is None:
        raise UnableToPublishTariff(f"No tariff '{tariff_code}'.", field="tariff_code", code=NOT_FOUND)
    check_instant(valid_from, field="valid_from", whole_second=True, error=UnableToPublishTariff)
    if valid_to is not None:
        check_instant(valid_to, field="valid_to", whole_second=True, error=UnableToPublishTariff)
        if valid_to <= valid_from:
            raise UnableToPublishTariff("validTo must be after validFrom.", field="valid_to")
    try:
        parsed = parse_tariff_document(document)
    except InvalidTariffDocument as exc:
        path = f"document.{exc.field}" if exc.field else "document"
        raise InvalidTariffDocumentError(exc.message, field=path) from exc
    sha256 = document_sha256(document)
    overlapping = list(tariff_versions_overlapping(tariff=tariff, valid_from=valid_from, valid_to=valid_to))
    for version in overlapping:
        if (
            version.valid_from == valid_from
            and version.valid_to == valid_to
            and version.document_sha256 == sha256
        ):
            return version
    if len(overlapping) == 1 and overlapping[0].valid_to is None and overlapping[0].valid_from < valid_from:
        _tariff_version_end(overlapping[0], ends_at=valid_from)
    elif overlapping:
        raise _overlap_error(tariff, overlapping[0])
    try:
        with transaction.atomic():
            return TariffVersion.objects.create(
                tariff=tariff,
                valid_from=valid_from,
                valid_to=valid_to,
                document=document,
                kind=parsed.energy.kind,
                document_sha256=sha256,
                published_at=now,
            )
    except IntegrityError as exc:
        if "tariff_version_no_overlap" not in str(exc):
            raise
        # The exclusion constraint caught a version published concurrently (PostgreSQL).
        winner = tariff_versions_overlapping(tariff=tariff, valid_from=valid_from, valid_to=valid_to).first()
        if winner is None:
            raise OverlappingTariffVersion(
                f"The period overlaps another version of tariff {tariff.code}.", field="valid_from"
            ) from exc
        raise _overlap_error(tariff, winner) from exc


def _tariff_version_end(version: TariffVersion, *, ends_at: datetime) -> None:
    """End the open-ended `version` at `ends_at`: the one change a published version allows.

    Refused if a rate publication of a local day ending after `ends_at`, or (asked from billing through the
    `tariff_version_ending` signal, whose receivers raise) an issued invoice, used the version at or after
    `ends_at`. The change goes through `save()`, so django-auditlog records it.
    """
    zone = ZoneInfo(str(version.document.get("timezone", "UTC")))
    first_day = ends_at.astimezone(zone).date()  # days before it end at or before `ends_at`
    used = (
        RatePublication.objects.filter(tariff_version=version, day__gte=first_day)
        .order_by("day", "pk")
        .first()
    )
    if used is not None:
        raise TariffVersionInUse(
            f"Version {version.pk} of tariff {version.tariff.code} cannot end at {_iso(ends_at)}: its rates "
            f"for {used.day} are published. Publish the new version from a later day.",
            field="valid_from",
        )
    tariff_version_ending.send(sender=TariffVersion, version=version, ends_at=ends_at)
    version.valid_to = ends_at
    version.save(update_fields=["valid_to"])


def _overlap_error(tariff: Tariff, version: TariffVersion) -> OverlappingTariffVersion:
    until = _iso(version.valid_to) if version.valid_to else "open end"
    return OverlappingTariffVersion(
        f"The period overlaps version {version.pk} of tariff {tariff.code} valid from"
        f" {_iso(version.valid_from)} to {until}; published versions never change, publish a version for"
        " a later period instead.",
        field="valid_from",
    )


@transaction.atomic
def pricing_event_declare(
    *,
    kind: str,
    start: datetime,
    end: datetime,
    tariff_codes: Sequence[str],
    now: datetime,
) -> PricingEvent:
    """Declare a critical-peak or emergency window `[start, end)` for tariffs; the identical declaration
    again returns the existing event. Every version of those tariffs in the window must price the kind."""
    if kind not in PricingEvent.Kind.values:
        raise UnableToDeclareEvent(
            f"Kind must be one of {', '.join(PricingEvent.Kind.values)}.", field="kind"
        )
    check_instant(start, field="start", whole_second=True, error=UnableToDeclareEvent)
    check_instant(end, field="end", whole_second=True, error=UnableToDeclareEvent)
    if end <= start:
        raise UnableToDeclareEvent("An event must end after it starts.", field="end")
    if end - start > MAX_EVENT_LENGTH:
        raise UnableToDeclareEvent(f"An event lasts at most {MAX_EVENT_LENGTH.days} days.", field="end")
    codes = sorted(set(tariff_codes))
    if not codes:
        raise UnableToDeclareEvent("Name at least one tariff.", field="tariff_codes")
    tariffs = list(Tariff.objects.filter(code__in=codes).order_by("code"))
    unknown = sorted(set(codes) - {t.code for t in tariffs})
    if unknown:
        raise UnableToDeclareEvent(f"No tariff '{unknown[0]}'.", field="tariff_codes", code=NOT_FOUND)
    key = PricingEvent.Kind(kind).document_key
    for tariff in tariffs:
        for version in tariff_versions_overlapping(tariff=tariff, valid_from=start, valid_to=end):
            if parse_tariff_document(version.document).events.rate_for(key) is None:
                raise UnableToDeclareEvent(
                    f"Tariff {tariff.code} (version from {_iso(version.valid_from)}) has no rate for"
                    f" {key} events (events.{key}.rate_per_kwh).",
                    field="tariff_codes",
                    code="unpriced_event",
                )
    wanted = {t.pk for t in tariffs}
    for event in PricingEvent.objects.filter(kind=kind, start=start, end=end).prefetch_related("tariffs"):
        if {t.pk for t in event.tariffs.all()} == wanted:
            return event
    event = PricingEvent.objects.create(kind=kind, start=start, end=end, declared_at=now)
    event.tariffs.set(tariffs)
    return event


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
