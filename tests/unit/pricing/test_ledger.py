"""The ledger's canonical content, hashes and chain verification (pricing/ledger.py)."""

import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from pricing import ledger

START = datetime(2024, 1, 14, 23, 0, tzinfo=UTC)


def lines(*rates: str) -> list[ledger.RateLine]:
    return [
        ledger.RateLine(
            START + timedelta(minutes=30 * i),
            START + timedelta(minutes=30 * (i + 1)),
            Decimal(rate),
            [{"rule": "market", "per_kwh": rate, "note": "n"}],
        )
        for i, rate in enumerate(rates)
    ]


def content(rates=("0.100000", "-0.020000"), **overrides) -> bytes:
    fields = {
        "tariff_code": "DYN-1",
        "version_id": 7,
        "version_sha256": "ab" * 32,
        "day": date(2024, 1, 15),
        "revision": 1,
        "rates": rates if isinstance(rates[0], ledger.RateLine) else lines(*rates),
    }
    return ledger.canonical_content(**{**fields, **overrides})


def test_canonical_content_is_sorted_compact_json_with_utc_instants_and_six_place_rates():
    text = content(rates=("0.1", "-0.02")).decode()

    assert " " not in text.replace("DYN-1", "")
    assert text == json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"))
    parsed = json.loads(text)
    assert parsed["intervals"][0] == {
        "breakdown": [{"note": "n", "per_kwh": "0.1", "rule": "market"}],
        "interval_end": "2024-01-14T23:30:00Z",
        "interval_start": "2024-01-14T23:00:00Z",
        "rate_per_kwh": "0.100000",
    }
    assert parsed["tariff_code"] == "DYN-1"
    assert parsed["day"] == "2024-01-15"
    assert parsed["revision"] == 1


def test_canonical_content_does_not_depend_on_row_order_or_offset_of_instants():
    shuffled = list(reversed(lines("0.1", "0.2")))
    shifted = [
        ledger.RateLine(
            r.interval_start.astimezone(ZoneInfo("Asia/Tokyo")),
            r.interval_end,
            r.rate_per_kwh,
            r.breakdown,
        )
        for r in shuffled
    ]

    assert content(rates=("0.1", "0.2")) == content(rates=shifted)


@pytest.mark.parametrize(
    "change",
    [{"revision": 2}, {"day": date(2024, 1, 16)}, {"version_id": 8}, {"rates": ("0.100001", "-0.02")}],
)
def test_any_change_changes_the_content_hash(change):
    assert ledger.sha256_hex(content(**change)) != ledger.sha256_hex(content())


def test_entry_hash_is_sha256_of_previous_content_and_sequence():
    expected = hashlib.sha256(("0" * 64 + "c" * 64 + "1").encode()).hexdigest()

    assert ledger.entry_hash(ledger.GENESIS, "c" * 64, 1) == expected
    assert ledger.GENESIS == "0" * 64


def chain(n: int) -> list[ledger.Link]:
    links, previous = [], ledger.GENESIS
    for sequence in range(1, n + 1):
        content_sha = ledger.sha256_hex(content(revision=sequence))
        entry = ledger.entry_hash(previous, content_sha, sequence)
        links.append(ledger.Link(sequence, previous, content_sha, entry, content_sha, content_sha))
        previous = entry
    return links


def replace(link: ledger.Link, **changes) -> ledger.Link:
    return ledger.Link(**{**link.__dict__, **changes})


def test_an_intact_chain_verifies():
    assert ledger.chain_verify(chain(4)) == ledger.VerifyReport(entries_checked=4, ok=True)
    assert ledger.chain_verify([]).ok


def test_a_changed_publication_breaks_its_entry():
    links = chain(3)
    links[1] = replace(links[1], recomputed_sha256="f" * 64)

    report = ledger.chain_verify(links)

    assert (report.ok, report.first_broken.sequence) == (False, 2)
    assert report.first_broken.reason.startswith("content mismatch")


def test_a_missing_entry_is_reported_by_its_sequence():
    links = chain(4)
    del links[1]

    report = ledger.chain_verify(links)

    assert report.first_broken.sequence == 2
    assert report.first_broken.reason.startswith("sequence gap")


def test_swapped_entries_break_at_the_first_swapped_sequence():
    links = chain(3)
    first, second = links[0], links[1]
    links[0] = replace(second, sequence=1)
    links[1] = replace(first, sequence=2)

    report = ledger.chain_verify(links)

    assert report.first_broken.sequence == 1
    assert report.first_broken.reason.startswith("previous hash mismatch")


def test_a_forged_entry_hash_is_detected():
    links = chain(3)
    links[2] = replace(links[2], entry_sha256="e" * 64)

    assert ledger.chain_verify(links).first_broken == ledger.Broken(
        3, "entry hash mismatch: the entry was forged or altered"
    )


def test_a_forged_entry_with_a_recomputed_hash_is_caught_by_its_content():
    links = chain(3)
    wrong = "d" * 64
    links[1] = replace(
        links[1], content_sha256=wrong, entry_sha256=ledger.entry_hash(links[1].previous_sha256, wrong, 2)
    )

    report = ledger.chain_verify(links)

    assert report.first_broken.sequence == 2
    assert report.first_broken.reason.startswith("content hash mismatch")


def test_report_as_dict():
    report = ledger.VerifyReport(3, False, ledger.Broken(2, "why"))

    assert report.as_dict() == {
        "entries_checked": 3,
        "ok": False,
        "first_broken": {"sequence": 2, "reason": "why"},
    }
