"""The storage side of the ledger: eventsourcing streams, the Merkle log's tables, read models,
migrations and the audit that replays them. Everything that touches a database lives here; the
pure domain in ``ledger/`` imports nothing from this folder."""
