"""What the benchmark scripts share: timing a function."""

import statistics
import time


def median_ms(function, runs: int) -> float:
    """The median duration of `runs` calls, in milliseconds."""
    timings = []
    for _run in range(runs):
        started = time.perf_counter()
        function()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)
