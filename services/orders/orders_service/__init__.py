"""Orders API: order lifecycle with validation, risk checks and an outbox."""
