"""Where the sources of follow-up tasks and SMS reminders plug in.

The follow-up engine (`followup`) and the SMS scheduler (`sms`) do not know their sources: a
visit, a pregnancy, a prospect, a call, a dose, a campaign register here what they bring,
when their module is imported (`nest_desktop.services` imports every source), and the engine
calls what is registered. A new source (the quality pilot's complaints…) registers its own
hooks; neither the engine nor the other sources change.

Every hook runs inside the transaction of whoever calls it, so that a source's own writes go
with the change that caused them, or not at all.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class Hook:
    """A named list of functions called in the order they registered."""

    def __init__(self, name: str, doc: str):
        self.name = name
        self.__doc__ = doc
        self._functions: list[Callable[..., Any]] = []

    def register(self, function: Callable[..., Any]) -> Callable[..., Any]:
        """Adds `function` (once; usable as a decorator)."""
        if function not in self._functions:
            self._functions.append(function)
        return function

    def call(self, *args, **kwargs) -> list[Any]:
        """Calls every function; their results, in order."""
        return [function(*args, **kwargs) for function in self._functions]

    def __repr__(self) -> str:
        return f"Hook({self.name!r}, {len(self._functions)} registered)"


class Registry:
    """One function per key (a source table, a kind of task…): who answers for it."""

    def __init__(self, name: str, doc: str):
        self.name = name
        self.__doc__ = doc
        self._by_key: dict[str, Callable[..., Any]] = {}

    def register(self, key: str, function: Callable[..., Any]) -> Callable[..., Any]:
        known = self._by_key.get(key)
        if known is not None and known is not function:
            raise ValueError(f"{self.name}: {key!r} is answered for already by {known!r}")
        self._by_key[key] = function
        return function

    def get(self, key: str) -> Callable[..., Any] | None:
        return self._by_key.get(key)

    def items(self) -> list[tuple[str, Any]]:
        return list(self._by_key.items())


# --- the follow-up engine -------------------------------------------------------------------

task_events = Hook(
    "task_events",
    "(when, window) -> list[followup.Event]: the stored events recent enough to make a "
    "follow-up task, for the engine's catch-up at start-up.")
task_attempted = Hook(
    "task_attempted",
    "(task, user, attempt_outcome, notes, when): a call was made for a task (the register).")
task_contact_writers = Registry(
    "task_contact_writers",
    "kind of person ('prospect') -> (task, user, outcome, notes, when) -> the contact written "
    "on her file for a call made for the task; the engine writes a patient's itself.")
task_closed = Hook(
    "task_closed",
    "(task, outcome, user, when): a task was closed by a call's outcome; each source sees to "
    "its own tasks (task.source_table, task.prospect_id).")
task_callers = Hook(
    "task_callers",
    "(sources: list[(table, id)]) -> {(table, id): (name, phone)}: who a task is about when "
    "she has no file, as she gave herself.")
call_sheet_placeholders = Registry(
    "call_sheet_placeholders",
    "source table -> (source id) -> {placeholder: value} for the guided call's script.")

time_passes = Hook(
    "time_passes",
    "(when) -> int: records that change with time alone (a post-natal pathway that ends), "
    "brought up to date with the engine's pass; each writes in its own transactions.")

kept_states = Registry(
    "kept_states",
    "name -> KeptState: what a list keeps beside the records rather than computes for each "
    "row (a child's doses due, a pregnancy's next milestone); brought up to date by the "
    "engine's pass (services.kept_state) and rebuilt by `nest-desktop rebuild-state`.")


@dataclass(frozen=True)
class KeptState:
    """A kept state's ways in; those taking the day write in their own transactions."""

    is_current: Callable[[], bool]  # computed with today's rules (else: rebuild it)
    rebuild: Callable[[Any], int]  # (today) -> rows: every state computed again
    refresh_stale: Callable[[Any], int]  # (today) -> rows: those no longer valid today
    differences: Callable[[Any], list[int]]  # (today) -> ids whose kept state is wrong


# --- records that change -----------------------------------------------------------------------

patient_created = Hook(
    "patient_created",
    "(patient, e164_numbers): a new patient file was written.")
prospect_records_moved = Hook(
    "prospect_records_moved",
    "(from_prospect, patient_id=None, prospect_id=None): a prospect became a patient or was "
    "merged into another; what hangs on her follows.")
patient_contact_changed = Hook(
    "patient_contact_changed",
    "(patient_id): her phones, language or consent to SMS changed; inside the transaction.")
child_doses_changed = Hook(
    "child_doses_changed",
    "(child_id, when=None): a child's vaccine doses or calendar changed.")
pathway_changed = Hook(
    "pathway_changed",
    "(patient_id, old, new, reason, when, change_id): her pathway changed (kept in her pathway's "
    "history); inside the transaction.")
outbox_sources = Hook(
    "outbox_sources",
    "(when) -> int: messages a source puts in the outbox at each SMS pass (the monthly "
    "newsletters whose day has come); each writes in its own transactions.")

# --- the clinic's passphrase ------------------------------------------------------------------

secrets_resealed = Hook(
    "secrets_resealed",
    "(open_old, seal_new): the clinic's passphrase was set or changed; each holder of secrets "
    "in the database opens its own with `open_old` (a value in clear passes) and seals them "
    "again with `seal_new`, inside the caller's transaction.")
