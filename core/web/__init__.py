"""The web shell: the app factory, health probes, middleware and (later) the console pages."""
