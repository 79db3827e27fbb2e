"""One Functions blueprint per worker; function_app.py registers them all."""
