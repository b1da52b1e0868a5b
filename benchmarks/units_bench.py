"""Units engine figures: registry build, calc start-up, conversion and parser speed.

Run from the repository root:

    python benchmarks/units_bench.py            # full run (about a minute)
    python benchmarks/units_bench.py --quick    # fewer repetitions

Prints:
- ``import pint`` and the registry build from the project's file, cold (no cache) and
  cached (Pint's on-disk cache of parsed definitions), each in a fresh process;
- whole-process time of ``formulary calc convert`` against ``python -c pass``;
- microseconds per conversion (plain scaling and substance-aware);
- parser time over a large generated corpus: mean, 99th percentile and maximum (target:
  never more than 50 ms for any input).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import random
import resource
import statistics
import string
import subprocess
import sys
import tempfile
import time
from array import array
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from formulary.units import (  # noqa: E402
    Amount,
    Basis,
    IUBasis,
    Substance,
    UnitsError,
    convert,
    parse_quantity,
)

PY = sys.executable


def _median_ms(samples: list[tuple[float, float]]) -> str:
    """Median wall and CPU time: the CPU figure stays meaningful on a busy machine."""
    wall = statistics.median(w for w, _ in samples) * 1000
    cpu = statistics.median(c for _, c in samples) * 1000
    return f"wall {wall:7.1f} ms   cpu {cpu:7.1f} ms"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _time_process(
    args: list[str], runs: int, env: dict[str, str] | None = None
) -> list[tuple[float, float]]:
    samples = []
    for _ in range(runs):
        cpu = _children_cpu()
        started = time.perf_counter()
        subprocess.run(args, cwd=ROOT, check=True, capture_output=True, env=env)
        samples.append((time.perf_counter() - started, _children_cpu() - cpu))
    return samples


def _in_process(
    code: str, runs: int, env: dict[str, str] | None = None, *extra: str
) -> list[tuple[float, float]]:
    """Run ``code`` in fresh processes; it prints wall and CPU seconds that we collect."""
    samples = []
    for _ in range(runs):
        done = subprocess.run(
            [PY, "-c", code, *extra],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
            env=env,
        )
        wall, cpu = done.stdout.split()
        samples.append((float(wall), float(cpu)))
    return samples


_START = "import time; t = time.perf_counter(); c = time.process_time()\n"
_STOP = "\nprint(time.perf_counter() - t, time.process_time() - c)\n"


def _timed(body: str, setup: str = "") -> str:
    """A snippet that times ``body`` (after ``setup``) and prints wall and CPU seconds."""
    return setup + _START + body + _STOP


def registry_figures(runs: int) -> None:
    print("Registry (fresh process each run)")
    print(
        f"  import pint                      {_median_ms(_in_process(_timed('import pint'), runs))}"
    )
    build = _timed(
        "build_registry(Path(sys.argv[1]) if len(sys.argv) > 1 else None)",
        setup="import pint, sys\nfrom pathlib import Path\n"
        "from formulary.units.registry import build_registry\n",
    )
    with tempfile.TemporaryDirectory() as cache:
        cold = _in_process(build, runs)
        print(f"  build, cold (no cache)           {_median_ms(cold)}")
        _in_process(build, 1, None, cache)  # fills Pint's cache
        cached = _in_process(build, runs, None, cache)
        print(f"  build, cached (Pint disk cache)  {_median_ms(cached)}")
        table = _timed("from formulary.units.registry import unit_table; unit_table()")
        warm = {**os.environ, "FORMULARY_UNITS_CACHE": cache}
        _in_process(table, 1, warm)  # writes the table
        print(f"  unit table from cache (no Pint)  {_median_ms(_in_process(table, runs, warm))}")
    first = _timed(
        "from formulary.units import convert, parse_quantity\nconvert(parse_quantity('1 g'), 'mg')"
    )
    off = {**os.environ, "FORMULARY_UNITS_CACHE": "off"}
    print(f"  first conversion, no cache       {_median_ms(_in_process(first, runs, off))}")
    with tempfile.TemporaryDirectory() as cache:
        warm = {**os.environ, "FORMULARY_UNITS_CACHE": cache}
        _in_process(first, 1, warm)
        print(f"  first conversion, warm cache     {_median_ms(_in_process(first, runs, warm))}")
    light = _timed("import formulary.units as u\nu.format_amount(u.parse_quantity('0.5 mL'))")
    print(f"  import units + parse + format    {_median_ms(_in_process(light, runs))}  (no Pint)")


def cli_figures(runs: int) -> None:
    print("Whole process (wall clock)")
    base = _time_process([PY, "-c", "pass"], runs)
    print(f"  python -c pass                              {_median_ms(base)}")
    help_ = _time_process([PY, "-m", "tui", "--help"], runs)
    print(f"  formulary --help                            {_median_ms(help_)}")
    command = [PY, "-m", "tui", "calc", "convert", "0.5% w/v", "mg/mL"]
    off = {**os.environ, "FORMULARY_UNITS_CACHE": "off"}
    cold = _time_process(command, runs, off)
    print(f"  calc convert '0.5% w/v' mg/mL, no cache     {_median_ms(cold)}")
    with tempfile.TemporaryDirectory() as cache:
        warm = {**os.environ, "FORMULARY_UNITS_CACHE": cache}
        _time_process(command, 1, warm)
        scale = _time_process(command, runs, warm)
        print(f"  calc convert '0.5% w/v' mg/mL, warm cache   {_median_ms(scale)}")
        try:
            from formulary.library import load_library  # noqa: F401
        except ImportError:
            return
        subst = _time_process(
            [
                PY,
                "-m",
                "tui",
                "calc",
                "convert",
                "10 mg",
                "mg",
                "-s",
                "zinc sulfate",
                "--to-form",
                "zinc",
            ],
            runs,
            warm,
        )
        print(f"  calc convert ... --substance, warm cache    {_median_ms(subst)}")


ZINC = Substance(
    key="zinc-sulfate",
    name="Zinc sulfate",
    form="zinc sulfate anhydrous",
    molar_mass=Decimal("161.44"),
    bases=(Basis("zinc", "zinc (element)", Decimal("65.38")),),
    valence=2,
)
VITAMIN_E = Substance(
    key="vitamin-e",
    name="Vitamin E (synthetic)",
    form="all-rac-alpha-tocopheryl acetate",
    molar_mass=Decimal("472.75"),
    iu_bases=(IUBasis("all-rac-alpha-tocopheryl acetate", Decimal(1)),),
)


def conversion_figures(count: int) -> None:
    print("Conversions (warm, in process)")
    cases = [
        ("plain mg -> mcg", Amount(Decimal("2.5"), "mg"), "mcg", None, None),
        ("% w/v -> mg/mL", Amount(Decimal("0.5"), "% w/v"), "mg/mL", None, None),
        ("ratio -> mcg/mL", Amount(Decimal(200000), "ratio w/v"), "mcg/mL", None, None),
        ("salt -> element", Amount(Decimal(10), "mg"), "mg", ZINC, "zinc"),
        ("mg/mL -> mmol/L", Amount(Decimal(5), "mg/mL"), "mmol/L", ZINC, None),
        ("IU -> mg", Amount(Decimal(400), "IU"), "mg", VITAMIN_E, None),
    ]
    for label, amount, target, substance, to_form in cases:
        convert(amount, target, substance, to_form=to_form)  # warm the factor cache
        started, cpu = time.perf_counter(), time.process_time()
        for _ in range(count):
            convert(amount, target, substance, to_form=to_form)
        per = (time.perf_counter() - started) / count * 1e6
        per_cpu = (time.process_time() - cpu) / count * 1e6
        print(f"  {label:18s} wall {per:6.1f} µs   cpu {per_cpu:6.1f} µs per conversion")


def _corpus(size: int, seed: int = 20261124) -> list[str]:
    rng = random.Random(seed)
    units = [
        "mg",
        "mcg",
        "µg",
        "mL",
        "cc",
        "% w/v",
        "IU",
        "units",
        "mg/mL",
        "hairs/cm2",
        "mgg",
        "%",
        "U",
        "1:",
        "w/v",
        "e",
        "^",
        "*",
        "(",
        ")",
    ]
    pieces = [*string.digits, ".", ",", " ", "-", "+", ":", "/", "e", "E", "^", "*"]
    corpus = [
        "9^9^9",
        "9**9**9",
        "nan",
        "inf",
        "1e308 mg",
        "1" * 64,
        "9" * 200 + " mg",
        "0." + "0" * 60 + "1 mg",
        "1:" + "9" * 60,
        " " * 64,
        "(" * 64,
        "1" + "0" * 11 + " mg",
    ]
    while len(corpus) < size:
        pick = rng.random()
        if pick < 0.3:  # amount-shaped
            number = str(rng.randint(0, 10 ** rng.randint(0, 13)))
            if rng.random() < 0.5:
                number += "." + str(rng.randint(0, 10 ** rng.randint(1, 13)))
            corpus.append(f"{number}{rng.choice(['', ' '])}{rng.choice(units)}")
        elif pick < 0.6:  # random printable noise
            length = rng.randint(0, 80)
            corpus.append("".join(rng.choice(string.printable) for _ in range(length)))
        elif pick < 0.85:  # digits and operators
            length = rng.randint(1, 70)
            corpus.append("".join(rng.choice(pieces) for _ in range(length)))
        else:  # arbitrary unicode
            length = rng.randint(0, 70)
            corpus.append("".join(chr(rng.randint(32, 0x2FFF)) for _ in range(length)))
    return corpus


def parser_figures(size: int) -> None:
    corpus = _corpus(size)
    with contextlib.suppress(UnitsError):  # the first unknown unit imports difflib once
        parse_quantity("1 mgg")
    # Keep the benchmark's own bookkeeping out of the garbage collector's way, so a
    # collection of *its* objects is not charged to whichever input happens to trigger it.
    gc.collect()
    gc.freeze()
    times = array("q")
    cpu_times = array("q")
    accepted = 0
    for text in corpus:
        cpu_started = time.thread_time_ns()
        started = time.perf_counter_ns()
        try:
            parse_quantity(text)
            accepted += 1
        except UnitsError:
            pass
        times.append(time.perf_counter_ns() - started)
        cpu_times.append(time.thread_time_ns() - cpu_started)
    gc.unfreeze()
    order = sorted(range(len(times)), key=times.__getitem__)
    mean = statistics.fmean(times) / 1000
    p99 = times[order[int(len(order) * 0.99)]] / 1000
    biggest = times[order[-1]] / 1000
    worst = corpus[order[-1]]
    slowest = [(times[i], corpus[i]) for i in order[-20:]]
    cpu_max = max(cpu_times)
    print(f"Parser over {len(corpus)} generated inputs ({accepted} accepted)")
    print(
        f"  mean {mean:.1f} µs   p99 {p99:.1f} µs   max {biggest:.1f} µs "
        f"({biggest / 1000:.3f} ms; target < 50 ms)   slowest input: {worst[:30]!r}"
    )
    # On a busy machine the single maximum is mostly scheduling; re-time the 20 slowest
    # inputs to show what they cost the parser itself.
    retimed = []
    for _, text in sorted(slowest, reverse=True)[:20]:
        runs = []
        for _ in range(50):
            started = time.perf_counter_ns()
            with contextlib.suppress(UnitsError):
                parse_quantity(text)
            runs.append(time.perf_counter_ns() - started)
        retimed.append(statistics.median(runs) / 1000)
    print(f"  the 20 slowest inputs re-timed (median of 50 runs each): max {max(retimed):.1f} µs")
    print(
        f"  max CPU (thread) time of any one input: {cpu_max / 1000:.1f} µs "
        "(what the parser costs, whatever the machine's load)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    options = parser.parse_args()
    runs = 3 if options.quick else 9
    registry_figures(runs)
    cli_figures(runs)
    conversion_figures(2000 if options.quick else 20000)
    parser_figures(20000 if options.quick else 200000)


if __name__ == "__main__":
    main()
