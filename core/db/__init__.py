"""The data layer: declarative base, tenant scope (both locks), engines and sessions."""
