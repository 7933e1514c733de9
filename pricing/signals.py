"""Signals of the pricing app, for apps above it (billing) that must have their say."""

from django.dispatch import Signal

# Sent before an open-ended tariff version is ended at `ends_at` (kwargs: `version`, `ends_at`). A receiver
# that knows of a use of the version at or after `ends_at` (an issued invoice) raises a DomainError naming
# the field `valid_from`; the publication is then refused and nothing is written.
tariff_version_ending = Signal()
