"""Use cases: each runs its database work in one transaction and calls the domain's rules."""

from nest_desktop.domain.messages import _
from nest_desktop.domain.text import has_control_characters


class ValidationFailed(ValueError):
    """Bad input: `errors` maps each field to the message to show next to it."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class StaleRecordError(RuntimeError):
    """The record was changed by someone else since it was read."""


class DatabaseBusy(RuntimeError):
    """Another desk held the database's write lock longer than the wait: nothing of the
    action was written, and it can be done again."""


def as_busy(error: BaseException) -> DatabaseBusy | None:
    """SQLite's "database is locked" (or a server's lock time-out) as a French message that
    says nothing was lost, None for any other error."""
    from peewee import OperationalError

    text = str(error).lower()
    if isinstance(error, OperationalError) and any(
            words in text for words in ("database is locked", "database is busy",
                                        "lock timeout", "could not obtain lock")):
        return DatabaseBusy(_(
            "The database is busy: another desk is writing a long change (an import, a "
            "backup). Nothing was saved and what you typed is kept: try again in a moment."))
    return None


def check_characters(errors: dict[str, str], **texts: str) -> None:
    """Adds a message for each text holding an invisible control character."""
    for field, text in texts.items():
        if field not in errors and isinstance(text, str) and has_control_characters(text):
            errors[field] = _("This text holds an invisible control character: "
                              "type it again rather than paste it.")


# The sources of follow-up tasks and SMS reminders register with the engine and the scheduler
# (`hooks`) when imported: all of them are, whichever service a caller imports first, so that
# none is missing from the start-up catch-up or a transaction.
from nest_desktop.services import (  # noqa: E402, F401
    mothers_group,
    newsletters,
    patients,
    pregnancy,
    prospects,
    reception,
    segments,
    sms,
    vaccination,
)
