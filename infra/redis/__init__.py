"""Optional cache layer: Azure Managed Redis (seed 003: dev and prod by flag)."""

from infra.redis.component import (
    CACHE_CLIENTS,
    CLUSTERING_POLICY,
    DATABASE_PORT,
    Redis,
    RedisArgs,
)

__all__ = ["CACHE_CLIENTS", "CLUSTERING_POLICY", "DATABASE_PORT", "Redis", "RedisArgs"]
