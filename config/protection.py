"""Key Vault protection, private endpoints, the WAF, and what monitoring watches."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from config.base import _Model


class SecuritySettings(_Model):
    """Key Vault protection and private endpoints."""

    enable_private_endpoints: bool
    enable_purge_protection: bool
    # Fixed when the vault is created; Azure allows 7-90 days.
    soft_delete_retention_days: Annotated[int, Field(ge=7, le=90)]
    waf_mode: Literal["Detection", "Prevention"]
    # Requests one client IP may make per minute before Front Door's WAF blocks it.
    waf_rate_limit_per_minute: Annotated[int, Field(ge=10, le=100_000)] = 1000
    # Front Door's WAF runs Microsoft's managed rule sets (default rule set and bot manager)
    # besides the custom rules. Only Front Door Premium has them; Standard takes custom rules
    # only. https://learn.microsoft.com/azure/frontdoor/front-door-cdn-comparison
    waf_managed_rules: bool = False
    # Pulumi `protect` plus a CanNotDelete lock on data resources (SQL, storage, Key Vault).
    protect_data: bool = False


class AlertThresholds(_Model):
    """When the platform's alerts fire; stricter where users are real."""

    gateway_5xx_percent: Annotated[float, Field(gt=0, le=100)] = 5.0
    gateway_latency_ms: Annotated[int, Field(gt=0)] = 2000
    dead_letter_messages: Annotated[int, Field(ge=1)] = 1
    active_messages_backlog: Annotated[int, Field(ge=1)] = 1000
    function_failures: Annotated[int, Field(ge=1)] = 5
    container_restarts: Annotated[int, Field(ge=1)] = 3
    sql_cpu_percent: Annotated[float, Field(gt=0, le=100)] = 80.0
    sql_storage_percent: Annotated[float, Field(gt=0, le=100)] = 85.0
    # Azure Monitor severities: 0 critical ... 4 verbose.
    severity: Annotated[int, Field(ge=0, le=4)] = 2


class MonitoringSettings(_Model):
    """Log Analytics retention and ingestion cap, alert thresholds and the monthly budget."""

    # PerGB2018 workspaces keep data 30-730 days.
    log_retention_days: Annotated[int, Field(ge=30, le=730)]
    # None means no cap (Azure's -1).
    daily_quota_gb: Annotated[float, Field(gt=0, le=1000)] | None
    monthly_budget_usd: Annotated[int, Field(gt=0)]
    budget_alert_thresholds_percent: tuple[Annotated[int, Field(gt=0, le=1000)], ...] = (
        50,
        80,
        100,
    )
    alerts: AlertThresholds = AlertThresholds()
