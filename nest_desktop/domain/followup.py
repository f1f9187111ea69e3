"""Follow-up rules (PAT-03, PAT-07, PAT-08, PAT-10, PRO-06, PRO-07, TEL-07/08): which event
makes which call or survey due, and when. The rules are data in
`resources/followup/rules.json`; the application tells this module where the file is."""

import datetime as dt
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from nest_desktop.domain.dates import add_months
from nest_desktop.domain.messages import _

DEFAULT_CLOSING_TIME = dt.time(18, 0)

_rules_file: Path | None = None


def use_rules_file(path: Path) -> None:
    global _rules_file
    _rules_file = Path(path)
    _data.cache_clear()
    rules.cache_clear()
    procedures.cache_clear()


@dataclass(frozen=True)
class Offset:
    """A time after (or before, when negative) the trigger event."""

    hours: int = 0
    days: int = 0
    weeks: int = 0
    months: int = 0
    end_of_day: bool = False

    @classmethod
    def parse(cls, data: dict) -> "Offset":
        unknown = set(data) - {"hours", "days", "weeks", "months", "end_of_day"}
        if unknown:
            raise ValueError(f"unknown offset unit: {sorted(unknown)}")
        return cls(**{key: (bool(value) if key == "end_of_day" else int(value))
                      for key, value in data.items()})

    def after(self, event: dt.datetime, closing_time: dt.time = DEFAULT_CLOSING_TIME
              ) -> dt.datetime:
        moment = add_months(event, self.months) if self.months else event
        moment += dt.timedelta(hours=self.hours, days=self.days, weeks=self.weeks)
        if self.end_of_day:
            # The closing time of the day reached; a moment after it is that day's all the same.
            return max(dt.datetime.combine(moment.date(), closing_time), moment)
        return moment


@dataclass(frozen=True)
class Rule:
    name: str
    requirement: str
    trigger: str
    offset: Offset
    opens: Offset
    assignee_role: str
    resolved_by: str
    label: dict[str, str]
    script: dict[str, tuple[str, ...]] = field(default_factory=dict)
    max_attempts: int = 3
    retry_after: Offset = Offset(hours=4)
    survey: str = ""
    procedure: str = ""  # the key of the procedure it applies

    def label_in(self, language: str) -> str:
        return in_language(self.label, language) or self.name

    def script_in(self, language: str) -> tuple[str, ...]:
        return tuple(in_language(self.script, language) or ())


def in_language(texts: dict, language: str):
    """The text of a data file in `language`, else in French (the clinic's language)."""
    return texts.get(language) or texts.get("fr")


def parse_rules(data: dict) -> dict[str, Rule]:
    """Reads the rules' data; raises ValueError naming what is wrong."""
    parsed = {}
    try:
        for name, item in data["rules"].items():
            parsed[name] = Rule(
                name, item.get("requirement", ""), item["trigger"],
                Offset.parse(item["offset"]), Offset.parse(item.get("opens", {})),
                item["assignee_role"], item["resolved_by"], dict(item.get("label", {})),
                {lang: tuple(lines) for lang, lines in item.get("script", {}).items()},
                int(item.get("max_attempts", 3)),
                Offset.parse(item.get("retry_after", {"hours": 4})), item.get("survey", ""),
                item.get("procedure", ""))
            if parsed[name].max_attempts < 1:
                raise ValueError(f"follow-up rule {name}: max_attempts must be 1 or more")
    except (KeyError, TypeError) as error:
        raise ValueError(f"follow-up rules: missing or wrong entry {error}") from error
    return parsed


@lru_cache(maxsize=1)
def _data() -> dict:
    if _rules_file is None:
        raise RuntimeError("the follow-up rules' file was not given")
    with _rules_file.open(encoding="utf-8") as handle:
        return json.load(handle)


@lru_cache(maxsize=1)
def rules() -> dict[str, Rule]:
    return parse_rules(_data())


@dataclass(frozen=True)
class Procedure:
    """The version of an ISO 9001 procedure the rules implement, as on its document."""

    key: str
    code: str  # "PO06-PR0001"; empty where the document gives none
    revision: str  # its "I.E.", e.g. "6"
    date: str  # of that revision, ISO
    title: dict[str, str]
    pilot: dict[str, str]
    reference: str

    def title_in(self, language: str) -> str:
        return in_language(self.title, language) or self.key

    def pilot_in(self, language: str) -> str:
        return in_language(self.pilot, language) or ""


@lru_cache(maxsize=1)
def procedures() -> dict[str, Procedure]:
    """Which procedure, at which revision, the rules apply (shown in Settings for an audit)."""
    return {key: Procedure(key, item.get("code", ""), str(item.get("revision", "")),
                           item.get("date", ""), dict(item.get("title", {})),
                           dict(item.get("pilot", {})), item.get("reference", ""))
            for key, item in _data().get("procedures", {}).items()}


def backfill_days() -> int:
    """Events whose deadline passed longer ago than this make no task (archives typed in)."""
    return int(_data().get("backfill_days", 30))


def worth_creating(rule: str, event: dt.datetime, now: dt.datetime,
                   closing_time: dt.time = DEFAULT_CLOSING_TIME) -> bool:
    return deadline(rule, event, closing_time) >= now - dt.timedelta(days=backfill_days())


def next_attempt(rule: str, attempted_at: dt.datetime) -> dt.datetime:
    """When to try again after a call that nobody answered."""
    return rules()[rule].retry_after.after(attempted_at)


def urgency(due_at: dt.datetime, now: dt.datetime) -> str:
    """'overdue', 'today' or 'later': how the Today list groups and colours a task."""
    if due_at < now:
        return "overdue"
    if due_at.date() == now.date():
        return "today"
    return "later"


def deadline(rule: str, event: dt.datetime,
             closing_time: dt.time = DEFAULT_CLOSING_TIME) -> dt.datetime:
    """When the follow-up `rule` triggered by `event` must be done.

    For `call_36_weeks` the event is the DDR (a date is taken at midnight); for `same_day`
    the deadline is the closing time of the event's day (18:00 unless the clinic says
    otherwise).
    """
    if rule not in rules():
        raise ValueError(f"unknown follow-up rule: {rule}")
    if not isinstance(event, dt.datetime):
        event = dt.datetime.combine(event, dt.time(0, 0))
    return rules()[rule].offset.after(event, closing_time)


def opens_at(rule: str, event: dt.datetime,
             closing_time: dt.time = DEFAULT_CLOSING_TIME) -> dt.datetime:
    """From when the follow-up may be done (the 36-week call opens at 35 weeks)."""
    if not isinstance(event, dt.datetime):
        event = dt.datetime.combine(event, dt.time(0, 0))
    return rules()[rule].opens.after(event, closing_time)


def impossible_event(rule: str, event: dt.datetime, now: dt.datetime,
                     not_before: dt.datetime | None = None) -> str | None:
    """Why an event cannot make this follow-up (a discharge before the delivery, a visit
    still to come), or None when it can."""
    if rules()[rule].trigger == "deadline":  # the event is a day set by a person, ahead
        return None
    if rules()[rule].trigger == "ddr":
        if event.date() > now.date():
            return _("The last menstrual period cannot be in the future.")
    elif event.date() > now.date():  # a visit known by its date counts from closing time
        return _("This event has not happened yet: its follow-up comes once it has.")
    if not_before is not None and event < not_before:
        if rules()[rule].trigger == "discharge":
            return _("The discharge cannot come before the delivery.")
        return _("This event cannot come before the one it follows.")
    return None
