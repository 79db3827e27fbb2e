"""The platform's Functions app (Python v2 model): one blueprint per worker."""

from __future__ import annotations

import azure.functions as func

from platform_common.personal_data import install_personal_data_masking
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

# The Python worker has set up its handler (to the Functions host, hence Application
# Insights) before it indexes this module: every record the workers make is masked.
install_personal_data_masking()
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
