import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from billing.models import Customer
from config.models import ApiClient


@pytest.mark.django_db
def test_demo_loads_the_utility_and_prints_working_logins(capsys):
    call_command("demo", "--no-serve")
    call_command("demo", "--no-serve")  # a second run changes nothing but the printed secrets

    out = capsys.readouterr().out.split("Demo ready")[-1]
    staff_password = out.split("user: staff     password: ")[1].split()[0]
    customer_password = out.split("user: customer  password: ")[1].split()[0]
    assert authenticate(username="staff", password=staff_password).is_staff
    assert (
        authenticate(username="customer", password=customer_password).customer.account_number == "DEMO-0001"
    )
    assert Customer.objects.count() == 1
    assert ApiClient.objects.count() == 1
