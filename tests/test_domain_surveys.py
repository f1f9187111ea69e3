"""Surveys as data: answers checked, marks scored."""

import pytest

from nest_desktop.domain import surveys


def test_answers_are_checked_question_by_question():
    kept, errors = surveys.check_answers("satisfaction_72h", {
        "welcome": 6, "waiting": "4", "consultation": 3, "recommend": "yes",
        "comment": "  Merci  "})
    assert errors == {"welcome": "Choisissez une note de 1\u00a0à 5.",
                      "waiting": "Choisissez une note de 1\u00a0à 5.",
                      "recommend": "Répondez par oui ou par non."}
    assert kept == {"consultation": 3, "comment": "Merci"}
    kept, errors = surveys.check_answers("satisfaction_72h", {
        "welcome": 1, "waiting": 2, "consultation": 3, "recommend": False})
    assert errors == {} and "comment" not in kept  # optional, left empty


def test_the_score_is_the_mean_mark_on_100():
    assert surveys.score("discharge", {"welcome": 1, "care": 5, "comfort": 5,
                                       "information": 5, "recommend": True}) == 75
    assert surveys.score("discharge", {"recommend": True}) is None


def test_a_broken_survey_file_is_refused_with_its_reason():
    with pytest.raises(ValueError, match="unknown kind"):
        surveys.parse_surveys({"surveys": {"x": {"questions": [
            {"id": "a", "kind": "stars", "label": {"fr": "A"}}]}}})
    with pytest.raises(ValueError, match="same id"):
        surveys.parse_surveys({"surveys": {"x": {"questions": [
            {"id": "a", "kind": "text", "label": {"fr": "A"}},
            {"id": "a", "kind": "text", "label": {"fr": "B"}}]}}})
    with pytest.raises(ValueError, match="missing"):
        surveys.parse_surveys({"surveys": {"x": {}}})
