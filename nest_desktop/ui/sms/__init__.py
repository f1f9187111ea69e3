"""SMS: the outbox, the sender running while the window is open, its settings."""
