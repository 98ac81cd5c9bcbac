#!/usr/bin/env python3
"""bigflow benchmark harness (stdlib only).

Run it through ``bench/run`` (which prepares the BigFlow 1.11.3 baseline venv), e.g.::

    bench/run                  # every benchmark, 15 timed runs + 2 warm-up runs per command
    bench/run --quick          # 5 timed runs + 1 warm-up
    bench/run cli-startup      # a subset, by name
    bench/run --list           # the registered benchmarks

House rules this file implements: commands that are compared are timed side by side in one
run, interleaved round-robin (rotating the start each round so no command always follows the
same one); every table has the bare floor (``python -c pass`` of the same venv's interpreter)
and, where the benchmark has one, the BigFlow 1.x baseline, and every row is given as a ratio
to both. ``bench/RESULTS.md`` is rewritten fully on each successful run.

Adding a benchmark: see bench/README.md, "Adding a benchmark". In short::

    @benchmark("my-bench", title="What it measures")
    def my_bench(ctx: Context) -> None:
        \"\"\"One paragraph shown in RESULTS.md.\"\"\"
        ctx.compare([
            ctx.cmd("bigflow do-thing", ctx.dev, "bigflow", "do-thing", target=0.5),
            ctx.cmd("bigflow 1.x: bigflow thing", ctx.bf1, "bigflow", "thing", role="baseline"),
        ])
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as _dt
import inspect
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Sequence
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
BF1_VERSION = "1.11.3"
DEFAULT_REPS, DEFAULT_WARMUP = 15, 2
QUICK_REPS, QUICK_WARMUP = 5, 1

# Modules that the CLI must not import just to start or to list plugins.
HEAVY_MODULES = ("apache_beam", "pyspark", "google.cloud.bigquery", "airflow", "docker")


class BenchError(Exception):
    """A benchmark cannot produce a trustworthy result (exit 1)."""


class SetupError(Exception):
    """The environment is not ready (missing venv or baseline); exit 2 with a fix."""


# --------------------------------------------------------------------------- registry


@dataclasses.dataclass
class Benchmark:
    name: str
    title: str
    func: Callable[[Context], None]
    description: str


REGISTRY: dict[str, Benchmark] = {}


def benchmark(name: str, *, title: str | None = None) -> Callable:
    """Register ``func(ctx)`` as benchmark ``name``; its docstring is its description."""

    def deco(func: Callable[[Context], None]) -> Callable[[Context], None]:
        if name in REGISTRY:
            raise ValueError(f"benchmark {name!r} registered twice")
        REGISTRY[name] = Benchmark(name, title or name, func, inspect.getdoc(func) or "")
        return func

    return deco


# --------------------------------------------------------------------------- venvs & commands


@dataclasses.dataclass
class Venv:
    label: str  # short, shown in tables: "dev", "1.x"
    path: Path

    @property
    def python(self) -> str:
        return str(self.path / "bin" / "python")

    def bin(self, name: str) -> str:
        p = self.path / "bin" / name
        if not (p.is_file() and os.access(p, os.X_OK)):
            raise SetupError(f"{p} does not exist or is not executable")
        return str(p)

    def query(self, code: str) -> str:
        out = subprocess.run(
            [self.python, "-c", code],
            capture_output=True,
            text=True,
            env=clean_env(),
            stdin=subprocess.DEVNULL,
        )
        if out.returncode:
            raise SetupError(f"{self.python} -c ... failed:\n{out.stderr.strip()}")
        return out.stdout.strip()

    def python_version(self) -> str:
        return self.query("import platform, sys; print(platform.python_version(), sys._base_executable)")

    def dist_versions(self, names: Sequence[str]) -> dict[str, str | None]:
        code = textwrap.dedent(f"""
            import importlib.metadata as m, json
            out = {{}}
            for n in {list(names)!r}:
                try: out[n] = m.version(n)
                except m.PackageNotFoundError: out[n] = None
            print(json.dumps(out))
        """)
        return json.loads(self.query(code))


@dataclasses.dataclass(eq=False)
class Cmd:
    label: str
    argv: list[str]
    venv: Venv
    role: str = "measured"  # "floor" | "baseline" | "measured"
    target: float | None = None  # seconds; PASS when the median is <= target
    cwd: Path | None = None
    env: dict[str, str] | None = None  # added to the cleaned environment
    expect_rc: int = 0


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of measured commands: no PYTHON*, venv or bigflow settings leak in."""
    drop = ("PYTHON", "BIGFLOW_", "bf_")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(drop) and k not in ("VIRTUAL_ENV", "CONDA_PREFIX", "BENCH_INVOCATION")
    }
    env["COLUMNS"] = "100"
    env.update(extra or {})
    return env


@dataclasses.dataclass
class Stats:
    wall: list[float]
    cpu: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.wall)

    @property
    def p90(self) -> float:
        if len(self.wall) < 2:
            return self.wall[0]
        return statistics.quantiles(self.wall, n=10, method="inclusive")[8]

    @property
    def min(self) -> float:
        return min(self.wall)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu)


@dataclasses.dataclass
class Row:
    cmd: Cmd
    stats: Stats
    floor: Row | None = None
    baseline: Row | None = None
    stderr_head: str = ""

    @property
    def verdict(self) -> str:
        if self.cmd.target is None:
            return ""
        return "PASS" if self.stats.median <= self.cmd.target else "FAIL"


@dataclasses.dataclass
class Table:
    title: str
    rows: list[Row]
    reps: int
    warmup: int


@dataclasses.dataclass
class Check:
    name: str
    ok: bool
    detail: str


@dataclasses.dataclass
class Section:
    bench: Benchmark
    tables: list[Table] = dataclasses.field(default_factory=list)
    checks: list[Check] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)
    seconds: float = 0.0

    def failures(self) -> list[str]:
        out = [
            f"{self.bench.name}: {r.cmd.label}: median {r.stats.median:.3f} s > target {r.cmd.target:.3f} s"
            for t in self.tables
            for r in t.rows
            if r.verdict == "FAIL"
        ]
        out += [f"{self.bench.name}: check failed: {c.name}: {c.detail}" for c in self.checks if not c.ok]
        return out


# --------------------------------------------------------------------------- context


class Context:
    """What a benchmark function gets: venvs, a neutral cwd, timing and reporting helpers."""

    def __init__(self, args: argparse.Namespace, section: Section, scratch: Path):
        self._args = args
        self.section = section
        self.reps: int = args.reps
        self.warmup: int = args.warmup
        self.dev = Venv("dev", Path(args.dev_venv))
        self._bf1_path = Path(args.bf1_venv)
        self._bf1: Venv | None = None
        # An empty directory outside any project (BigFlow 1.x walks up from cwd looking for a
        # project root and chdirs there, so a cwd inside this repo would change what it does).
        self.neutral_dir = scratch

    # ---- venvs
    @property
    def bf1(self) -> Venv:
        """The BigFlow 1.11.3 baseline venv; a missing or wrong one is a SetupError."""
        if self._bf1 is None:
            self._bf1 = check_bf1(self._bf1_path)
        return self._bf1

    def workdir(self, name: str | None = None) -> Path:
        """A git-ignored scratch directory for this benchmark: bench/.work/<benchmark>[/name]."""
        p = BENCH_DIR / ".work" / self.section.bench.name
        if name:
            p = p / name
        p.mkdir(parents=True, exist_ok=True)
        return p

    # ---- commands
    def cmd(self, label: str, venv: Venv, program: str, *args: str, **kw) -> Cmd:
        """A command running ``<venv>/bin/<program> args...`` (cwd defaults to the neutral dir)."""
        return Cmd(label, [venv.bin(program), *args], venv, **kw)

    def floor(self, venv: Venv) -> Cmd:
        return Cmd(f"python -c pass ({venv.label} venv)", [venv.python, "-c", "pass"], venv, role="floor")

    def run(
        self,
        argv: Sequence[str],
        *,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        expect_rc: int | None = 0,
    ) -> subprocess.CompletedProcess:
        """Run once (not timed), capturing stdout/stderr; a wrong exit code is a BenchError."""
        p = subprocess.run(
            list(argv),
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            cwd=cwd or self.neutral_dir,
            env=clean_env(env),
        )
        if expect_rc is not None and p.returncode != expect_rc:
            raise BenchError(
                f"`{shell_join(argv)}` exited {p.returncode} (expected {expect_rc}):\n"
                f"{tail(p.stderr or p.stdout)}"
            )
        return p

    def import_profile(self, venv: Venv, argv: Sequence[str], runs: int = 3) -> list[ImportEntry]:
        """``venv``'s python -X importtime argv..., ``runs`` times; per module the fastest run."""
        best: dict[str, ImportEntry] = {}
        for _ in range(runs):
            p = self.run([venv.python, "-X", "importtime", *argv])
            entries = parse_importtime(p.stderr)
            if not entries:
                raise BenchError(f"no -X importtime output from `{shell_join(argv)}`:\n{tail(p.stderr)}")
            for e in entries:
                if e.module not in best or e.cumulative_us < best[e.module].cumulative_us:
                    best[e.module] = e
        return list(best.values())

    # ---- reporting
    def note(self, text: str) -> None:
        self.section.notes.append(text)

    def check(self, name: str, ok: bool, detail: str) -> None:
        self.section.checks.append(Check(name, ok, detail))
        log(f"  check {'ok  ' if ok else 'FAIL'} {name}: {detail}")

    # ---- timing
    def compare(
        self, cmds: Sequence[Cmd], title: str | None = None, *, need_baseline: bool = True
    ) -> list[Row]:
        """Time ``cmds`` side by side, interleaved; add a table to the report; return its rows.

        A floor row (``python -c pass``) is added for every venv in ``cmds`` that has none.
        With ``need_baseline`` (the default) exactly one command must have role="baseline".
        """
        cmds = list(cmds)
        for venv in unique(c.venv for c in cmds):
            if not any(c.role == "floor" and c.venv is venv for c in cmds):
                cmds.insert(0, self.floor(venv))
        baselines = [c for c in cmds if c.role == "baseline"]
        if need_baseline and len(baselines) != 1:
            raise BenchError(f"compare(): need exactly one baseline command, got {len(baselines)}")
        labels = [c.label for c in cmds]
        if len(set(labels)) != len(labels):
            raise BenchError(f"compare(): duplicate labels in {labels}")

        rows = self._time(cmds)
        floors = {c.venv.label: rows[c] for c in cmds if c.role == "floor"}
        base = rows[baselines[0]] if baselines else None
        out = []
        for c in cmds:
            r = rows[c]
            r.floor = floors.get(c.venv.label)
            r.baseline = base
            out.append(r)
        self.section.tables.append(Table(title or self.section.bench.title, out, self.reps, self.warmup))
        return out

    def _time(self, cmds: list[Cmd]) -> dict[Cmd, Row]:
        wall: dict[Cmd, list[float]] = {c: [] for c in cmds}
        cpu: dict[Cmd, list[float]] = {c: [] for c in cmds}
        errs: dict[Cmd, str] = {}
        rounds = self.warmup + self.reps
        errfile = self.neutral_dir.parent / (self.neutral_dir.name + ".stderr")
        log(f"  timing {len(cmds)} commands x {self.reps} (+{self.warmup} warm-up), interleaved")
        t_start = time.monotonic()
        for r in range(rounds):
            k = r % len(cmds)
            for c in cmds[k:] + cmds[:k]:  # rotate the start so no command always follows the same one
                w, u, err = self._run_timed(c, errfile)
                if r >= self.warmup:
                    wall[c].append(w)
                    cpu[c].append(u)
                errs[c] = err
            if r == 0:
                est = (time.monotonic() - t_start) * (rounds - 1)
                log(f"  first round done; about {est:.0f} s to go")
        return {c: Row(c, Stats(wall[c], cpu[c]), stderr_head=first_lines(errs[c])) for c in cmds}

    def _run_timed(self, c: Cmd, errfile: Path) -> tuple[float, float, str]:
        env = clean_env(c.env)
        cwd = c.cwd or self.neutral_dir
        with open(errfile, "w+b") as err:
            ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            p = subprocess.run(
                c.argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, cwd=cwd, env=env
            )
            t1 = time.perf_counter()
            ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            err.seek(0)
            stderr = err.read().decode("utf-8", "replace")
        if p.returncode != c.expect_rc:
            raise BenchError(
                f"[{c.label}] `{shell_join(c.argv)}` (cwd {cwd}) exited {p.returncode}, "
                f"expected {c.expect_rc}; a failing command cannot be timed.\n{tail(stderr)}"
            )
        cpu_s = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
        return t1 - t0, cpu_s, stderr


def check_bf1(path: Path) -> Venv:
    fix = (
        f"Fix: run `bench/run` (it builds {path} with `bigflow=={BF1_VERSION}`), or "
        f"`BENCH_REBUILD_BF1=1 bench/run` to rebuild it; see bench/README.md."
    )
    venv = Venv("1.x", path)
    if not Path(venv.python).exists():
        raise SetupError(f"BigFlow {BF1_VERSION} baseline venv missing: {path} has no bin/python.\n{fix}")
    try:
        ver = venv.dist_versions(["bigflow"])["bigflow"]
        venv.bin("bigflow")
    except SetupError as e:
        raise SetupError(f"BigFlow {BF1_VERSION} baseline venv {path} is broken: {e}\n{fix}") from e
    if ver != BF1_VERSION:
        raise SetupError(f"baseline venv {path} holds bigflow {ver}, expected {BF1_VERSION}.\n{fix}")
    return venv


# --------------------------------------------------------------------------- import-time analysis

_IMPORT_RE = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|( *)(\S+)\s*$")


def starter_project_script(starter: str, local_settings: str) -> str:
    """A ``python -c`` script (argv: ROOT PACKAGE) writing the files of the plugin starter ``starter``
    ("module:Class") into a minimal project whose local environment has ``local_settings`` (TOML lines);
    files already up to date are left alone, so their timestamps (and caches keyed on them) survive."""
    module, cls = starter.split(":")
    return textwrap.dedent(f'''\
        import sys
        from pathlib import Path
        from {module} import {cls}

        root, package = Path(sys.argv[1]), sys.argv[2]
        files = {cls}().files({{"project_name": package, "package": package, "environments": ["local"]}})
        files[f"{{package}}/__init__.py"] = ""
        files["pyproject.toml"] = (f\'[project]\\nname = "{{package}}"\\nversion = "0.1.0"\\n\\n[tool.bigflow]\\n\'
                                   f\'package = "{{package}}"\\n\\n[tool.bigflow.environments.local]\\n\'
                                   {local_settings!r})
        for path, text in files.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            if not (root / path).exists() or (root / path).read_text() != text:
                (root / path).write_text(text)
    ''')


@dataclasses.dataclass
class ImportEntry:
    module: str
    self_us: int
    cumulative_us: int
    depth: int


def parse_importtime(stderr: str) -> list[ImportEntry]:
    out = []
    for line in stderr.splitlines():
        m = _IMPORT_RE.match(line)
        if m:
            out.append(ImportEntry(m.group(4), int(m.group(1)), int(m.group(2)), len(m.group(3)) // 2))
    return out


def heavy_imports(entries: Sequence[ImportEntry], heavy: Sequence[str] = HEAVY_MODULES) -> list[str]:
    found = []
    for prefix in heavy:
        if any(e.module == prefix or e.module.startswith(prefix + ".") for e in entries):
            found.append(prefix)
    return found


def import_summary(label: str, entries: Sequence[ImportEntry], n: int = 8) -> str:
    total = sum(e.self_us for e in entries)
    return (
        f"Slowest top-level imports of `{label}` (`python -X importtime`, best of 3 runs; importtime "
        f"inflates the numbers; sum of all imports {total / 1e3:.1f} ms, {len(entries)} modules):\n\n"
        + "\n".join(f"    {e.cumulative_us / 1e3:8.1f} ms  {e.module}" for e in top_imports(entries, n))
    )


def top_imports(entries: Sequence[ImportEntry], n: int = 8) -> list[ImportEntry]:
    """The slowest top-level imports (depth 0) by cumulative time."""
    return sorted((e for e in entries if e.depth == 0), key=lambda e: -e.cumulative_us)[:n]


# --------------------------------------------------------------------------- benchmarks

PLUGIN_DISTS = ("bigflow-bigquery", "bigflow-beam", "bigflow-spark", "bigflow-airflow")
HEAVY_DISTS = ("apache-beam", "pyspark", "google-cloud-bigquery")


def fifth_plugin(ctx: Context) -> dict[str, str]:
    """The environment that adds a fifth, third-party plugin (bigflow-hello) to the dev venv's four."""
    target = ctx.workdir("fifth-plugin")
    if not any(target.glob("bigflow_hello-*.dist-info")):
        ctx.run([ctx.dev.bin("uv"), "pip", "install", "--quiet", "--no-deps", "--target", str(target),
                 str(BENCH_DIR.parent / "tests" / "fixtures" / "bigflow-hello")])
    return {"PYTHONPATH": str(target)}


@benchmark("cli-startup", title="CLI start-up (issue: bigflow-core: the plugin contract)")
def cli_startup(ctx: Context) -> None:
    """Wall time of short CLI invocations, from process start to exit, in an empty directory
    outside any project. The dev venv holds bigflow-core, the four plugins
    (bigflow-bigquery, -beam, -spark, -airflow) and the heavy libraries behind them
    (apache-beam, pyspark, google-cloud-bigquery): listing plugins must not import those. A fifth,
    third-party plugin (tests/fixtures/bigflow-hello, installed into bench/.work with `uv pip install
    --target` and put on PYTHONPATH) is listed too: listing reads metadata only, so its cost does not grow
    with what plugins import. Baseline: BigFlow 1.11.3's `bigflow -h`. Targets (2-core machine):
    `bigflow --help` median <= 0.15 s, `bigflow plugins list` median <= 0.10 s (with and without the fifth)."""
    dev = ctx.dev
    # Precondition of the targets: the environment really holds the plugins and heavy libraries.
    dists = dev.dist_versions(["bigflow-core", *PLUGIN_DISTS, *HEAVY_DISTS])
    missing = [d for d, v in dists.items() if v is None]
    ctx.check(
        "dev venv holds bigflow-core, the 4 plugins, apache-beam, pyspark, google-cloud-bigquery",
        not missing,
        ("all present: " if not missing else f"MISSING: {', '.join(missing)}; present: ")
        + ", ".join(f"{d} {v}" for d, v in dists.items() if v),
    )

    bf = dev.bin("bigflow")
    fifth = fifth_plugin(ctx)
    variants = [
        ("bigflow --help", ["--help"], 0.15, None),
        ("bigflow --version", ["--version"], None, None),
        ("bigflow plugins list", ["plugins", "list"], 0.10, None),
        ("bigflow plugins list --json", ["plugins", "list", "--json"], None, None),
        ("bigflow plugins list (+ a fifth, third-party plugin)", ["plugins", "list"], 0.10, fifth),
    ]
    out = ctx.run([bf, "plugins", "list", "--json"], env=fifth).stdout
    try:
        names = [r["name"] for r in json.loads(out)]
        ctx.check("`bigflow plugins list --json` lists the 4 plugins and the fifth (bigflow-hello)",
                  {*PLUGIN_DISTS, "bigflow-hello"} <= set(names), ", ".join(names))
    except ValueError as e:
        ctx.check("`bigflow plugins list --json` lists the 4 plugins and the fifth (bigflow-hello)", False, str(e))

    cmds = [ctx.floor(dev)]
    cmds += [ctx.cmd(label, dev, "bigflow", *args, target=target, env=env) for label, args, target, env in variants]
    cmds += [
        ctx.floor(ctx.bf1),
        ctx.cmd(f"BigFlow {BF1_VERSION}: bigflow -h", ctx.bf1, "bigflow", "-h", role="baseline"),
    ]
    ctx.compare(cmds)

    # Verify (not time) that none of them imports a heavy module; after the timing, so bytecode
    # caches are warm and the import profile shows steady-state costs.
    for label, args, _, _ in variants[:4]:
        entries = ctx.import_profile(dev, [bf, *args])
        heavy = heavy_imports(entries)
        ctx.check(
            f"`{label}` imports no heavy module ({', '.join(HEAVY_MODULES)})",
            not heavy,
            f"heavy modules imported: {', '.join(heavy) if heavy else 'none'} "
            f"({len(entries)} modules imported in all)",
        )
        if label in ("bigflow --help", "bigflow plugins list"):
            ctx.note(import_summary(label, entries))


# --------------------------------------------------------------------------- report


def fmt_s(x: float) -> str:
    return f"{x:.3f} s"


def fmt_ratio(x: float | None) -> str:
    return "" if x is None else f"{x:.2f}×"


def machine_facts(dev: Venv, bf1: Venv | None, load_before: tuple[float, ...]) -> list[tuple[str, str]]:
    cpu_model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, AttributeError):
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    facts = [
        ("cores", f"{os.cpu_count()} ({usable} usable by this process)"),
        ("CPU", cpu_model or platform.processor() or "?"),
        ("memory", mem or "?"),
        ("OS", f"{platform.system()} {platform.release()} ({platform.machine()})"),
        ("load average before (1/5/15 min)", " / ".join(f"{x:.2f}" for x in load_before)),
        ("dev venv", f"{dev.path} — Python {dev.python_version()}"),
    ]
    if bf1 is not None:
        facts.append(("BigFlow 1.x venv", f"{bf1.path} — Python {bf1.python_version()}"))
    return facts


def git_describe() -> str:
    try:
        head = subprocess.run(
            ["git", "-C", str(REPO_DIR), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO_DIR), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        return head + (" (with uncommitted changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "?"


def render(sections: list[Section], facts: list[tuple[str, str]], header: dict[str, str]) -> str:
    out = [
        "# Benchmark results",
        "",
        "Generated by `bench/run` (see bench/README.md); this file is rewritten fully on each run.",
        "",
    ]
    for k, v in header.items():
        out.append(f"- **{k}**: {v}")
    for k, v in facts:
        out.append(f"- **{k}**: {v}")
    out.append("")
    out.append(
        "Ratios are of medians: `× floor` against `python -c pass` of the same venv's interpreter, "
        "`× 1.x` against the BigFlow 1.x baseline row. Commands were run interleaved (round-robin, "
        "rotating start), stdout to /dev/null, stdin from /dev/null, in an empty directory outside "
        "any project. CPU = user+sys time of the process tree (median)."
    )
    out.append("")
    for s in sections:
        out.append(f"## `{s.bench.name}` — {s.bench.title}")
        out.append("")
        if s.bench.description:
            out.append(" ".join(s.bench.description.split()))
            out.append("")
        for t in s.tables:
            if len(s.tables) > 1:
                out.append(f"### {t.title}")
                out.append("")
            out.append(f"{t.reps} timed runs per command (+{t.warmup} warm-up).")
            out.append("")
            out.append("| command | median | p90 | min | CPU | × floor | × 1.x | target | result |")
            out.append("|---|---:|---:|---:|---:|---:|---:|---:|:---:|")
            for r in t.rows:
                st = r.stats
                label = f"`{r.cmd.label}`"
                if r.cmd.role != "measured":
                    label += f" *({r.cmd.role})*"
                out.append(
                    "| "
                    + " | ".join(
                        [
                            label,
                            fmt_s(st.median),
                            fmt_s(st.p90),
                            fmt_s(st.min),
                            fmt_s(st.cpu_median),
                            fmt_ratio(st.median / r.floor.stats.median if r.floor else None),
                            fmt_ratio(st.median / r.baseline.stats.median if r.baseline else None),
                            f"≤ {r.cmd.target:.2f} s" if r.cmd.target is not None else "",
                            f"**{r.verdict}**" if r.verdict else "",
                        ]
                    )
                    + " |"
                )
            out.append("")
            errs = [(r.cmd.label, r.stderr_head) for r in t.rows if r.stderr_head]
            if errs:
                out.append("stderr of the last timed run (commands exited 0):")
                out.append("")
                for label, e in errs:
                    out.append(f"- `{label}`: `{e}`")
                out.append("")
        if s.checks:
            out.append("Checks (verified, not timed):")
            out.append("")
            for c in s.checks:
                out.append(f"- {'PASS' if c.ok else '**FAIL**'} — {c.name}: {c.detail}")
            out.append("")
        for n in s.notes:
            out.append(n)
            out.append("")
        out.append(f"_(benchmark took {s.seconds:.0f} s)_")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def render_text(sections: list[Section]) -> str:
    lines = []
    for s in sections:
        for t in s.tables:
            lines.append(f"== {s.bench.name}: {t.title}")
            w = max(len(r.cmd.label) for r in t.rows)
            lines.append(
                f"{'command':<{w}}  {'median':>8} {'p90':>8} {'min':>8}  {'×floor':>7} {'×1.x':>6}  target"
            )
            for r in t.rows:
                st = r.stats
                lines.append(
                    f"{r.cmd.label:<{w}}  {st.median:8.3f} {st.p90:8.3f} {st.min:8.3f}  "
                    f"{fmt_ratio(st.median / r.floor.stats.median if r.floor else None):>7} "
                    f"{fmt_ratio(st.median / r.baseline.stats.median if r.baseline else None):>6}  "
                    + (f"<= {r.cmd.target:.2f} {r.verdict}" if r.cmd.target is not None else "")
                )
        for c in s.checks:
            lines.append(f"  check {'PASS' if c.ok else 'FAIL'}: {c.name}: {c.detail}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- helpers


def log(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def shell_join(argv: Sequence[str]) -> str:
    import shlex

    return " ".join(shlex.quote(str(a)) for a in argv)


def tail(text: str, n: int = 15) -> str:
    lines = (text or "").rstrip().splitlines()
    return "\n".join("    " + ln for ln in lines[-n:]) or "    (no output)"


def first_lines(text: str, n: int = 2, width: int = 160) -> str:
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    s = " ⏎ ".join(lines[:n]) + (" ⏎ …" if len(lines) > n else "")
    return s if len(s) <= width else s[: width - 1] + "…"


def unique(items):
    seen, out = set(), []
    for x in items:
        if id(x) not in seen:
            seen.add(id(x))
            out.append(x)
    return out


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="bench/run", description="Run bigflow benchmarks; rewrite bench/RESULTS.md."
    )
    ap.add_argument("names", nargs="*", metavar="NAME", help="benchmarks to run (default: all)")
    ap.add_argument(
        "--quick",
        action="store_true",
        help=f"fewer repetitions ({QUICK_REPS} timed + {QUICK_WARMUP} warm-up)",
    )
    ap.add_argument("--reps", type=int, help=f"timed runs per command (default {DEFAULT_REPS})")
    ap.add_argument("--warmup", type=int, help=f"warm-up runs per command (default {DEFAULT_WARMUP})")
    ap.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    ap.add_argument("--validate", action="store_true", help=argparse.SUPPRESS)  # bench/run: check args only
    ap.add_argument("--strict", action="store_true", help="exit 3 when a target or check FAILs")
    ap.add_argument(
        "--output", default=str(BENCH_DIR / "RESULTS.md"), help="results file (default bench/RESULTS.md)"
    )
    ap.add_argument("--dev-venv", default=os.environ.get("BENCH_DEV_VENV", str(REPO_DIR / ".venv")))
    ap.add_argument("--bf1-venv", default=str(BENCH_DIR / ".venvs" / "bigflow1"))
    a = ap.parse_args(argv)
    a.reps = a.reps if a.reps is not None else (QUICK_REPS if a.quick else DEFAULT_REPS)
    a.warmup = a.warmup if a.warmup is not None else (QUICK_WARMUP if a.quick else DEFAULT_WARMUP)
    if a.reps < 1 or a.warmup < 0:
        ap.error("--reps must be >= 1 and --warmup >= 0")
    return a


def load_benchmark_modules() -> None:
    """Import ``bench/bench_*.py``: each package's benchmarks live in a module of their own."""
    import importlib.util

    sys.modules.setdefault("bench", sys.modules[__name__])
    for path in sorted(Path(__file__).parent.glob("bench_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[path.stem] = module
        spec.loader.exec_module(module)


def main(argv: Sequence[str] | None = None) -> int:
    load_benchmark_modules()
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.list:
        for b in REGISTRY.values():
            print(f"{b.name:<20} {b.title}")
        return 0
    unknown = [n for n in args.names if n not in REGISTRY]
    if unknown:
        print(
            f"bench: unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(REGISTRY)}",
            file=sys.stderr,
        )
        return 2
    if args.validate:
        return 0
    chosen = [REGISTRY[n] for n in (args.names or REGISTRY)]
    invocation = os.environ.get("BENCH_INVOCATION") or "python bench/bench.py " + shell_join(sys.argv[1:])

    load_before = os.getloadavg()
    started = _dt.datetime.now(_dt.UTC)
    sections: list[Section] = []
    scratch_root = Path(tempfile.mkdtemp(prefix="bigflow-bench-"))
    bf1_used: Venv | None = None
    try:
        for b in chosen:
            log(f"{b.name}: {b.title}")
            neutral = scratch_root / b.name
            neutral.mkdir()
            section = Section(b)
            ctx = Context(args, section, neutral)
            t0 = time.monotonic()
            b.func(ctx)
            section.seconds = time.monotonic() - t0
            bf1_used = bf1_used or ctx._bf1
            sections.append(section)
        dev = Venv("dev", Path(args.dev_venv))
        facts = machine_facts(dev, bf1_used, load_before)
    except SetupError as e:
        print(f"\nbench: SETUP ERROR: {e}", file=sys.stderr)
        return 2
    except BenchError as e:
        print(f"\nbench: ERROR: {e}\nbench: {args.output} was not rewritten.", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(scratch_root, ignore_errors=True)

    load_after = os.getloadavg()
    facts.append(("load average after", " / ".join(f"{x:.2f}" for x in load_after)))
    dv = dev.dist_versions(["bigflow-core"])["bigflow-core"]
    header = {
        "date": started.strftime("%Y-%m-%d %H:%M UTC"),
        "command": f"`{invocation}`",
        "repetitions": f"{args.reps} timed + {args.warmup} warm-up per command"
        + (" (--quick)" if args.quick else ""),
        "benchmarks": ", ".join(b.name for b in chosen),
        "git commit": git_describe(),
        "bigflow-core": dv or "not installed",
    }
    if bf1_used is not None:
        header["baseline"] = f"BigFlow {BF1_VERSION} (PyPI) in {bf1_used.path}"
    text = render(sections, facts, header)
    Path(args.output).write_text(text)
    print(render_text(sections))
    failures = [f for s in sections for f in s.failures()]
    log(f"wrote {args.output}")
    if failures:
        log("FAIL:\n  " + "\n  ".join(failures))
        return 3 if args.strict else 0
    log("all targets and checks PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
