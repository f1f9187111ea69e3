import datetime as dt
import json

import pytest

from nest_desktop.domain import followup
from nest_desktop.paths import RESOURCES_DIR

AT = dt.datetime


@pytest.mark.parametrize("rule, event, expected", [
    ("satisfaction_72h", AT(2026, 11, 23, 10, 30), AT(2026, 11, 26, 10, 30)),
    # DDR 2/3/2026: 36+0 on 9/11, the window ends 36+6 on Sunday 15/11 at the closing time
    ("call_36_weeks", dt.date(2026, 3, 2), AT(2026, 11, 15, 18, 0)),
    ("discharge_survey", AT(2026, 11, 23, 11, 0), AT(2026, 11, 23, 11, 0)),
    ("post_discharge_call", AT(2026, 11, 23, 11, 0), AT(2026, 12, 3, 11, 0)),
    ("prospect_callback", AT(2026, 11, 23, 9, 15), AT(2026, 11, 30, 9, 15)),
    ("conversion_review", AT(2026, 1, 31, 9, 0), AT(2026, 2, 28, 9, 0)),
    ("conversion_review", AT(2028, 1, 31, 9, 0), AT(2028, 2, 29, 9, 0)),
    ("conversion_review", AT(2026, 11, 23, 9, 0), AT(2026, 12, 23, 9, 0)),
    ("same_day", AT(2026, 11, 23, 10, 5), AT(2026, 11, 23, 18, 0)),
    ("same_day", AT(2026, 11, 23, 19, 30), AT(2026, 11, 23, 19, 30)),
])
def test_each_rule_deadline(rule, event, expected):
    assert followup.deadline(rule, event) == expected


def test_same_day_uses_the_clinic_closing_time():
    assert followup.deadline("same_day", AT(2026, 11, 23, 8, 0), dt.time(17, 30)) == AT(
        2026, 11, 23, 17, 30)


def test_the_36_week_call_opens_at_35_weeks():
    ddr = dt.date(2026, 3, 2)
    assert followup.opens_at("call_36_weeks", ddr) == AT(2026, 11, 2)
    assert followup.opens_at("discharge_survey", AT(2026, 11, 23, 11)) == AT(2026, 11, 22, 11)


def test_unknown_rule_and_bad_data_are_refused():
    with pytest.raises(ValueError, match="unknown follow-up rule"):
        followup.deadline("tomorrow", AT(2026, 11, 23))
    data = json.loads((RESOURCES_DIR / "followup" / "rules.json").read_text("utf-8"))
    data["rules"]["same_day"]["offset"] = {"fortnights": 1}
    with pytest.raises(ValueError, match="fortnights"):
        followup.parse_rules(data)
    del data["rules"]["satisfaction_72h"]["trigger"]
    with pytest.raises(ValueError, match="trigger"):
        followup.parse_rules(data)


def test_every_rule_names_a_role_of_the_clinic():
    from nest_desktop.domain.permissions import ROLES

    assert {rule.assignee_role for rule in followup.rules().values()} <= set(ROLES)
    assert set(followup.rules()) == {"satisfaction_72h", "call_36_weeks", "discharge_survey",
                                     "post_discharge_call", "prospect_callback",
                                     "conversion_review", "same_day", "campaign_call",
                                     "rebook_missed", "intake_interview",
                                     "mothers_group_offer", "corrective_action"}
    for rule in followup.rules().values():
        assert rule.script_in("fr") and rule.script_in("en") and rule.max_attempts >= 1


def test_next_attempt_and_urgency():
    at = AT(2026, 11, 23, 10, 0)
    assert followup.next_attempt("satisfaction_72h", at) == AT(2026, 11, 23, 14, 0)
    assert followup.next_attempt("campaign_call", at) == AT(2026, 11, 24, 10, 0)
    assert followup.urgency(AT(2026, 11, 23, 9, 59), at) == "overdue"
    assert followup.urgency(AT(2026, 11, 23, 18, 0), at) == "today"
    assert followup.urgency(AT(2026, 11, 24, 0, 0), at) == "later"
    # Archives: a deadline passed more than `backfill_days` ago makes no task.
    assert followup.worth_creating("satisfaction_72h", AT(2026, 11, 1), at)
    assert not followup.worth_creating("satisfaction_72h", AT(2026, 9, 1), at)


def test_each_rule_names_the_procedure_and_the_revision_it_applies():
    procedures = followup.procedures()
    assert set(procedures) == {"patients", "prospects", "phone", "quality"}
    prospects = procedures["prospects"]
    assert (prospects.code, prospects.revision, prospects.date) == (
        "PO06-PR0001", "6", "2021-10-05")  # as on the document (seeds/001)
    assert {rule.procedure for rule in followup.rules().values()} == set(procedures)
    assert followup.rules()["prospect_callback"].procedure == "prospects"
    assert followup.rules()["same_day"].procedure == "phone"


def test_the_36_week_call_says_what_the_procedure_lists():
    """Seeds/000, 'A la 36ème semaine': what to give her and what to ask her."""
    script = " ".join(followup.rules()["call_36_weeks"].script_in("fr"))
    for item in ("tarifs", "prise en charge", "conditions financières",
                 "cours de préparation à l’accouchement", "groupe des mamans NEST",
                 "valise maternité", "lieu prévu de l’accouchement", "newsletters",
                 "faire suivre son enfant chez NEST"):
        assert item in script, item
    assert "anesthésiste" not in script  # not the procedure's
