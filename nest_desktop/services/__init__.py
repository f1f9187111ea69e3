"""Use cases: each runs its database work in one transaction and calls the domain's rules."""


class ValidationFailed(ValueError):
    """Bad input: `errors` maps each field to the message to show next to it."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class StaleRecordError(RuntimeError):
    """The record was changed by someone else since it was read."""
