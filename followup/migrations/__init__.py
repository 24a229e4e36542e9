"""Alembic migrations: the schema's history (see followup.migrate)."""
