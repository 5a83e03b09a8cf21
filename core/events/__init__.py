"""Domain events through a transactional outbox, delivered to plugins' ``on_event`` hooks.

Write with :func:`core.events.outbox.emit` in the same transaction as the change; the dispatcher delivers
after commit, at least once, recording each delivery so a consumer's effect happens once.
"""
