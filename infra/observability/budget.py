"""The resource group's monthly cost budget, with notifications at the configured thresholds."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

import pulumi
from pulumi_azure_native import consumption

# Azure allows at most five notifications per budget.
# https://learn.microsoft.com/rest/api/consumption/budgets/create-or-update
MAX_NOTIFICATIONS = 5
FORECAST_PERCENT = 100


def first_of_month(today: datetime.date | None = None) -> str:
    """The first day of `today`'s month (UTC), in the form the Budgets API takes.

    Azure rejects a Monthly budget whose start date lies before the current month, and
    rejects any later change of the start date ("Start date of budgets cannot be updated").
    So no constant works for a stack created next year, and a date that moves breaks every
    later update: the start is the creation month, and `ignore_changes` keeps it in state.
    """
    day = today or datetime.datetime.now(datetime.UTC).date()
    return f"{day.year:04d}-{day.month:02d}-01T00:00:00Z"


def budget_notifications(
    thresholds_percent: Sequence[int],
    *,
    alert_emails: Sequence[str],
    action_group_id: pulumi.Input[str],
) -> dict[str, consumption.NotificationArgs]:
    """One Actual notification per threshold plus one Forecasted at 100%.

    Every notification also goes to the action group: Azure requires at least one contact
    per notification, and a stack with no alert e-mails still has the group.
    """
    if len(set(thresholds_percent)) + 1 > MAX_NOTIFICATIONS:
        raise ValueError(
            f"budget thresholds {list(thresholds_percent)} plus the 100% forecast exceed "
            f"Azure's {MAX_NOTIFICATIONS} notifications per budget"
        )

    def notification(threshold: int, kind: str) -> consumption.NotificationArgs:
        return consumption.NotificationArgs(
            enabled=True,
            operator="GreaterThanOrEqualTo",
            threshold=threshold,
            threshold_type=kind,
            contact_emails=list(alert_emails),
            contact_groups=[action_group_id],
        )

    notifications = {
        f"actual-{threshold}-percent": notification(threshold, "Actual")
        for threshold in sorted(set(thresholds_percent))
    }
    notifications[f"forecasted-{FORECAST_PERCENT}-percent"] = notification(
        FORECAST_PERCENT, "Forecasted"
    )
    return notifications


def create_budget(
    name: str,
    *,
    budget_name: str,
    scope: pulumi.Input[str],
    amount_usd: int,
    start_date: str,
    notifications: dict[str, consumption.NotificationArgs],
    parent: pulumi.Resource,
) -> consumption.Budget:
    """A Monthly cost budget on `scope` (the stack's resource group)."""
    return consumption.Budget(
        name,
        budget_name=budget_name,
        scope=scope,
        category="Cost",
        amount=amount_usd,
        time_grain="Monthly",
        # No end date: Azure sets one ten years after the start; the budget renews monthly.
        time_period=consumption.BudgetTimePeriodArgs(start_date=start_date),
        notifications=notifications,
        opts=pulumi.ResourceOptions(parent=parent, ignore_changes=["timePeriod"]),
    )
