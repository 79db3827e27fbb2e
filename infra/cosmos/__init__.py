"""Optional NoSQL layer: serverless Cosmos DB for the ETL run log (seed 003: dev only by flag)."""

from infra.cosmos.component import (
    DATA_CONTRIBUTOR_ROLE,
    DATABASE_NAME,
    RUNS_CONTAINER,
    RUNS_PARTITION_KEY,
    Cosmos,
    CosmosArgs,
    runs_ttl_seconds,
)

__all__ = [
    "DATABASE_NAME",
    "DATA_CONTRIBUTOR_ROLE",
    "RUNS_CONTAINER",
    "RUNS_PARTITION_KEY",
    "Cosmos",
    "CosmosArgs",
    "runs_ttl_seconds",
]
