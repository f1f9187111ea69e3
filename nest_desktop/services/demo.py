"""A believable clinic for the demo and for benchmarks, generated from a seed.

`generate(patients=400)` fills an empty database in a few seconds; the same generator makes
hundreds of thousands of patients for benchmarks (rows are written in batches).
"""

import datetime as dt
import json
import random

from peewee import PostgresqlDatabase

from nest_desktop.db.models import (
    Appointment,
    Delivery,
    DeliveryBaby,
    FamilyLink,
    FollowUpTask,
    GuestbookEntry,
    Interaction,
    MilestoneRecord,
    Patient,
    PatientPhone,
    PatientSearchToken,
    Pregnancy,
    Setting,
    Site,
    SmsEvent,
    SmsMessage,
    SurveyResponse,
    User,
    VaccineDose,
    database,
)
from nest_desktop.domain import clock, permissions, phones, surveys, vaccination
from nest_desktop.domain.messages import _
from nest_desktop.domain.text import fold, words
from nest_desktop.services import followup, kept_state, pathways, session, settings

FEMALE_FIRST_NAMES = [
    "Aïssatou", "Awa", "Fatou", "Mariama", "Ndèye", "Khady", "Aminata", "Coumba", "Astou",
    "Rokhaya", "Sokhna", "Adja", "Bineta", "Dieynaba", "Fatoumata", "Khadidiatou", "Maïmouna",
    "Ramatoulaye", "Seynabou", "Yacine", "Oumy", "Penda", "Nafissatou", "Mame Diarra",
    "Ndèye Fatou", "Marème", "Anta", "Absa", "Soda", "Nabou", "Clémence", "Marie", "Aïcha",
]
MALE_FIRST_NAMES = [
    "Mamadou", "Moussa", "Ibrahima", "Cheikh", "Abdoulaye", "Ousmane", "Modou", "Babacar",
    "Serigne", "Alioune", "Pape", "Lamine", "Amadou", "Omar", "Souleymane", "El Hadji",
    "Mouhamed", "Youssou", "Assane", "Idrissa", "Malick", "Khadim", "Jean", "Pierre",
]
LAST_NAMES = [
    "Diop", "Ndiaye", "Fall", "Sow", "Diallo", "Gueye", "Sarr", "Faye", "Ba", "Cissé", "Mbaye",
    "Seck", "Niang", "Thiam", "Diouf", "Kane", "Sy", "Touré", "Camara", "Ndour", "Sène",
    "Wade", "Dieng", "Mbengue", "Lô", "Badji", "Sagna", "Diatta", "Mendy", "Gomis", "Coly",
    "Bâ", "Tall", "Samb", "Ka", "Dramé", "Konaté", "Traoré", "Sylla", "Ndao",
]
DISTRICTS = ["Mermoz", "Sacré-Cœur", "Almadies", "Ouakam", "Point E", "Fann", "Liberté 6",
             "Grand Yoff", "Parcelles Assainies", "Yoff", "Ngor", "Plateau", "Médina",
             "HLM", "Sicap Baobabs", "Rufisque", "Pikine", "Guédiawaye"]
SITES = [
    ("Clinique Nest Mermoz", "+221338601010", "Route de la Corniche Ouest, Mermoz, Dakar"),
    ("Clinique Nest Almadies", "+221338202020", "Route des Almadies, Dakar"),
    ("Clinique Nest Sacré-Cœur", "+221338673030", "VDN, Sacré-Cœur 3, Dakar"),
]
# Every demo account has the password DEMO_PASSWORD; the demo opens as Clémence.
DEMO_PASSWORD = permissions.DEMO_PASSWORD
DEMO_MARK = "demo.generated"


def is_demo_database() -> bool:
    """Whether the open database was made by the demo (or a benchmark from it)."""
    return bool(settings.get(DEMO_MARK))
USERS = [
    ("Clémence Diatta", "Clémence", "administrator"),
    ("Awa Ndiaye", "Awa", "customer_relations"),
    ("Fatou Sarr", "Fatou", "prospect_manager"),
    ("Mariama Ba", "Mariama", "quality_pilot"),
    ("Aïssatou Diop", "Aïssatou", "quality_copilot"),
    ("Khady Sow", "Khady", "secretary"),
    ("Ibrahima Fall", "Ibrahima", "secretary"),
]
VISIT_REASONS = {
    "pregnancy": ["Suivi de grossesse", "Première consultation de grossesse",
                  "Échographie de datation"],
    "gynaecology": ["Consultation gynécologique", "Contraception", "Frottis de dépistage"],
    "paediatrics": ["Consultation pédiatrique", "Vaccination", "Fièvre de l'enfant"],
    "none": ["Renseignements", "Bilan de santé", "Consultation ponctuelle"],
}
CALL_SUBJECTS = [
    ("phone", "incoming", "Prise de rendez-vous", "RDV donné"),
    ("phone", "outgoing", "Appel de satisfaction 72 h", "Satisfaite"),
    ("phone", "incoming", "Demande de tarifs accouchement", "Informations données"),
    ("phone", "outgoing", "Appel de la 36e semaine", "Pas de réponse"),
    ("visit", "incoming", "Entretien d'entrée", "Dossier complété"),
    ("sms", "outgoing", "Rappel de rendez-vous", "Envoyé"),
    ("phone", "incoming", "Question sur la vaccination", "Réponse donnée"),
    ("whatsapp", "outgoing", "Invitation au groupe des mamans", "Acceptée"),
]
PROVENANCES = ["facebook", "website", "word_of_mouth", "event", "free_care",
               "referring_doctor", "walk_in", "other"]
PRODUCTS = {"BCG": "BCG-SSI", "Hexa": "Hexaxim", "Penta": "Pentavac", "PCV": "Prevenar 13",
            "Rota": "Rotarix", "VPO": "VPO bivalent", "VPI": "Imovax Polio",
            "HepB": "Engerix B10", "RR": "MR-VAC", "VAA": "Stamaril", "HPV": "Gardasil"}
BATCH = 2000
DEMO_SETTINGS = {
    "pregnancy.tariffs": [["Accouchement par voie basse (forfait 3 jours)", 450000],
                          ["Césarienne (forfait 5 jours)", 950000],
                          ["Chambre individuelle, par nuit supplémentaire", 35000],
                          ["Séances de préparation à la naissance (les 7)", 70000]],
    "pregnancy.mothers_group_link": "https://chat.whatsapp.com/DemoNestMamans",
}
GUESTBOOK = [
    (3, "Famille Ndiaye", "Merci à toute l'équipe de la maternité pour la naissance de notre "
                          "petite Awa. Accueil chaleureux du début à la fin."),
    (17, "", "Des sages-femmes disponibles jour et nuit. Merci !"),
    (40, "Coumba D.", "Une clinique propre et calme, on se sent en confiance."),
    (95, "Papa de Moussa", "Merci au pédiatre pour sa patience avec notre fils."),
]


def _mobile(rng: random.Random) -> str:
    return "+221" + rng.choice(["77", "78", "76", "70", "75"]) + f"{rng.randrange(10**7):07d}"


def _birth(rng: random.Random, today: dt.date, min_years: float, max_years: float) -> dt.date:
    return today - dt.timedelta(days=rng.randint(int(min_years * 365.25), int(max_years * 365.25)))


def _ensure_sites_and_users(rng: random.Random) -> tuple[list[int], list[int]]:
    if not Site.select().exists():
        for name, phone, address in SITES:
            Site.create(name=name, phone=phone, address=address)
    site_ids = [s.id for s in Site.select(Site.id).order_by(Site.id)]
    if not User.select().exists():
        password_hash = session.hash_password(DEMO_PASSWORD)
        for full_name, first_name, role in USERS:
            User.create(full_name=full_name, phone_first_name=first_name, role=role,
                        login=fold(first_name), password_hash=password_hash,
                        must_change_password=False,
                        site=rng.choice(site_ids))
    return site_ids, [u.id for u in User.select(User.id).order_by(User.id)]


def generate(patients: int = 400, seed: int = 2026, today: dt.date | None = None,
             interactions_per_patient: float = 2.0) -> int:
    """Adds about `patients` patients (mothers, pregnant women, children, fathers…) with their
    phones, family links and contact history. Returns the number of patients written."""
    rng = random.Random(seed)
    today = today or clock.today()
    latest = dt.datetime.combine(today, clock.now().time())  # nothing after "now"
    with database.atomic():
        site_ids, user_ids = _ensure_sites_and_users(rng)
        settings.record_state(DEMO_MARK, True)  # its accounts share the demo's password
    next_id = (Patient.select(Patient.id).order_by(Patient.id.desc()).scalar() or 0) + 1
    written = 0
    while written < patients:
        size = min(BATCH, patients - written)
        rows, phone_rows, token_rows, link_rows, interaction_rows = [], [], [], [], []
        dose_rows, pregnancy_rows = [], []
        while len(rows) < size:
            family_name = rng.choice(LAST_NAMES)
            site = rng.choice(site_ids)
            mother_id = next_id + len(rows)
            pathway = rng.choices(["pregnancy", "gynaecology", "none"], [5, 3, 2])[0]
            mother = _person(rng, mother_id, "F", rng.choice(LAST_NAMES),
                             _birth(rng, today, 18, 44), site, pathway, today, user_ids)
            rows.append(mother)
            if pathway == "pregnancy" and rng.random() < 0.6:
                ddr = today - dt.timedelta(days=rng.randint(5 * 7, 41 * 7))
                pregnancy_rows.append({"patient": mother_id, "site": site, "ddr": ddr,
                                       "dating_method": rng.choice(["ddr", "ddr", "ultrasound"]),
                                       "stated_ddr": ddr, "status": "ongoing"})
            phone = _mobile(rng)
            phone_rows.append(_phone_row(mother_id, phone, 0))
            children = rng.choices([0, 1, 2, 3], [4, 3, 2, 1])[0]
            # Children born after their mother's 18th birthday, ten years ago at most.
            mother_age = (today - mother["birth_date"]).days / 365.25
            oldest_child = min(10.0, mother_age - 18)
            for _index in range(min(children, size - len(rows)) if oldest_child > 0 else 0):
                child_id = next_id + len(rows)
                child = _person(rng, child_id, rng.choice("FM"), family_name,
                                _birth(rng, today, 0, oldest_child), site, "paediatrics", today,
                                user_ids)
                rows.append(child)
                dose_rows.extend(_doses_given(rng, child, today, user_ids))
                # The mother's phone is the child's contact number.
                phone_rows.append(_phone_row(child_id, phone, 0))
                link_rows.append({"parent": mother_id, "child": child_id, "relation": "mother"})
            if len(rows) < size and rng.random() < 0.15:
                father_id = next_id + len(rows)
                rows.append(_person(rng, father_id, "M", family_name, _birth(rng, today, 25, 60),
                                    site, "none", today, user_ids))
                phone_rows.append(_phone_row(father_id, _mobile(rng), 0))
        for row in rows:
            token_rows.extend({"patient": row["id"], "token": token}
                              for token in words(f"{row['last_name']} {row['first_names']}"))
            for _index in range(int(rng.expovariate(1 / interactions_per_patient))):
                channel, direction, subject, outcome = rng.choice(CALL_SUBJECTS)
                when = dt.datetime.combine(
                    today - dt.timedelta(days=rng.randint(0, 400)),
                    dt.time(rng.randint(8, 18), rng.choice([0, 15, 30, 45])))
                if when > latest:  # today, later than now: yesterday rather
                    when -= dt.timedelta(days=1)
                interaction_rows.append({
                    "patient": row["id"], "occurred_at": when, "user": rng.choice(user_ids),
                    "channel": channel, "direction": direction, "subject": subject,
                    "notes": "", "outcome": outcome, "created_at": when,
                    "site": row["site"]})
        with database.atomic():
            for model, batch in ((Patient, rows), (PatientPhone, phone_rows),
                                 (PatientSearchToken, token_rows), (FamilyLink, link_rows),
                                 (Interaction, interaction_rows), (VaccineDose, dose_rows),
                                 (Pregnancy, pregnancy_rows)):
                for start in range(0, len(batch), 500):
                    model.insert_many(batch[start:start + 500]).execute()
        next_id += len(rows)
        written += len(rows)
    if isinstance(database.obj, PostgresqlDatabase):
        from nest_desktop.db.transfer import move_sequences

        move_sequences(database.obj)  # rows were written with their ids: new ones come after
    _follow_ups(rng, today)
    kept_state.rebuild(today)  # written in bulk: the lists' kept states computed once
    return written


def _milestones_done(rng: random.Random, today: dt.date, user_ids: list[int]) -> None:
    """Most milestones whose window has passed were done, on a day inside their window."""
    from nest_desktop.domain import pregnancy as pregnancy_rules

    rows = []
    for pregnancy_id, ddr in Pregnancy.select(Pregnancy.id, Pregnancy.ddr).tuples():
        for planned in pregnancy_rules.plan(ddr, today):
            if planned.start is None or planned.start > today or rng.random() < 0.12:
                continue
            last = min(planned.end, today)
            done_on = planned.start + dt.timedelta(
                days=rng.randint(0, max(0, (last - planned.start).days)))
            if planned.end >= today and rng.random() < 0.5:
                continue  # open now, not done yet
            rows.append({"pregnancy": pregnancy_id, "milestone": planned.milestone.id,
                         "status": "done", "done_on": done_on,
                         "recorded_by": rng.choice(user_ids),
                         "recorded_at": dt.datetime.combine(done_on, dt.time(11, 0))})
    for start in range(0, len(rows), 500):
        MilestoneRecord.insert_many(rows[start:start + 500]).execute()


def _recent_births(rng: random.Random, today: dt.date, user_ids: list[int]) -> None:
    """A few pregnancies at term end in a birth at NEST in the last days, some babies already
    home: their discharge survey and ten-day call are in Today."""
    at_term = list(Pregnancy.select().where(
        (Pregnancy.status == "ongoing")
        & (Pregnancy.ddr <= today - dt.timedelta(weeks=37))).order_by(Pregnancy.ddr))
    for pregnancy in at_term[:max(3, len(at_term) // 3)]:
        delivered_at = dt.datetime.combine(today - dt.timedelta(days=rng.randint(1, 12)),
                                           dt.time(rng.randint(0, 23), rng.choice([0, 30])))
        mother = pregnancy.patient
        discharged = delivered_at + dt.timedelta(days=rng.choice([2, 3, 4]))
        delivery = Delivery.create(
            pregnancy=pregnancy.id, delivered_at=delivered_at, place="NEST", at_nest=True,
            discharged_at=discharged if discharged.date() <= today else None,
            recorded_by=rng.choice(user_ids))
        sex = rng.choice("FM")
        baby = Patient.create(**{key: value for key, value in _person(
            rng, None, sex, mother.last_name, delivered_at.date(), mother.site_id,
            "paediatrics", today, user_ids).items() if key != "id"} | {
            "first_visit_date": delivered_at.date(), "created_at": delivered_at})
        phone = PatientPhone.get_or_none(PatientPhone.patient == mother.id)
        if phone:
            PatientPhone.create(patient=baby.id, e164=phone.e164,
                                national_digits=phone.national_digits)
        for token in words(f"{baby.last_name} {baby.first_names}"):
            PatientSearchToken.create(patient=baby.id, token=token)
        FamilyLink.create(parent=mother.id, child=baby.id, relation="mother")
        DeliveryBaby.create(delivery=delivery.id, child=baby.id,
                            weight_grams=rng.randint(2600, 4100))
        Pregnancy.update(status="delivered").where(Pregnancy.id == pregnancy.id).execute()
        pathways.after_birth(mother.id, delivered_at, pregnancy.id,
                             dt.datetime.combine(today, clock.now().time()))


def _follow_ups(rng: random.Random, today: dt.date) -> None:
    """The engine's tasks for the recent events, most of the past ones already done as a
    working desk would have them, and a year of survey answers for the satisfaction view."""
    when = dt.datetime.combine(today, clock.now().time())
    user_ids = [u.id for u in User.select(User.id)]
    with database.atomic():
        _milestones_done(rng, today, user_ids)
        _recent_births(rng, today, user_ids)
        # The demo clinic's own figures for the 36-week pack (a real clinic types its own).
        _prospects(rng, today, user_ids)
        _reception(rng, today, user_ids)
        for key, value in DEMO_SETTINGS.items():
            if not Setting.select().where(Setting.key == key).exists():
                Setting.create(key=key, value=json.dumps(value, ensure_ascii=False))
    followup.run(when)
    past = list(FollowUpTask.select().where(
        (FollowUpTask.status == followup.OPEN) & (FollowUpTask.rule != "same_day")
        & (FollowUpTask.due_at < when - dt.timedelta(days=1))))
    responses = []
    with database.atomic():
        for task in past:
            if rng.random() < 0.08:
                continue  # a few left overdue: Today shows them in red
            outcome = rng.choices(["reached", "declined", "unreachable"], [8, 1, 1])[0]
            closed_at = task.due_at - dt.timedelta(hours=rng.randint(2, 60))
            FollowUpTask.update(status=followup.DONE, outcome=outcome, closed_at=closed_at,
                                closed_by=rng.choice(user_ids),
                                attempts=3 if outcome == "unreachable" else 1).where(
                FollowUpTask.id == task.id).execute()
            if outcome == "reached" and task.rule == "satisfaction_72h":
                responses.append(_survey_answers(rng, "satisfaction_72h", closed_at,
                                                 task.patient_id, task.id, task.site_id,
                                                 user_ids))
        sites = [s.id for s in Site.select(Site.id)]
        for days_ago in range(365, 30, -1):
            for _index in range(rng.choice([0, 0, 1, 1, 2])):
                at = dt.datetime.combine(today - dt.timedelta(days=days_ago),
                                         dt.time(rng.randint(9, 17), rng.choice([0, 30])))
                survey = rng.choice(["satisfaction_72h", "discharge"])
                responses.append(_survey_answers(rng, survey, at, None, None,
                                                 rng.choice(sites), user_ids))
        for start in range(0, len(responses), 500):
            SurveyResponse.insert_many(responses[start:start + 500]).execute()
        GuestbookEntry.insert_many([
            {"site": rng.choice(sites), "written_on": today - dt.timedelta(days=days),
             "author": author, "text": text, "recorded_by": rng.choice(user_ids),
             "recorded_at": dt.datetime.combine(today - dt.timedelta(days=days),
                                                dt.time(16, 0))}
            for days, author, text in GUESTBOOK]).execute()
        _quality_register(rng, when, user_ids)
    _sms(rng, when)


CAUSES = {
    "welcome": ("Accueil débordé aux heures des sorties", "Rappel du script d'accueil à l'équipe"),
    "waiting": ("Un seul médecin de garde le samedi matin", "Planning du samedi renforcé"),
    "care": ("Relève entre équipes incomplète", "Fiche de relève revue avec les sages-femmes"),
    "comfort": ("Climatisation de la chambre en panne", "Contrat de maintenance revu"),
    "information": ("Livret de sortie non remis", "Livret ajouté à la liste de sortie"),
    "other": ("Consigne mal transmise", "Consigne affichée à l'accueil"),
}


def _quality_register(rng: random.Random, when: dt.datetime, user_ids: list[int]) -> None:
    """The low surveys of the year recorded as complaints: the older ones analysed, acted on
    and closed, the recent ones still under way (their actions on their owners' Today)."""
    from nest_desktop.db.models import CorrectiveAction, QualityCase
    from nest_desktop.domain import quality as quality_rules

    low = list(SurveyResponse.select().where(SurveyResponse.score < 50)
               .order_by(SurveyResponse.answered_at).limit(300))
    pilots = [u.id for u in User.select(User.id).where(
        User.role.in_(["quality_pilot", "quality_copilot"]))] or user_ids
    events = []
    for response in low:
        answers = json.loads(response.answers)
        category = quality_rules.category_from_answers(answers)
        cause, action_text = CAUSES.get(category, CAUSES["other"])
        age = (when - response.answered_at).days
        recorded_at = response.answered_at + dt.timedelta(hours=2)
        closed = age > 60
        case = QualityCase.create(
            kind="complaint", source="survey", source_table="survey_response",
            source_id=response.id, patient=response.patient_id,
            occurred_on=response.answered_at.date(), site=response.site_id, category=category,
            severity="major" if (response.score or 0) < 25 else "minor",
            description=answers.get("comment") or "Enquête remplie avec un score bas.",
            assigned_to=rng.choice(pilots), cause=cause if age > 7 else "",
            immediate_action="Patiente rappelée pour s'excuser" if age > 7 else "",
            effectiveness="Pas de nouvelle plainte le mois suivant" if closed else "",
            effective=True if closed else None,
            status="closed" if closed else ("acting" if age > 7 else "recorded"),
            closed_at=recorded_at + dt.timedelta(days=45) if closed else None,
            closed_by=rng.choice(pilots) if closed else None, recorded_at=recorded_at,
            recorded_by=rng.choice(user_ids), updated_at=recorded_at)
        if age <= 7:
            continue
        deadline = (recorded_at + dt.timedelta(days=30)).date()
        action = CorrectiveAction.create(
            case=case.id, description=action_text, owner=rng.choice(user_ids),
            deadline=deadline, done_at=recorded_at + dt.timedelta(days=20) if closed else None,
            done_by=rng.choice(user_ids) if closed else None,
            result="Fait" if closed else "", created_at=recorded_at,
            created_by=case.assigned_to_id)
        if not closed:
            events.append(followup.Event("corrective_action", "corrective_action", action.id,
                                         dt.datetime.combine(deadline, dt.time.min), None,
                                         response.site_id, assignee_id=action.owner_id))
    followup.create_tasks(events, when)


def _sms(rng: random.Random, when: dt.datetime) -> None:
    """The reminders of the past week's appointments as the outbox keeps them once sent (a
    few numbers refused by the provider), and the coming ones scheduled."""
    from nest_desktop.domain import sms as sms_rules
    from nest_desktop.services import sms

    held = (Appointment.select().join(Patient, on=Appointment.patient == Patient.id)
            .where((Appointment.status != "cancelled") & Patient.sms_consent
                   & (Appointment.starts_at < when)
                   & (Appointment.starts_at > when - dt.timedelta(days=7))))
    phones_of = dict(PatientPhone.select(PatientPhone.patient, PatientPhone.e164)
                     .where(PatientPhone.position == 0).tuples())
    website = sms.TRANSPORTS["http"]
    with database.atomic():
        for appointment in held:
            person = appointment.patient
            if person.id not in phones_of:
                continue
            reminder = sms_rules.appointment_reminders(appointment.starts_at, sms.timing())[0]
            sent_at = reminder.scheduled_at + dt.timedelta(seconds=rng.randint(5, 90))
            text = sms_rules.render(
                sms.template(sms_rules.APPOINTMENT, person.language),
                {"prenom": person.first_names.split(" ")[0],
                 **sms.appointment_values(appointment, person.language)})
            refused = rng.random() < 0.06
            error = _("The SMS provider refused the message (HTTP {status}): {detail}").format(
                status=400, detail="SVC0004 unknown subscriber") if refused else ""
            message = SmsMessage.create(
                key=f"appointment:{appointment.id}:{reminder.occurrence}", kind="appointment",
                patient=person.id, source_table="appointment", source_id=appointment.id,
                occurrence=reminder.occurrence, event_at=appointment.starts_at,
                phone=phones_of[person.id], language=person.language,
                site=appointment.site_id, text=text,
                parts=sms_rules.length(text).parts, scheduled_at=reminder.scheduled_at,
                expires_at=reminder.expires_at, state="failed" if refused else "sent",
                attempts=1, next_attempt_at=reminder.scheduled_at, transport="http",
                last_error=error, sent_at=None if refused else sent_at,
                created_at=appointment.booked_at, updated_at=sent_at)
            SmsEvent.insert_many([
                {"message": message.id, "at": sent_at, "state": "sending",
                 "detail": _("Attempt {count} by {transport}").format(
                     count=1, transport=_(website))},
                {"message": message.id, "at": sent_at, "state": message.state,
                 "detail": error or _("{parts} SMS").format(parts=message.parts)}
            ]).execute()
    sms.schedule_reminders(when)


DIRECTORY = [  # name, kind, internal number, takes appointments
    ("Service des admissions", "service", "201", False),
    ("Consultation prénatale", "service", "210", True),
    ("Gynécologie", "service", "211", True),
    ("Pédiatrie", "service", "212", True),
    ("Échographie", "service", "214", True),
    ("Laboratoire", "service", "220", False),
    ("Maternité", "service", "230", False),
    ("Dr Aminata Fall", "person", "215", True),
    ("Awa Ndour, sage-femme", "person", "216", False),
]
CALL_REQUESTS = {
    "appointment": ["Prendre rendez-vous", "Déplacer son rendez-vous"],
    "information": ["Horaires du laboratoire", "Résultats d'analyse", "Adresse de la clinique",
                    "Documents pour l'admission"],
    "quote": ["Tarif de l'échographie", "Prix d'un accouchement"],
    "programme": ["Programme de suivi de grossesse"],
    "message": ["Veut parler au Dr Fall", "Message pour la maternité"],
    "other": ["Appel personnel", "Fournisseur"],
}


def _reception(rng: random.Random, today: dt.date, user_ids: list[int]) -> None:
    """Each site's directory, three weeks of appointments, two weeks of calls and messages;
    today's and yesterday's still have lines open, as a desk at work would."""
    from nest_desktop.db.models import Appointment, CallRecord, DirectoryEntry, PhoneMessage

    site_ids = [s.id for s in Site.select(Site.id).order_by(Site.id)]
    entries: dict[int, list[DirectoryEntry]] = {}
    for site_id in site_ids:
        for position, (name, kind, extension, appointments) in enumerate(DIRECTORY):
            reader = user_ids[position % len(user_ids)] if kind == "person" else None
            entries.setdefault(site_id, []).append(DirectoryEntry.create(
                site=site_id, kind=kind, name=name, extension=extension, user=reader,
                takes_appointments=appointments, position=position))
    women = list(Patient.select(Patient.id, Patient.site, Patient.first_names,
                                Patient.last_name).where(Patient.sex == "F")
                 .order_by(Patient.id).limit(300))
    phone_of = {owner: e164 for owner, e164 in PatientPhone.select(
        PatientPhone.patient, PatientPhone.e164).where(PatientPhone.position == 0).tuples()}
    moment = clock.now()
    rows = []
    for _index in range(min(120, len(women))):
        woman = rng.choice(women)
        site = woman.site_id or rng.choice(site_ids)
        service = rng.choice([e for e in entries[site] if e.takes_appointments])
        day = today + dt.timedelta(days=rng.randint(-20, 14))
        if day.weekday() == 6:
            day += dt.timedelta(days=1)
        hour = rng.randint(8, 16)
        if day.weekday() == 5:  # Saturday mornings only, as the default opening hours
            hour = 8 + hour % 4
        starts = dt.datetime.combine(day, dt.time(hour, rng.choice([0, 15, 30, 45])))
        status = ("booked" if starts >= moment else
                  rng.choices(["attended", "missed", "cancelled"], [8, 1, 1])[0])
        rows.append({"patient": woman.id, "site": site, "service": service.id,
                     "starts_at": starts, "duration_minutes": rng.choice([15, 30, 30, 45]),
                     "reason": rng.choice(["Consultation", "Suivi de grossesse", "Contrôle",
                                           "Échographie de datation", "Vaccination"]),
                     "status": status,
                     "cancel_reason": "Empêchée" if status == "cancelled" else "",
                     "booked_by": rng.choice(user_ids),
                     "booked_at": starts - dt.timedelta(days=rng.randint(1, 20)),
                     "updated_at": starts})
    Appointment.insert_many(rows).execute()
    reasons = list(CALL_REQUESTS)
    for days_ago in range(13, -1, -1):
        day = today - dt.timedelta(days=days_ago)
        for _index in range(rng.randint(8, 16) if days_ago else 7):
            started = dt.datetime.combine(day, dt.time(rng.randint(8, 17), rng.randint(0, 59)))
            if started > moment:
                continue
            site = rng.choice(site_ids)
            reason = rng.choices(reasons, [5, 6, 2, 1, 2, 1])[0]
            known = rng.random() < 0.7
            woman = rng.choice(women) if known else None
            outcome = ("message" if reason == "message" else rng.choices(
                ["answered", "transferred", "call_back_later", "unresolved"], [12, 4, 1, 1])[0])
            recent = days_ago <= 1
            still_open = outcome in ("call_back_later", "unresolved") and recent and (
                rng.random() < 0.7)
            duration = rng.randint(40, 420)
            call = CallRecord.create(
                direction="in", started_at=started,
                ended_at=started + dt.timedelta(seconds=duration), duration_seconds=duration,
                hold_seconds=rng.choice([0, 0, 0, 35, 70]), user=rng.choice(user_ids), site=site,
                phone=phone_of.get(woman.id, "") if woman else _mobile(rng),
                caller_name="" if woman else rng.choice(FEMALE_FIRST_NAMES) + " "
                + rng.choice(LAST_NAMES), patient=woman.id if woman else None, reason=reason,
                summary=rng.choice(CALL_REQUESTS[reason]), outcome=outcome,
                transferred_to=rng.choice(entries[site]).id if outcome == "transferred"
                else None,
                resolved_at=None if still_open or outcome not in ("call_back_later",
                                                                  "unresolved")
                else started + dt.timedelta(hours=2),
                resolved_by=None if still_open else rng.choice(user_ids),
                resolution="" if still_open or outcome not in ("call_back_later", "unresolved")
                else "Rappelée, réponse donnée")
            if outcome == "message":
                recipient = rng.choice([e for e in entries[site] if e.kind == "person"]
                                       + entries[site][:2])
                confirmed = not recent or rng.random() < 0.4
                PhoneMessage.create(
                    call=call.id, site=site, recipient=recipient.id,
                    recipient_name=recipient.name,
                    caller_name=call.caller_name or woman.full_name, caller_phone=call.phone,
                    patient=call.patient_id, text=rng.choice([
                        "Merci de la rappeler au sujet de ses résultats.",
                        "Souhaite un conseil sur l'allaitement.",
                        "Demande un certificat de grossesse."]),
                    urgent=rng.random() < 0.2, taken_by=call.user_id, taken_at=started,
                    confirmed_at=started + dt.timedelta(hours=1) if confirmed else None,
                    confirmed_by=rng.choice(user_ids) if confirmed else None,
                    confirmed_how="secretary" if confirmed else "")
    # This morning's lines still to deal with before the evening (TEL-08).
    site = site_ids[0]
    started = min(moment - dt.timedelta(minutes=50),
                  dt.datetime.combine(today, dt.time(9, 10)) if moment.hour >= 10 else moment)
    woman = women[0]
    call = CallRecord.create(
        direction="in", started_at=started, ended_at=started + dt.timedelta(minutes=4),
        duration_seconds=240, hold_seconds=95, user=user_ids[0], site=site,
        phone=phone_of.get(woman.id, ""), patient=woman.id, reason="information",
        summary="Veut savoir si ses résultats de glycémie sont arrivés", outcome="unresolved")
    doctor = next(e for e in entries[site] if e.kind == "person")
    PhoneMessage.create(
        call=call.id, site=site, recipient=doctor.id, recipient_name=doctor.name,
        caller_name="Mme Khady Sarr", caller_phone="+221776543210",
        text="Contractions depuis ce matin, souhaite être rappelée par le docteur.",
        urgent=True, taken_by=user_ids[0], taken_at=started + dt.timedelta(minutes=2))


PROSPECT_REQUESTS = {
    "appointment": ["RDV gynécologue", "Première consultation prénatale", "RDV pédiatre"],
    "quote": ["Tarif d'un accouchement", "Prix de l'échographie", "Devis césarienne"],
    "programme": ["Le programme NEST grossesse", "Cours de préparation", "Suivi bébé NEST"],
}


def _prospects(rng: random.Random, today: dt.date, user_ids: list[int],
               count: int = 160) -> None:
    """Six months of qualified prospects: requests answered, some called back, a share of
    them became patients (taken among the demo's patients), a few lost."""
    from nest_desktop.db.models import (
        Prospect,
        ProspectInteraction,
        ProspectPhone,
        ProspectRequest,
        ProspectSearchToken,
    )
    from nest_desktop.domain import prospects as prospect_rules

    site_ids = [s.id for s in Site.select(Site.id)]
    patients = list(Patient.select(Patient.id, Patient.last_name, Patient.first_names,
                                   Patient.birth_date, Patient.site)
                    .where(Patient.sex == "F").order_by(Patient.id.desc()).limit(count))
    # how often each first contact comes; a channel added to the rules without a weight
    # here stays out of the demo rather than shifting the others
    weighted = {"phone": 30, "visit": 8, "email": 6, "website": 14, "facebook": 22,
                "instagram": 10, "event": 8, "free_care": 6, "canvassing": 6}
    channels = [channel for channel in prospect_rules.CHANNELS if channel in weighted]
    weights = [weighted[channel] for channel in channels]
    for index in range(count):
        created = dt.datetime.combine(today - dt.timedelta(days=rng.randint(0, 180)),
                                      dt.time(rng.randint(8, 18), rng.choice([0, 15, 30, 45])))
        channel = rng.choices(channels, weights)[0]
        qualification = rng.choices(list(PROSPECT_REQUESTS), [4, 4, 3])[0]
        age = (today - created.date()).days
        converts = age > 10 and rng.random() < {"appointment": 0.55, "quote": 0.3,
                                                 "programme": 0.35}[qualification]
        patient = patients[index] if converts and index < len(patients) else None
        if patient is not None:
            last, first, born, site = (patient.last_name, patient.first_names,
                                       patient.birth_date, patient.site_id)
        else:
            last, first = rng.choice(LAST_NAMES), rng.choice(FEMALE_FIRST_NAMES)
            born = _birth(rng, today, 18, 42) if rng.random() < 0.5 else None
            site = rng.choice(site_ids)
        answered = created + dt.timedelta(hours=rng.randint(1, 48))
        answered = answered if answered < clock.now() and rng.random() < 0.9 else None
        status = prospect_rules.NEW if answered is None else prospect_rules.status_after_answer(
            qualification)
        if status == prospect_rules.TO_CALL_BACK and age > 8:
            status = prospect_rules.ANSWERED  # called back long ago
        lost_reason = ""
        converted_at = None
        if patient is not None:
            status = prospect_rules.CONVERTED
            converted_at = created + dt.timedelta(days=rng.randint(2, min(age, 40)))
        elif answered and age > 20 and rng.random() < 0.3:
            status = rng.choice([prospect_rules.LOST, prospect_rules.NOT_INTERESTED])
            lost_reason = rng.choice(list(prospect_rules.LOST_REASONS)) if \
                status == prospect_rules.LOST else ""
        owner = rng.choice(user_ids)
        prospect = Prospect.create(
            last_name=last, first_names=first, sort_key=f"{fold(last)} {fold(first)}",
            birth_date=born, site=site, channel=channel, qualification=qualification,
            owner=owner, status=status, lost_reason=lost_reason,
            patient=patient.id if patient else None, converted_at=converted_at,
            created_at=created, updated_at=created, created_by=owner)
        number = _mobile(rng)
        ProspectPhone.create(prospect=prospect.id, e164=number,
                             national_digits=phones.national_digits(number))
        ProspectSearchToken.insert_many([{"prospect": prospect.id, "token": token}
                                         for token in words(f"{last} {first}")]).execute()
        text = rng.choice(PROSPECT_REQUESTS[qualification])
        ProspectRequest.create(prospect=prospect.id, qualification=qualification,
                               channel=channel, received_at=created, text=text,
                               answer="Informations données" if answered else "",
                               answered_at=answered, answered_by=owner if answered else None,
                               site=site, created_by=owner)
        ProspectInteraction.create(prospect=prospect.id, occurred_at=created, user=owner,
                                   channel="phone", direction="incoming",
                                   subject=text, site=site)


def _survey_answers(rng: random.Random, survey: str, at: dt.datetime, patient_id, task_id,
                    site_id, user_ids: list[int]) -> dict:
    answers = {}
    for question in surveys.surveys()[survey].questions:
        if question.kind == "score":
            answers[question.id] = rng.choices([2, 3, 4, 5], [1, 3, 6, 5])[0]
        elif question.kind == "yes_no":
            answers[question.id] = rng.random() < 0.88
        elif rng.random() < 0.3:
            answers[question.id] = rng.choice([
                "Très bon accueil, merci.", "Un peu d'attente à l'accueil.",
                "Sage-femme très à l'écoute.", "Parking difficile.", "Merci pour tout !"])
    anonymous = rng.random() < 0.3
    return {"survey": survey, "patient": None if anonymous else patient_id, "task": task_id,
            "site": site_id, "channel": "phone" if survey == "satisfaction_72h" else "paper",
            "answered_at": at, "answers": json.dumps(answers, ensure_ascii=False),
            "score": surveys.score(survey, answers), "recorded_by": rng.choice(user_ids)}


def _doses_given(rng: random.Random, child: dict, today: dt.date,
                 user_ids: list[int]) -> list[dict]:
    """The doses a child has had: most on time or a few days late, some children late by
    weeks, a few who stopped coming (their next doses are overdue)."""
    delay = dt.timedelta(days=rng.choice([0, 1, 2, 3, 5, 7, 10, 30, 45]))
    stops_after = rng.choice([None] * 6 + [dt.timedelta(days=rng.randint(30, 400))])
    stop = child["birth_date"] + stops_after if stops_after else None
    rows = []
    # The calendar as of her birth: each dose on its day by the schedule, the next ones of
    # a vaccine counted from it (as of today, the doses not yet recorded would all be due
    # today and every series would stop at its first dose).
    for dose in vaccination.calendar(child["birth_date"], sex=child["sex"],
                                     today=child["birth_date"]):
        given_on = dose.scheduled + delay  # by the schedule, as the family came
        if given_on >= today or (stop and given_on > stop):
            continue
        if dose.limit and given_on > dose.limit:
            continue
        rows.append({"patient": child["id"], "vaccine": dose.vaccine, "dose": dose.dose,
                     "given_on": given_on, "product": PRODUCTS.get(dose.vaccine, ""),
                     "lot": f"L{rng.randrange(10**5):05d}", "place": "nest",
                     "site": child["site"], "recorded_by": rng.choice(user_ids),
                     "recorded_at": dt.datetime.combine(given_on, dt.time(10, 0))})
    return rows


def _phone_row(patient_id: int, e164: str, position: int) -> dict:
    return {"patient": patient_id, "e164": e164,
            "national_digits": phones.national_digits(e164), "position": position}


def _person(rng: random.Random, patient_id: int, sex: str, last_name: str, birth: dt.date,
            site: int, pathway: str, today: dt.date, user_ids: list[int]) -> dict:
    first_names = rng.choice(FEMALE_FIRST_NAMES if sex == "F" else MALE_FIRST_NAMES)
    created = dt.datetime.combine(today - dt.timedelta(days=rng.randint(0, 900)),
                                  dt.time(rng.randint(8, 18), rng.randint(0, 59)))
    first_visit = max(created.date(), birth)
    intake_done = rng.random() < 0.85
    return {
        "id": patient_id,
        "last_name": last_name,
        "first_names": first_names,
        "sort_key": f"{fold(last_name)} {fold(first_names)}",
        "sex": sex,
        "birth_date": birth,
        "email": (f"{fold(first_names).replace(' ', '.')}.{fold(last_name)}@example.sn"
                  if rng.random() < 0.3 else ""),
        "address": f"{rng.choice(DISTRICTS)}, Dakar",
        "site": site,
        "provenance": rng.choice(PROVENANCES),
        "provenance_detail": "",
        "visit_reason": rng.choice(VISIT_REASONS[pathway]),
        "pathway": pathway,
        "intake_date": first_visit if intake_done else None,
        "intake_by": rng.choice(user_ids) if intake_done else None,
        "intake_tariffs_given": intake_done,
        "intake_pathways_given": intake_done,
        "intake_file_complete": intake_done and rng.random() < 0.9,
        "intake_provenance_collected": intake_done,
        "sms_consent": rng.random() < 0.8,
        "newsletter_consent": rng.random() < 0.5,
        "preferred_channel": rng.choice(["sms", "sms", "whatsapp", "email", "facebook"]),
        "first_visit_date": first_visit,
        "notes": "",
        "created_at": created,
        "updated_at": created,
        "version": 1,
    }
