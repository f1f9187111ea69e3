"""Pregnancy benchmark: the 36-week information pack.

    QT_QPA_PLATFORM=offscreen python bench/bench_pregnancy.py [--batch 500]

Targets (issue "Pregnancy pathway"): the pack PDF <= 150 ms median to generate; 500 packs in one
batch without memory growth (resident memory after the first 50 packs against after all of
them). Baseline from the same run: a plain ReportLab page with as many paragraphs.
"""

import argparse
import gc
import io
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from timing import median_ms  # noqa: E402 (bench/ is the script's folder)


def resident_mb() -> float:
    """Current resident memory (Linux), else the peak."""
    try:
        with open("/proc/self/statm") as handle:
            pages = int(handle.read().split()[1])
        return pages * resource.getpagesize() / 2**20
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def plain_page() -> bytes:
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate

    buffer = io.BytesIO()
    style = getSampleStyleSheet()["BodyText"]
    SimpleDocTemplate(buffer).build([Paragraph(f"Line {n} of the pack", style)
                                     for n in range(45)])
    return buffer.getvalue()



def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--runs", type=int, default=31)
    parser.add_argument("--patients", type=int, default=2000)
    args = parser.parse_args()

    from nest_desktop.db.connection import open_database, sqlite_url
    from nest_desktop.db.models import Pregnancy
    from nest_desktop.services import demo, documents, session

    work = Path(tempfile.mkdtemp(prefix="nest-bench-pregnancy-"))
    open_database(sqlite_url(work / "bench.sqlite3"))
    demo.generate(args.patients, seed=3)
    session.login("clemence", demo.DEMO_PASSWORD)
    pregnancies = [p.id for p in Pregnancy.select(Pregnancy.id)]
    if not pregnancies:
        raise SystemExit("the generated clinic has no pregnancy")

    documents.pack_36_weeks_pdf(pregnancies[0], log=False)  # fonts and texts loaded once
    pack_ms = median_ms(lambda: documents.pack_36_weeks_pdf(pregnancies[0], log=False),
                        args.runs)
    plain_ms = median_ms(plain_page, args.runs)
    print(f"36-week pack PDF: {pack_ms:.1f} ms median (target <= 150 ms)")
    print(f"plain ReportLab page of 45 paragraphs: {plain_ms:.1f} ms median")

    started = time.perf_counter()
    size = 0
    after_warm_up = None
    for index in range(args.batch):
        _name, pdf = documents.pack_36_weeks_pdf(pregnancies[index % len(pregnancies)],
                                                 log=False)
        size += len(pdf)
        if index == min(49, args.batch - 1):
            gc.collect()
            after_warm_up = resident_mb()
    gc.collect()
    at_end = resident_mb()
    print(f"{args.batch} packs in one batch: {time.perf_counter() - started:.1f} s, "
          f"{size / 2**20:.1f} MB of PDF; resident memory {after_warm_up:.0f} MB after 50, "
          f"{at_end:.0f} MB after {args.batch} (growth {at_end - after_warm_up:+.0f} MB)")


if __name__ == "__main__":
    main()
