"""The audit trail: every write recorded append-only, readable by tenant admins for their subtree."""
