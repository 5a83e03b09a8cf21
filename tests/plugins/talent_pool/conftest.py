"""Fixtures of the talent pool's tests (defined with the helpers)."""

from tests.plugins.talent_pool.helpers import officers

__all__ = ["officers"]
