"""GraphQL types of the billing app."""

import strawberry_django
from strawberry import auto

from billing.models import Customer


@strawberry_django.type(Customer, name="Customer")
class CustomerType:
    account_number: auto
    name: auto
    email: auto
