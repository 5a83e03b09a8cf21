"""Cache, session and rate-limit stores: Redis when configured, in-process otherwise."""
