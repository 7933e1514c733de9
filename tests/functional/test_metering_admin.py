"""Staff see meter points, meters, readings (read-only, filtered) and data issues in admin."""

from datetime import UTC, datetime

import pytest

from metering.models import DataIssue, Reading
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
