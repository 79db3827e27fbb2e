"""The platform's Functions app (Python v2 model): one blueprint per worker."""

from __future__ import annotations

import azure.functions as func

from workers_app.blueprints import (
    audit,
    etl,
    events,
    notifications,
    operator,
    orders,
    privacy,
    thirdparty,
)

app = func.FunctionApp()
for blueprint in (
    orders.bp,
    events.bp,
    notifications.bp,
    thirdparty.bp,
    etl.bp,
    operator.bp,
    audit.bp,
    privacy.bp,
):
    app.register_functions(blueprint)
