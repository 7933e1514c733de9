"""Staff see meter points, meters, readings (read-only, filtered) and data issues in admin; meter points and
meters are written through their services."""

from datetime import UTC, datetime

import pytest

from metering.models import DataIssue, Meter, MeterPoint, Reading
from metering.services.meters import meter_point_create
from tests.factories.metering import half_hours, ingest, make_meter

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def test_readings_are_listed_filtered_by_serial_without_counting_the_table(
    staff_client, django_assert_max_num_queries
):
    ingest(make_meter("M-1"), half_hours(datetime(2024, 1, 15, tzinfo=UTC), 4, "0.4321"))
    ingest(make_meter("M-2"), half_hours(datetime(2024, 1, 15, tzinfo=UTC), 4, "0.9999"))

    with django_assert_max_num_queries(12):
        response = staff_client.get("/admin/metering/reading/", {"q": "M-1"})

    assert response.status_code == 200
    assert response.content.count(b"0.4321") == 4
    assert b"0.9999" not in response.content


def test_readings_cannot_be_added_changed_or_deleted_in_admin(staff_client):
    ingest(make_meter("M-1"), half_hours(datetime(2024, 1, 15, tzinfo=UTC), 1, "0.4321"))
    reading = Reading.objects.get()

    assert staff_client.get("/admin/metering/reading/add/").status_code == 403
    assert (
        staff_client.post(f"/admin/metering/reading/{reading.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    staff_client.post(f"/admin/metering/reading/{reading.pk}/change/", {"energy_kwh": "9"})
    assert Reading.objects.get().energy_kwh == reading.energy_kwh


def test_meter_points_show_their_meters(staff_client):
    meter = make_meter("M-1")

    response = staff_client.get(f"/admin/metering/meterpoint/{meter.meter_point_id}/change/")

    assert response.status_code == 200
    assert b"M-1" in response.content


def test_open_data_issues_can_be_resolved(staff_client):
    meter = make_meter("M-1")
    issue = DataIssue.objects.create(
        meter=meter,
        kind=DataIssue.Kind.GAP,
        starts_at=datetime(2024, 1, 15, tzinfo=UTC),
        ends_at=datetime(2024, 1, 15, 2, tzinfo=UTC),
        detail="4 intervals missing",
    )

    listing = staff_client.get("/admin/metering/dataissue/", {"status__exact": DataIssue.Status.OPEN})
    staff_client.post(
        "/admin/metering/dataissue/", {"action": "mark_resolved", "_selected_action": [issue.pk]}
    )

    assert b"4 intervals missing" in listing.content
    issue.refresh_from_db()
    assert issue.status == DataIssue.Status.RESOLVED


def meter_point_post(**changes) -> dict:
    fields = {
        "identifier": "MP-9",
        "timezone": "Europe/London",
        "feeder_code": "F-1",
        "region_code": "R-1",
        "heating_type": "GAS",
        "residents": "3",
        "has_pv": "on",
        "max_power_kw": "100",
        "meters-TOTAL_FORMS": "0",
        "meters-INITIAL_FORMS": "0",
        "meters-MIN_NUM_FORMS": "0",
        "meters-MAX_NUM_FORMS": "1000",
    }
    return {**fields, **changes}


def test_a_meter_point_added_and_changed_in_admin_goes_through_the_services(staff_client):
    added = staff_client.post("/admin/metering/meterpoint/add/", meter_point_post(identifier=" MP-9 "))
    point = MeterPoint.objects.get()
    refused = staff_client.post(
        f"/admin/metering/meterpoint/{point.pk}/change/", meter_point_post(timezone="Mars/Olympus")
    )
    changed = staff_client.post(
        f"/admin/metering/meterpoint/{point.pk}/change/", meter_point_post(feeder_code="F-2", residents="4")
    )
    point.refresh_from_db()

    assert added.status_code == 302, added.content[:2000]
    assert refused.status_code == 200  # the form again, with the service's error on the zone
    assert b"is not an IANA time zone" in refused.content
    assert changed.status_code == 302, changed.content[:2000]
    assert (point.identifier, point.timezone, point.feeder_code, point.residents, point.has_pv) == (
        "MP-9",  # stripped by meter_point_create
        "Europe/London",
        "F-2",
        4,
        True,
    )


def test_a_meter_installed_in_admin_keeps_its_resolution_and_is_removed_after_it_was_installed(
    staff_client,
):
    point = meter_point_create(identifier="MP-9")
    install = {
        "meter_point": point.pk,
        "serial": "M-9",
        "direction": "IMPORT",
        "resolution_minutes": "30",
        "installed_at_0": "2024-01-01",
        "installed_at_1": "00:00:00",
    }
    bad_resolution = staff_client.post("/admin/metering/meter/add/", {**install, "resolution_minutes": "7"})
    added = staff_client.post("/admin/metering/meter/add/", install)
    meter = Meter.objects.get()
    period = {"installed_at_0": "2024-01-01", "installed_at_1": "00:00:00", "removed_at_1": "00:00:00"}
    too_early = staff_client.post(
        f"/admin/metering/meter/{meter.pk}/change/",
        {**period, "removed_at_0": "2023-12-31", "resolution_minutes": "60"},
    )
    removed = staff_client.post(
        f"/admin/metering/meter/{meter.pk}/change/",
        {**period, "removed_at_0": "2024-07-01", "resolution_minutes": "60"},
    )
    meter.refresh_from_db()

    assert bad_resolution.status_code == 200
    assert b"Resolution must be 5, 10, 15, 30 or 60 minutes" in bad_resolution.content
    assert added.status_code == 302, added.content[:2000]
    assert too_early.status_code == 200
    assert b"removed after it is installed" in too_early.content
    assert removed.status_code == 302, removed.content[:2000]
    assert (meter.resolution_minutes, meter.removed_at) == (30, datetime(2024, 7, 1, tzinfo=UTC))
