"""Customer-facing invoice documents: the CSV export, the portal's inline SVG charts and the PDF.

Customers see issued and void invoices only (drafts are internal)."""
