"""The trust fund's double-entry ledger."""
