"""Yinling core: tenants, organisation, identity, the plugin host and the web shell."""

__version__ = "0.1.0"
