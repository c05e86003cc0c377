"""Helpers shared by the benchmark scripts: timing, tables, environment.

Not part of ``moe_lib``. Every timing is the median of several runs measured with
``time.perf_counter`` after a warm-up run; every comparison is a ratio of two medians measured in
the same process, one right after the other, so that machine load affects both alike.
"""

from __future__ import annotations

import csv
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def single_thread_blas() -> None:
    """Ask BLAS for one thread unless the caller chose otherwise (call before importing numpy)."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")


def draw_moe_data(family, n: int, d: int, K: int, rng, scale: float | None = None):
    """Data from a random mixture of experts: ``x ~ N(0, I_d)``, intercepts added (p = q = d + 1).

    ``scale`` is passed to ``moe_lib.model.random_params`` (its default when None). moe_lib is
    imported here, not at the top, so that a subprocess can choose which copy it imports.
    """
    import numpy as np

    # Top-level names: the same in the current library and in older copies (compare_versions).
    from moe_lib import make_data, random_params, sample

    design = make_data(rng.standard_normal((n, d)), np.zeros(n))
    kwargs = {} if scale is None else {"scale": scale}
    true = random_params(family, K, d + 1, d + 1, rng, **kwargs)
    y, _ = sample(family, true, design.X, design.gate_X, rng)
    return type(design)(design.X, y, design.gate_X, None, design.expert_mask, design.gate_mask)


def median_time(
    fn: Callable[[], object],
    repeats: int = 5,
    warmup: int = 1,
    clock: Callable[[], float] = time.perf_counter,
) -> float:
    """Median time of ``fn()`` in seconds over ``repeats`` runs after ``warmup`` runs.

    ``clock`` is ``time.perf_counter`` (wall time) by default; ``time.process_time`` (CPU time
    of this process) is less sensitive to other processes on a shared machine.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = clock()
        fn()
        times.append(clock() - t0)
    return statistics.median(times)


def median_times(
    fn: Callable[[], object], repeats: int = 5, warmup: int = 1
) -> tuple[float, float]:
    """Median wall time and median CPU time of ``fn()`` over the same ``repeats`` runs."""
    for _ in range(warmup):
        fn()
    wall, cpu = [], []
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu)


def environment() -> str:
    """One line describing the interpreter, numpy/scipy and the thread settings."""
    import numpy as np
    import scipy

    threads = os.environ.get("OPENBLAS_NUM_THREADS", "unset")
    return (
        f"Python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}, "
        f"{platform.machine()}, {os.cpu_count()} logical CPUs ({_cpu_model()}; NumPy's SIMD "
        f"loops: {_numpy_simd()}), OPENBLAS_NUM_THREADS={threads}"
    )


def _cpu_model() -> str:
    """The CPU's model name (Linux), else the platform's processor string."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _numpy_simd() -> str:
    """The instruction sets NumPy dispatches its loops to here: timings of exp-bound code differ
    several-fold between CPUs with and without AVX-512 (NumPy's float64 exp is vectorised only
    with AVX-512)."""
    try:
        from numpy._core import _multiarray_umath as umath
    except ImportError:  # (NumPy 1.x)
        from numpy.core import _multiarray_umath as umath
    found = [f for f in umath.__cpu_dispatch__ if umath.__cpu_features__.get(f)]
    return " ".join(found) if found else "baseline only"


def _fmt(v: object) -> str:
    if isinstance(v, float):
        if v != v:  # nan
            return "nan"
        if v == 0 or 1e-3 <= abs(v) < 1e5:
            return f"{v:.4g}"
        return f"{v:.3e}"
    return str(v)


def write_table(
    name: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    title: str,
    notes: Sequence[str] = (),
    quick: bool = False,
) -> None:
    """Print a table and write it as ``results/<name>[_quick].csv`` and ``.md``.

    Parameters
    ----------
    name : str
        File stem.
    columns : sequence of str
    rows : sequence of sequences
        One entry per column; floats are formatted with 4 significant digits in the Markdown.
    title : str
        Heading of the Markdown file.
    notes : sequence of str
        Lines written under the table (settings, caveats).
    quick : bool
        Suffix the files with ``_quick`` (smoke-run sizes).
    """
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = f"{name}_quick" if quick else name
    with open(RESULTS / f"{stem}.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([repr(v) if isinstance(v, float) else v for v in row])
    cells = [[_fmt(v) for v in row] for row in rows]
    widths = [
        max(len(c), *(len(r[i]) for r in cells)) if cells else len(c) for i, c in enumerate(columns)
    ]
    head = "| " + " | ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)) + " |"
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = [
        "| " + " | ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) + " |" for r in cells
    ]
    lines = [f"# {title}", "", head, sep, *body, ""]
    lines += [f"- {n}" for n in notes]
    lines += [f"- {environment()}", f"- command: `python {' '.join(sys.argv)}`", ""]
    text = "\n".join(lines)
    (RESULTS / f"{stem}.md").write_text(text)
    print(text)
    print(f"(written to {RESULTS / stem}.csv and .md)")
