"""Writes of the billing app, one module per sub-domain: `customers`, `agreements`, `bill_runs` (a run's
lifecycle) with `bill_loading` (accounts and rates loaded, bills computed) and `bill_writes` (bulk writes),
`drafts` (re-rating), `rebilling`, `invoices` (issue, void, credit notes, numbering), `payments`,
`webhooks`, `comparison` (tariff comparison), `p2p` (peer-to-peer trading) and `demo` (the demo's steps)."""
