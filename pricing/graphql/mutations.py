"""GraphQL mutations of the pricing app (merged from its sub-domains)."""

from core.api.merge import merge_root_types
from pricing.graphql import ledger, markets, tariffs

Mutation = merge_root_types("PricingMutation", (tariffs.Mutation, markets.Mutation, ledger.Mutation))
