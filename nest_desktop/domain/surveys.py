"""Satisfaction surveys (PAT-03, PAT-08): questions as data in
`resources/followup/surveys.json`, answers checked and scored here."""

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from nest_desktop.domain.followup import in_language
from nest_desktop.domain.messages import _

KINDS = ("score", "yes_no", "text")
SCORE_MIN, SCORE_MAX = 1, 5
TEXT_MAX = 2000

_surveys_file: Path | None = None


def use_surveys_file(path: Path) -> None:
    global _surveys_file
    _surveys_file = Path(path)
    surveys.cache_clear()


@dataclass(frozen=True)
class Question:
    id: str
    kind: str
    required: bool
    label: dict[str, str]

    def label_in(self, language: str) -> str:
        return in_language(self.label, language) or self.id


@dataclass(frozen=True)
class Survey:
    name: str
    label: dict[str, str]
    questions: tuple[Question, ...]

    def label_in(self, language: str) -> str:
        return in_language(self.label, language) or self.name


def parse_surveys(data: dict) -> dict[str, Survey]:
    parsed = {}
    try:
        for name, item in data["surveys"].items():
            questions = tuple(Question(q["id"], q["kind"], bool(q.get("required", False)),
                                       dict(q["label"])) for q in item["questions"])
            for question in questions:
                if question.kind not in KINDS:
                    raise ValueError(f"survey {name}: unknown kind {question.kind!r}")
            if len({q.id for q in questions}) != len(questions):
                raise ValueError(f"survey {name}: two questions have the same id")
            parsed[name] = Survey(name, dict(item.get("label", {})), questions)
    except (KeyError, TypeError) as error:
        raise ValueError(f"surveys: missing or wrong entry {error}") from error
    return parsed


@lru_cache(maxsize=1)
def surveys() -> dict[str, Survey]:
    if _surveys_file is None:
        raise RuntimeError("the surveys' file was not given")
    with _surveys_file.open(encoding="utf-8") as handle:
        return parse_surveys(json.load(handle))


def check_answers(survey: str, answers: dict) -> tuple[dict, dict[str, str]]:
    """The answers kept (unanswered optional questions dropped) and, per question id, the
    message to show next to it."""
    kept, errors = {}, {}
    for question in surveys()[survey].questions:
        value = answers.get(question.id)
        if value in (None, ""):
            if question.required:
                errors[question.id] = _("Give an answer to this question.")
            continue
        if question.kind == "score":
            if not isinstance(value, int) or not SCORE_MIN <= value <= SCORE_MAX:
                errors[question.id] = _("Choose a mark from 1 to 5.")
                continue
        elif question.kind == "yes_no":
            if not isinstance(value, bool):
                errors[question.id] = _("Answer yes or no.")
                continue
        else:
            value = str(value).strip()
            if len(value) > TEXT_MAX:
                errors[question.id] = _("At most {count} characters.").format(count=TEXT_MAX)
                continue
        kept[question.id] = value
    return kept, errors


def score(survey: str, answers: dict) -> int | None:
    """The mean of the marks on 0-100 (1 → 0, 5 → 100); None when no mark was given."""
    marks = [answers[q.id] for q in surveys()[survey].questions
             if q.kind == "score" and isinstance(answers.get(q.id), int)]
    if not marks:
        return None
    return round(sum((m - SCORE_MIN) * 100 / (SCORE_MAX - SCORE_MIN) for m in marks)
                 / len(marks))
