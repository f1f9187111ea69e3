"""The states the lists keep rather than compute for every row (services register them in
`hooks.kept_states`): the maintenance pass brings those that time made stale up to date, a
changed rule (a corrected schedules file, a new version) rebuilds them, and
`nest-desktop rebuild-state` rebuilds and checks them."""

import datetime as dt

from nest_desktop.domain import clock
from nest_desktop.services import hooks, leases


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
    """The states time made stale (a window that opened or closed) computed again, with the
    engine's pass; those computed with other rules (a corrected file, an upgrade) rebuilt
    whole, by one workstation at a time (the lists compute them meanwhile)."""
    today = (when or clock.now()).date()
    written = 0
    for name, state in hooks.kept_states.items():
        if state.is_current():
            written += state.refresh_stale(today)
            continue
        with leases.held(f"kept_state.{name}", 30) as mine:
            if mine:
                written += state.rebuild(today)
    return written
