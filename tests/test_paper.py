"""The vaccination calendar as paper, in the worst case a clinic meets: a girl on the Senegal
schedule with every optional vaccine, the longest names, two parents with their phones. One A4
page; on A5, two clean pages (the header repeated, the closing lines with rows, never alone),
text of 8 pt at least; every word inside the 10 mm a printer leaves blank."""

import html
import re
import subprocess

import pytest

from nest_desktop.services import documents, vaccination
from nest_desktop.services import patients as patient_service

MM = 72 / 25.4
OPTIONAL = ("Varicelle", "Typhoide", "MenACWY", "BCG")


@pytest.fixture
def longest_girl(desk):
    site, _user = desk
    family_name = "Ndiaye-Sarr Diallo"
    mother = patient_service.create_patient(patient_service.PatientForm(
        last_name=family_name, first_names="Ndèye Fatou Bintou", sex="F",
        phones=["77 123 45 67", "76 555 44 33"], sms_consent=True, site_id=site.id))
    father = patient_service.create_patient(patient_service.PatientForm(
        last_name=family_name, first_names="Mamadou Lamine", sex="M", phones=["78 123 45 67"],
        site_id=site.id))
    child = patient_service.create_patient(patient_service.PatientForm(
        last_name=family_name, first_names="Aïssatou Mame Diarra Bousso", sex="F",
        birth_date="15/07/2016", pathway="paediatrics", site_id=site.id))
    patient_service.link_family(mother.id, child.id, "mother")
    patient_service.link_family(father.id, child.id, "father")
    vaccination.set_plan(child.id, "senegal", OPTIONAL)
    return child


def pages_of(pdf: bytes, tmp_path) -> list[dict]:
    """Each page's size and words with their boxes, as poppler's pdftotext reads them."""
    path = tmp_path / "document.pdf"
    path.write_bytes(pdf)
    layout = subprocess.run(["pdftotext", "-bbox", str(path), "-"], check=True,
                            capture_output=True, text=True).stdout
    pages = []
    for page in re.finditer(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', layout,
                            re.S):
        words = [(float(x0), float(y0), float(x1), float(y1), html.unescape(word))
                 for x0, y0, x1, y1, word in
                 re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" '
                            r'yMax="([\d.]+)">([^<]*)</word>', page.group(3))]
        pages.append({"width": float(page.group(1)), "height": float(page.group(2)),
                      "words": words, "text": " ".join(w[4] for w in words)})
    return pages


def outside_printable_area(page: dict) -> list[str]:
    edge = 10 * MM
    return [word for x0, y0, x1, y1, word in page["words"]
            if x0 < edge or y0 < edge or x1 > page["width"] - edge
            or y1 > page["height"] - edge]


@pytest.mark.clock("2026-11-29 10:00")
def test_the_longest_calendar_holds_on_one_a4_page_inside_the_printable_area(longest_girl,
                                                                              tmp_path):
    calendar = vaccination.child_calendar(longest_girl.id)
    assert len(calendar.doses) >= 24
    _name, pdf = documents.vaccination_calendar_pdf(longest_girl.id, "A4")
    [page] = pages_of(pdf, tmp_path)
    assert outside_printable_area(page) == []
    for expected in ("Aïssatou", "née le 15 juillet 2016", "Varicelle", "Papillomavirus",
                     "31 mai 2027", "page 1 sur 1", "Questions, rendez-vous"):
        assert expected in page["text"], expected
    assert "né(e)" not in page["text"]


@pytest.mark.clock("2026-11-29 10:00")
def test_on_a5_it_takes_two_clean_pages_of_legible_text(longest_girl, tmp_path):
    _name, pdf = documents.vaccination_calendar_pdf(longest_girl.id, "A5")
    first, second = pages_of(pdf, tmp_path)
    for page in (first, second):
        assert outside_printable_area(page) == []
        # The table's header on each page; text of 8 pt at least (poppler gives each word's
        # box the height of its font).
        assert {"Vaccin", "Dose", "Prévu", "Lot", "Signature,"} <= {w[4] for w in page["words"]}
        assert min(y1 - y0 for _x0, y0, _x1, y1, _word in page["words"]) >= 7.99
    assert "page 1 sur 2" in first["text"] and "page 2 sur 2" in second["text"]
    # The closing lines are not alone on the second page: rows of the table come with them.
    assert "Questions, rendez-vous" in second["text"]
    assert re.search(r"Papillomavirus \(HPV\) 2 31/05/2027", second["text"])


def squares_of(pdf: bytes) -> list[bytes]:
    """The QR code's filled squares as the PDF draws them ('x y w h re' operators)."""
    import base64
    import zlib

    content = b""
    for stream in re.findall(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        try:  # ReportLab's /ASCII85Decode /FlateDecode pages; fonts and images skipped
            stream = stream.strip()
            content += zlib.decompress(base64.a85decode(stream[:-2])
                                       if stream.endswith(b"~>") else stream)
        except (ValueError, zlib.error):
            continue
    return re.findall(rb"-?[\d.]+ -?[\d.]+ [\d.]+ [\d.]+ re", content)


def test_the_36_week_pack_says_scan_this_code_only_with_a_code(desk, tmp_path):
    import datetime as dt

    from nest_desktop.domain import clock
    from nest_desktop.services import pregnancy, settings

    site, _user = desk
    mother = patient_service.create_patient(patient_service.PatientForm(
        last_name="Sarr", first_names="Awa", sex="F", phones=["77 123 45 67"], site_id=site.id))
    ddr = clock.today() - dt.timedelta(weeks=36)
    expecting, _notes = pregnancy.save_pregnancy(mother.id, pregnancy.PregnancyForm(
        ddr=ddr.strftime("%d/%m/%Y")))
    settings.put("pregnancy.mothers_group_link", "")
    _name, pdf = documents.pack_36_weeks_pdf(expecting.id)
    text = " ".join(page["text"] for page in pages_of(pdf, tmp_path))
    assert "Le groupe des mamans" in text and "l’accueil vous dit comment" in text
    assert "Patiente Awa Sarr" in text and "Patient(e)" not in text
    assert "scannez" not in text
    settings.put("pregnancy.mothers_group_link", "https://chat.whatsapp.com/NEST-mamans")
    _name, pdf = documents.pack_36_weeks_pdf(expecting.id)
    text = " ".join(page["text"] for page in pages_of(pdf, tmp_path))
    assert "scannez ce code" in text and "https://chat.whatsapp.com/NEST-mamans" in text
    assert all(outside_printable_area(page) == [] for page in pages_of(pdf, tmp_path))
    # the code is encoded once and drawn the same on the next pack (issue 25)
    from nest_desktop.printing import pregnancy as pack_printing

    encoded = pack_printing._qr_squares.cache_info().misses
    _name, again = documents.pack_36_weeks_pdf(expecting.id)
    assert pack_printing._qr_squares.cache_info().misses == encoded
    assert squares_of(again) == squares_of(pdf) and len(squares_of(pdf)) > 100


def test_the_call_register_marks_the_open_lines_in_black_and_white_too(desk, tmp_path):
    import datetime as dt

    from nest_desktop.services import reception

    site, _user = desk
    morning = dt.datetime(2026, 11, 23, 9, 30)
    for outcome, summary in (("answered", "Horaires du samedi"),
                             ("call_back_later", "Rappeler pour un devis")):
        reception.record_call(reception.CallForm(
            started_at=morning, ended_at=morning + dt.timedelta(minutes=3),
            reason="information", summary=summary, outcome=outcome, site_id=site.id),
            when=morning + dt.timedelta(minutes=3))
    _name, pdf = documents.call_register_pdf(reception.RegisterFilter(
        dt.date(2026, 11, 23), dt.date(2026, 11, 23)), dt.date(2026, 11, 23))
    [page] = pages_of(pdf, tmp_path)
    assert "Appels du lundi 23 novembre 2026 2 appels." in page["text"]
    assert "1 demande encore ouverte (marquée ●, en gras)." in page["text"]
    assert "23/11/2026 09:30" in page["text"]
    assert "rouge" not in page["text"]
    # The dot is on the open line only, before its time.
    dots = [w for w in page["words"] if w[4] == "●"]
    assert len(dots) == 1
    assert outside_printable_area(page) == []


def test_a_day_without_a_call_says_so_in_words(desk, tmp_path):
    import datetime as dt

    from nest_desktop.services import reception

    _name, pdf = documents.call_register_pdf(reception.RegisterFilter(
        dt.date(2026, 12, 1), dt.date(2026, 12, 1)), dt.date(2026, 12, 1))
    [page] = pages_of(pdf, tmp_path)
    assert "Appels du mardi 1er décembre 2026 Aucun appel." in page["text"]
    assert " 0 " not in page["text"]


@pytest.mark.clock("2026-11-29 10:00")
def test_the_printed_files_say_who_signs_and_keep_the_address_lines(longest_girl, tmp_path):
    mother = next(p for p in vaccination.parents_of(longest_girl.id) if p.relation == "mother")
    form = patient_service.form_of(patient_service.get_patient(mother.patient_id))
    form.address = "Villa 12, Cité Keur Gorgui\nSacré-Cœur 3, Dakar"
    patient_service.update_patient(mother.patient_id,
                                   patient_service.get_patient(mother.patient_id).version, form)
    _name, pdf = documents.patient_sheet_pdf(mother.patient_id)
    [page] = pages_of(pdf, tmp_path)
    assert "Signature de la patiente :" in page["text"]
    cite = next(w for w in page["words"] if w[4] == "Gorgui")
    sacre = next(w for w in page["words"] if w[4] == "Sacré-Cœur")
    assert sacre[1] > cite[1] + 5  # on the line below, as typed
    _name, pdf = documents.patient_sheet_pdf(longest_girl.id)
    [page] = pages_of(pdf, tmp_path)
    assert "Signature du parent ou du représentant légal :" in page["text"]
    _name, pdf = documents.vaccination_calendar_pdf(longest_girl.id, "A4")
    [page] = pages_of(pdf, tmp_path)
    assert ("Parents : Ndèye Fatou Bintou Ndiaye-Sarr Diallo (mère, 77 123 45 67 ou "
            "76 555 44 33) et Mamadou Lamine Ndiaye-Sarr Diallo (père, 78 123 45 67)"
            ) in page["text"], page["text"]


def test_the_36_week_pack_holds_on_one_page_with_a_long_name_and_six_tariffs(desk, tmp_path):
    import datetime as dt

    from nest_desktop.domain import clock
    from nest_desktop.services import pregnancy

    site, _user = desk
    mother = patient_service.create_patient(patient_service.PatientForm(
        last_name="Ndiaye-Sarr Diallo", first_names="Ndèye Fatou Bintou Mame Diarra", sex="F",
        phones=["77 123 45 67"], site_id=site.id))
    ddr = clock.today() - dt.timedelta(weeks=36)
    expecting, _notes = pregnancy.save_pregnancy(mother.id, pregnancy.PregnancyForm(
        ddr=ddr.strftime("%d/%m/%Y"), planned_place="Clinique Nest Mermoz, salle de naissance"))
    pregnancy.save_pack_settings([
        ("Accouchement par voie basse (forfait 3 jours)", "450000"),
        ("Césarienne programmée ou en urgence (forfait 5 jours)", "950000"),
        ("Chambre individuelle, par nuit supplémentaire", "35000"),
        ("Péridurale", "150000"),
        ("Séances de préparation à la naissance (les 7)", "70000"),
        ("Consultation post-natale", "25000")], "https://chat.whatsapp.com/NEST-mamans")
    _name, pdf = documents.pack_36_weeks_pdf(expecting.id)
    [page] = pages_of(pdf, tmp_path)
    assert outside_printable_area(page) == []
    for expected in ("Le sac de bébé", "Venez sans attendre si", "950 000 FCFA",
                     "Consultation post-natale", "scannez ce code", "page 1 sur 1"):
        assert expected in page["text"], expected


@pytest.mark.clock("2026-11-23 10:00")
def test_the_appointment_card_holds_on_one_a6_page_with_the_longest_names(longest_girl,
                                                                          tmp_path):
    from nest_desktop.services import desk as desk_service
    from nest_desktop.services import reception

    site = longest_girl.site
    desk_service.update_site(site.id, desk_service.SiteForm(
        site.name, "33 860 10 10", "Immeuble Les Alizés, 4e étage, route de la Corniche "
        "Ouest, Mermoz-Sacré-Cœur, Dakar"))
    practitioner = reception.save_entry(reception.DirectoryForm(
        site_id=site.id, kind="person", name="Dr Marie-Madeleine Ndiaye-Sarr Diallo",
        extension="205", takes_appointments=True))
    appointment = reception.book(reception.AppointmentForm(
        longest_girl.id, None, site.id, practitioner.id, "25/11/2026", "10:30", 15,
        "Rattrapage des vaccins oubliés et contrôle de la croissance", "vaccination"))
    _name, pdf = documents.appointment_card_pdf(appointment.id)
    [page] = pages_of(pdf, tmp_path)
    assert (round(page["width"] / MM), round(page["height"] / MM)) == (105, 148)  # A6
    assert outside_printable_area(page) == []
    for expected in ("Carte de rendez-vous", "Aïssatou Mame Diarra Bousso", "Mercredi",
                     "25 novembre 2026", "10:30", "15 minutes", "Vaccination",
                     "Ndiaye-Sarr Diallo", "Corniche", "33 860 10 10"):
        assert expected in page["text"], expected
