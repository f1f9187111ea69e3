"""The states the lists keep rather than compute for every row (services register them in
`hooks.kept_states`): the maintenance pass brings those that time made stale up to date, a
changed rule (a corrected schedules file, a new version) rebuilds them, and
`nest-desktop rebuild-state` rebuilds and checks them."""

import datetime as dt

from nest_desktop.domain import clock
from nest_desktop.services import hooks


def rebuild(today: dt.date | None = None) -> dict[str, int]:
    """Every kept state computed again; the rows written, by state."""
    today = today or clock.today()
    return {name: state.rebuild(today) for name, state in hooks.kept_states.items()}


def differences(today: dt.date | None = None) -> dict[str, list[int]]:
    """The records whose kept state differs from the computation (none, unless a writer
    forgot to keep it), by state."""
    today = today or clock.today()
    return {name: state.differences(today) for name, state in hooks.kept_states.items()}


@hooks.time_passes.register
def refresh_stale(when: dt.datetime | None = None) -> int:
    """The states time made stale (a window that opened or closed) computed again; with the
    engine's pass."""
    today = (when or clock.now()).date()
    return sum(state.refresh_stale(today) for _name, state in hooks.kept_states.items())
