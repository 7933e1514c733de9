"""Builders shared by the pricing unit tests (session-scoped, so hypothesis tests can use them too)."""

from collections.abc import Callable

import pytest

from pricing.documents import TariffDocument, parse_tariff_document


@pytest.fixture(scope="session")
def tariff() -> Callable[..., TariffDocument]:
    """tariff(energy, **top_level) -> a parsed GBP, Europe/London document unless overridden."""

    def make(energy: dict, **top_level: object) -> TariffDocument:
        return parse_tariff_document(
            {
                "format": "tariff/v1",
                "currency": "GBP",
                "timezone": "Europe/London",
                "energy": energy,
                **top_level,
            }
        )

    return make
