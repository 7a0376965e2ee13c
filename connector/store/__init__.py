"""Persistence: SQLAlchemy models, engine and session factory, repositories, Alembic migrations.

Importing the package registers every table (the reply tables live in `reply_models`).
"""

from connector.store import models, reply_models

__all__ = ["models", "reply_models"]
