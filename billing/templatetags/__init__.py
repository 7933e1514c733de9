"""Template tags of the billing app: `bill_format` writes amounts, rates and periods the one way
(billing.exports.formatting)."""
