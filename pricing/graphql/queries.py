"""GraphQL queries of the pricing app (merged from its sub-domains)."""

from core.api.merge import merge_root_types
from pricing.graphql import ledger, markets, tariffs

Query = merge_root_types("PricingQuery", (tariffs.Query, markets.Query, ledger.Query))
