"""The party organisations of retired cadres and the ledger of their members (一人一档)."""
