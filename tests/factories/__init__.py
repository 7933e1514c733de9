"""Factories for the tests (factory_boy)."""

import factory
from django.contrib.auth import get_user_model

from billing.models import Customer


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("pw-for-tests")


class StaffFactory(UserFactory):
    is_staff = True


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    account_number = factory.Sequence(lambda n: f"ACC-{n:05d}")
    name = factory.Faker("name")
    email = factory.Faker("email")
    user = factory.SubFactory(UserFactory)
