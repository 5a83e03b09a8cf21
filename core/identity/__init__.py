"""Identity: accounts, tenant-scoped role grants, permissions, tokens (local now; Keycloak alongside)."""
