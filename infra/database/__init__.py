"""Database layer: Azure SQL server and database, and the grants the pipeline applies."""

from infra.database.component import Database, DatabaseArgs
from infra.database.grants import DATABASE_ROLES, DatabaseUser, grant_statements, users_from_outputs
from infra.database.sql_server import SqlAdmin

__all__ = [
    "DATABASE_ROLES",
    "Database",
    "DatabaseArgs",
    "DatabaseUser",
    "SqlAdmin",
    "grant_statements",
    "users_from_outputs",
]
