"""Two desks that meet (issue 24 §2): the checks that decide a write are made inside its
transaction, so a slot or a dose raced for by several workstations is taken once, and the
others get a French message, never a raw database error. Threads, each with its own
connection, as workstations would; SQLite and PostgreSQL."""

import threading

import pytest

from nest_desktop.db.models import Appointment, VaccineDose
from nest_desktop.domain import clock
from nest_desktop.services import ValidationFailed, reception, vaccination
from nest_desktop.services import patients as patient_service

DESKS = 8


def race(action) -> list[object]:
    """Runs `action(index)` on DESKS threads released at once; each result or error."""
    from nest_desktop.db.models import database

    barrier = threading.Barrier(DESKS)
    results: list[object] = [None] * DESKS

    def desk(index: int) -> None:
        try:
            barrier.wait()
            results[index] = action(index)
        except Exception as error:  # noqa: BLE001 (what the desk would see)
            results[index] = error
        finally:
            database.close()

    threads = [threading.Thread(target=desk, args=(index,)) for index in range(DESKS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


@pytest.mark.clock("2026-11-24 09:00")  # a Tuesday
def test_one_patient_raced_for_one_time_by_eight_desks_is_booked_once(desk):
    site, _user = desk
    fatou = patient_service.create_patient(patient_service.PatientForm(
        last_name="Ndiaye", first_names="Fatou", phones=["77 123 45 67"], site_id=site.id))
    services = [reception.save_entry(reception.DirectoryForm(
        site.id, "person", f"Dr {name}", "", str(200 + index), None, True))
        for index, name in enumerate(("Sow", "Diallo", "Fall", "Ba", "Sarr", "Faye", "Gueye",
                                      "Mbaye"))]

    def book(index: int):
        return reception.book(reception.AppointmentForm(
            fatou.id, None, site.id, services[index].id, "26/11/2026", "10:00", 30, ""))

    results = race(book)
    booked = [r for r in results if isinstance(r, Appointment)]
    refused = [r for r in results if isinstance(r, ValidationFailed)]
    assert len(booked) == 1, results
    assert len(refused) == DESKS - 1, results
    assert {r.errors["time"] for r in refused} == {"Elle a déjà un rendez-vous à 10:00."}
    assert Appointment.select().where(Appointment.patient == fatou.id).count() == 1


def test_one_dose_recorded_on_eight_desks_is_kept_once_with_a_french_message(desk, family):
    _site, user = desk
    _mother, child = family

    def give(index: int):
        return vaccination.record_dose(child.id, "BCG", 1, clock.today().strftime("%d/%m/%Y"),
                                       user_id=user.id)

    results = race(give)
    given = [r for r in results if isinstance(r, VaccineDose)]
    refused = [r for r in results if isinstance(r, ValidationFailed)]
    assert len(given) == 1 and len(refused) == DESKS - 1, results
    for error in refused:
        assert error.errors["dose"] in (
            "Cette dose est déjà enregistrée.",
            "Cette dose a été enregistrée sur un autre poste au même moment\u00a0: le dossier "
            "l’affiche maintenant."), error.errors
    assert VaccineDose.select().where(VaccineDose.patient == child.id).count() == 1


def test_doses_of_one_child_recorded_at_once_on_eight_desks_keep_her_due_state_right(
        desk, family, monkeypatch):
    """Each desk writes its dose, then her kept due state from the doses it reads: the last
    to write must have read every other desk's dose (her row is held until the commit),
    else the Children & vaccines list would say a given dose is still due. Reading her
    calendar is slowed down, so that the desks' transactions overlap every time."""
    import time

    from nest_desktop.domain import vaccination as rules
    from nest_desktop.services import kept_state

    _site, user = desk
    _mother, child = family
    kept_state.rebuild()
    calendars = vaccination._calendars

    def slow_calendars(ids, today):
        found = calendars(ids, today)
        time.sleep(0.05)  # between reading the doses and writing the state
        return found

    monkeypatch.setattr(vaccination, "_calendars", slow_calendars)
    firsts = [dose for dose in vaccination.child_calendar(child.id).doses
              if dose.status != rules.GIVEN][:DESKS]
    assert len({(d.vaccine, d.dose) for d in firsts}) == DESKS

    def give(index: int):
        dose = firsts[index]
        return vaccination.record_dose(child.id, dose.vaccine, dose.dose,
                                       clock.today().strftime("%d/%m/%Y"), user_id=user.id)

    results = race(give)
    # every dose recorded (none refused because another desk's state was written first)
    assert all(isinstance(r, VaccineDose) for r in results), results
    assert kept_state.differences()["children_due"] == []
