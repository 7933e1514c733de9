"""Filters that write a bill's money, unit prices, quantities, dates and periods the one way the PDF and the
admin do (billing.exports.formatting)."""

from datetime import date
from decimal import Decimal
from typing import Any

from django import template

from billing.exports import formatting

register = template.Library()


@register.filter
def money(amount: Decimal | None, currency: str) -> str:
    """{{ invoice.total_amount|money:invoice.currency }} -> £29.75"""
    return formatting.money(amount, currency)


@register.filter
def per_kwh(rate: Decimal | None, currency: str) -> str:
    """{{ rate|per_kwh:"GBP" }} -> 24.568p/kWh"""
    return formatting.unit_price(rate, currency, "kWh")


@register.simple_tag
def unit_price(rate: Decimal | None, currency: str, unit: str) -> str:
    """{% unit_price line.unit_price invoice.currency line.unit %} -> 53.35p/day"""
    return formatting.unit_price(rate, currency, unit)


@register.filter
def quantity(value: Decimal | None, unit: str) -> str:
    """{{ line.quantity|quantity:line.unit }} -> 1,234.57 kWh"""
    return formatting.quantity(value, unit)


@register.filter
def bill_date(value: Any) -> str:
    """{{ invoice.issued_at|bill_date }} -> 9 Jan 2026"""
    return formatting.day(value)


@register.filter
def bill_period(invoice: Any) -> str:
    """{{ invoice|bill_period }} (anything with period_start and period_end) -> 1 – 31 Jan 2026"""
    start: date = invoice.period_start
    end: date = invoice.period_end
    return formatting.period(start, end)


@register.filter
def percent(rate: Decimal) -> str:
    return formatting.percent(rate)
