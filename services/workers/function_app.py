"""The platform's Functions app (Python v2 model): one blueprint per worker."""

from __future__ import annotations

import azure.functions as func

from workers_app.blueprints import orders

app = func.FunctionApp()
app.register_functions(orders.bp)
