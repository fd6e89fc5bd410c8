"""Alembic migrations of caseledger's own tables (the log and the read models).

The event tables belong to ``eventsourcing`` and are not migrated here. Run them with
:func:`ledger.store.migrate.upgrade`; this folder is the Alembic script location.
"""
