"""The executor's short path for plain leaf fields gives exactly what graphql-core's full path gives:
values, nulls, errors and their paths, and it steps aside for resolvers, extensions and arguments."""

import enum
from decimal import Decimal
from typing import Any

import pytest
import strawberry
from strawberry.extensions import FieldExtension, SchemaExtension
from strawberry.schema.config import StrawberryConfig

from core.api import execution
from core.api.execution import ExecutionContext
from core.api.scalars import SafeDecimal


@strawberry.enum
class Kind(enum.Enum):
    ENERGY = "ENERGY"
    DEMAND = "DEMAND"


class Shout(FieldExtension):
    def resolve(self, next_, source, info, **kwargs):
        return next_(source, info, **kwargs).upper()


@strawberry.type
class Line:
    band: str
    amount: Decimal
    unit_price: Decimal | None
    kind: Kind
    shouted: str = strawberry.field(extensions=[Shout()])

    @strawberry.field
    def doubled(self) -> Decimal:
        return self.amount * 2


class Row:
    """What a resolver hands over: a plain object (a model row, say) rather than a `Line`."""

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)


ROWS = [
    Row(band="peak", amount=Decimal("1.50"), unit_price=Decimal("0.300000"), kind="ENERGY", shouted="a"),
    Row(band="", amount=Decimal("-2.00"), unit_price=None, kind="DEMAND", shouted="b"),
]


def make_schema(rows, execution_context_class=None, extensions=()):
    @strawberry.type
    class Query:
        @strawberry.field
        def lines(self) -> list[Line]:
            return rows  # type: ignore[return-value]

    return strawberry.Schema(
        query=Query,
        config=StrawberryConfig(scalar_map={Decimal: SafeDecimal}),
        execution_context_class=execution_context_class,
        extensions=list(extensions),
    )


QUERY = "{ lines { band amount unitPrice kind shouted doubled alias: band } }"


def both(rows, query=QUERY, extensions=()):
    fast = make_schema(rows, ExecutionContext, extensions).execute_sync(query)
    full = make_schema(rows, None, extensions).execute_sync(query)
    return fast, full


def test_values_are_those_of_the_full_path():
    fast, full = both(ROWS)

    assert fast.errors is None
    assert fast.data == full.data
    assert fast.data["lines"][0] == {
        "band": "peak",
        "amount": "1.50",
        "unitPrice": "0.300000",
        "kind": "ENERGY",
        "shouted": "A",
        "doubled": "3.00",
        "alias": "peak",
    }
    assert fast.data["lines"][1]["unitPrice"] is None


@pytest.mark.parametrize(
    "bad",
    [
        Row(band=None, amount=Decimal("1"), unit_price=None, kind="ENERGY", shouted="c"),  # null, non-null
        Row(amount=Decimal("1"), unit_price=None, kind="ENERGY", shouted="c"),  # no attribute
        Row(band="x", amount=Decimal("1"), unit_price=None, kind="SOLAR", shouted="c"),  # not an enum value
    ],
    ids=["null", "missing", "not-coercible"],
)
def test_a_value_the_short_path_cannot_complete_gets_graphql_cores_error(bad):
    fast, full = both([ROWS[0], bad])

    assert fast.data == full.data
    assert [(e.message, e.path) for e in fast.errors] == [(e.message, e.path) for e in full.errors]
    assert fast.errors


def test_resolvers_field_extensions_and_arguments_take_the_full_path():
    plans = execution._plans
    plans.clear()
    schema = make_schema(ROWS, ExecutionContext)
    schema.execute_sync(QUERY)

    line_plans = {
        field: plan for (type_name, field), plan in next(iter(plans.values())).items() if type_name == "Line"
    }
    assert {field for field, plan in line_plans.items() if plan is not None} == {
        "band",
        "amount",
        "unitPrice",
        "kind",
    }
    assert line_plans["shouted"] is None
    assert line_plans["doubled"] is None


class Whisper(SchemaExtension):
    """An extension that hooks every field's resolution: the short path must not bypass it."""

    def resolve(self, _next, root, info, *args, **kwargs):
        value = _next(root, info, *args, **kwargs)
        return value.lower() if isinstance(value, str) else value


def test_an_extension_hooking_field_resolution_turns_the_short_path_off():
    rows = [Row(band="PEAK", amount=Decimal("1.50"), unit_price=None, kind="ENERGY", shouted="a")]

    fast, full = both(rows, "{ lines { band } }", extensions=[Whisper])

    assert fast.data == full.data == {"lines": [{"band": "peak"}]}


@pytest.mark.django_db
def test_model_fields_are_read_when_loaded_and_loaded_when_deferred(django_assert_num_queries):
    import strawberry_django

    from billing.models import Customer

    Customer.objects.create(account_number="ACC-X", name="Loaded Ltd", email="x@example.com")

    @strawberry_django.type(Customer)
    class CustomerType:
        account_number: strawberry.auto
        name: strawberry.auto
        email: strawberry.auto

    def schema_for(queryset):
        @strawberry.type
        class Query:
            @strawberry.field
            def customers(self) -> list[CustomerType]:
                return list(queryset())  # type: ignore[return-value]

        return strawberry.Schema(query=Query, execution_context_class=ExecutionContext)

    loaded = schema_for(lambda: Customer.objects.all())
    deferred = schema_for(lambda: Customer.objects.only("id", "account_number"))
    query = "{ customers { accountNumber name email } }"

    expected = {"customers": [{"accountNumber": "ACC-X", "name": "Loaded Ltd", "email": "x@example.com"}]}
    with django_assert_num_queries(1):
        assert loaded.execute_sync(query).data == expected
    with django_assert_num_queries(3):  # the rows, then each deferred field loaded by the full path
        assert deferred.execute_sync(query).data == expected


def test_async_execution_gives_the_same_values():
    import asyncio

    fast = asyncio.run(make_schema(ROWS, ExecutionContext).execute(QUERY))
    full = asyncio.run(make_schema(ROWS).execute(QUERY))

    assert fast.errors is None
    assert fast.data == full.data
