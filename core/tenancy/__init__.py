"""Tenants: the province > city > county tree, keyed by GB/T 2260 division codes."""
