"""Reports: the metrics catalogue, maintained aggregates (facts), roll-ups up the tenant tree, exports.

Plugins and the core feed aggregates through :func:`core.reports.facts.record` in the same transaction as the
write that changes a figure; roll-ups read only the aggregates, never the raw rows.
"""
