"""The platform's Azure Functions workers: handler logic, settings and blueprints."""
