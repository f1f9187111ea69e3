"""The benchmark scripts still run (on tiny data: their figures are checked in bench/ runs)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_bench(script: str, *args: str, tmp_path: Path) -> str:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "cfg"),
               XDG_DATA_HOME=str(tmp_path / "data"))
    result = subprocess.run([sys.executable, str(ROOT / "bench" / script), *args], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_foundation_benchmark_runs(tmp_path):
    output = run_bench("bench_foundation.py", "--patients", "300", "--keep",
                       str(tmp_path / "bench.sqlite3"), tmp_path=tmp_path)
    for measure in ("search, keystroke to results", "cold start to main window",
                    "patient list open, peak resident memory"):
        assert measure in output


def test_vaccination_benchmark_runs(tmp_path):
    output = run_bench("bench_vaccination.py", "--children", "300", "--clinic", "300",
                       tmp_path=tmp_path)
    assert "calendar PDF" in output and "calendars for 300 children" in output


def test_followup_benchmark_runs(tmp_path):
    output = run_bench("bench_followup.py", "--patients", "300", "--tasks", "300", "--runs", "3",
                       tmp_path=tmp_path)
    assert "Today for one site" in output and "raw SQL count" in output
    assert "of which 300 the benchmark's (300 added now)" in output  # whatever the demo made


def test_pregnancy_benchmark_runs(tmp_path):
    output = run_bench("bench_pregnancy.py", "--batch", "5", "--runs", "3", "--patients", "300",
                       tmp_path=tmp_path)
    assert "36-week pack PDF" in output and "5 packs in one batch" in output


def test_prospects_benchmark_runs(tmp_path):
    output = run_bench("bench_prospects.py", "--patients", "300", "--prospects", "200",
                       "--rows", "50", "--runs", "5", tmp_path=tmp_path)
    assert "duplicate check" in output and "import of 50 rows" in output


def test_reception_benchmark_runs(tmp_path):
    output = run_bench("bench_reception.py", "--patients", "300", "--prospects", "200",
                       "--numbers", "8", tmp_path=tmp_path)
    assert "caller recognition" in output and "raw SQL prefix" in output
    assert "every number typed whole was recognised: True" in output


def test_sms_benchmark_runs(tmp_path):
    output = run_bench("bench_sms.py", "--appointments", "200", "--doses", "2000",
                       "--messages", "5000", "--runs", "2", tmp_path=tmp_path)
    assert "scheduling the reminders, cold" in output and "outbox view opens" in output


def test_durability_benchmark_runs(tmp_path):
    output = run_bench("bench_durability.py", "--saves", "5", tmp_path=tmp_path)
    assert "opens SQLite with synchronous=full" in output
    assert "synchronous=normal: median" in output and "synchronous=full: median" in output
