"""Memory-budget exploration: plan a model over a grid of budgets, find the Pareto front of latency
against memory, and the smallest feasible budget per level by search.

Points are independent, so they run on an executor: local processes (default), serial, or a Ray
cluster. Results do not depend on the executor (the planner is deterministic: one CP-SAT worker, a
fixed seed, a deterministic-time limit); only the wall times (`seconds`) differ. Each point is handed
to `on_point` as soon as it finishes, so a caller can persist it before the sweep ends; an exception
(or Ctrl-C) stops the workers and propagates, and the points handed out so far are all there is.

A point whose planning raises anything but `InfeasibleBudget` is recorded with status "error" and its
message; the sweep goes on.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import time
from collections.abc import Callable, Generator, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..errors import DeeployTilerError, InfeasibleBudget
from ..hw.spec import HwSpec
from ..ir import Graph
from ..plan import Plan
from ..units import parse_bytes

if TYPE_CHECKING:
    from ..solver import SolverOptions

__all__ = [
    "Executor",
    "MinFeasible",
    "SweepError",
    "SweepPoint",
    "SweepResult",
    "decode_tokens_per_step",
    "min_feasible",
    "min_feasible_l1",
    "pareto_front",
    "parse_grid",
    "parse_overrides",
    "sweep",
    "sweep_result",
]

Executor = Literal["process", "serial", "ray"]
EXECUTORS: tuple[str, ...] = ("process", "serial", "ray")
MAX_GRID_POINTS = 4096  # per level: a typo like 1..1GiB:+1 must not start a billion plans


class SweepError(DeeployTilerError):
    """Bad sweep input (grid, overrides, executor) or an executor that cannot run (unreachable Ray)."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SweepPoint(_Frozen):
    """One grid point: the budgets, the spec overrides, and what the plan at them costs."""

    index: int = Field(ge=0, description="position in the grid (the result's order)")
    l1: int = Field(ge=0, description="L1 budget, bytes")
    l2: int = Field(ge=0, description="L2 budget, bytes (the spec default resolved when not swept)")
    double_buffer: bool
    overrides: dict[str, Any] = Field(default_factory=dict, description="spec fields replaced (dotted paths)")
    status: Literal["ok", "infeasible", "error"]
    feasible: bool
    total_cycles: int | None = None
    lower_bound_cycles: int | None = None
    latency_s: float | None = Field(default=None, description="total_cycles at the spec clock")
    tokens_per_s: float | None = Field(default=None, description="for decode steps: tokens per step / latency")
    tiles: int | None = None
    dma_bytes: int | None = None
    compute_cycles: int | None = Field(default=None, description="kernel cycles, call overheads included")
    exposed_dma_cycles: int | None = Field(default=None, description="DMA cycles not hidden behind compute")
    l1_used: int | None = Field(default=None, description="largest L1 footprint of any node, bytes")
    l2_used: int | None = Field(default=None, description="L2 peak of the static memory plan, bytes")
    l3_used: int | None = Field(default=None, description="L3 peak, when constants spill there")
    within_capacity: bool = Field(default=True, description="budgets within the levels' usable bytes")
    infeasible_level: str | None = None
    required_bytes: int | None = Field(default=None, description="smallest budget of that level every node fits")
    message: str | None = Field(default=None, description="why infeasible, or the error")
    seconds: float = Field(default=0.0, description="wall time of this point (differs run to run)")


class MinFeasible(_Frozen):
    """Smallest budgets with a plan, found by search (not by the grid), for one configuration: the
    smallest L1, and the smallest L2 at that L1 (`dt.plan` tiles within L1, then maps the tensors of
    that tiling into L2 / L3 / weight memory).

    *verified* per level: `dt.plan` at (L1, L2) succeeded and raised `InfeasibleBudget` for that level
    one byte below. A value equal to its *lower bound* (the planner's own answer at 0 B) is minimal
    outright; otherwise minimality relies on feasibility growing with the budget.
    """

    double_buffer: bool
    overrides: dict[str, Any] = Field(default_factory=dict)
    budgets: dict[str, int | None] = Field(description="level -> smallest feasible budget, None: none fits")
    capacity: dict[str, int] = Field(description="level -> usable bytes (the search ceiling)")
    verified: dict[str, bool]
    lower_bounds: dict[str, int] = Field(
        default_factory=dict,
        description="level -> the planner's proven lower bound (its answer at 0 B); a budget "
        "equal to it is minimal without any monotonicity assumption",
    )
    probes: int = Field(ge=0, description="plans (or memory plans) the search ran")
    notes: dict[str, str] = Field(default_factory=dict)
    seconds: float = 0.0


class SweepResult(_Frozen):
    model: str
    hw: str
    clock_hz: int
    tokens_per_step: int | None = Field(description="tokens one run produces (decode steps), None otherwise")
    grid: dict[str, list[Any]] = Field(description="l1, l2, double_buffer, overrides as given")
    points: tuple[SweepPoint, ...]
    pareto: tuple[SweepPoint, ...] = Field(description="feasible points no other beats in L1, L2 and latency")
    min_feasible: tuple[MinFeasible, ...]
    complete: bool = Field(default=True, description="False when the sweep was stopped early")
    executor: str = "serial"
    workers: int = 1
    seconds: float = Field(default=0.0, description="wall time of the whole sweep")

    def to_json(self, *, indent: int | None = 1) -> str:
        return json.dumps(self.model_dump(mode="json"), indent=indent) + "\n"

    @property
    def feasible_points(self) -> tuple[SweepPoint, ...]:
        return tuple(p for p in self.points if p.feasible)


# --- input parsing -------------------------------------------------------------------------------------------


def _range(item: str) -> list[int]:
    lo_s, _, rest = item.partition("..")
    hi_s, _, step_s = rest.partition(":")
    lo, hi = parse_bytes(lo_s.strip()), parse_bytes(hi_s.strip())
    if hi < lo:
        raise ValueError(f"budget range {item!r} is reversed ({lo} B > {hi} B)")
    step_s = step_s.strip()
    values: list[int] = []
    if step_s.startswith("+"):
        step = parse_bytes(step_s[1:].strip())
        if step <= 0:
            raise ValueError(f"budget range {item!r}: the step must be positive")
        if (hi - lo) // step + 2 > MAX_GRID_POINTS:
            raise ValueError(f"budget range {item!r} has more than {MAX_GRID_POINTS} points")
        values = list(range(lo, hi + 1, step))
    else:
        try:
            factor = float(step_s.removeprefix("x").removeprefix("*")) if step_s else 2.0
        except ValueError:
            raise ValueError(
                f"budget range {item!r}: step {step_s!r} is not a factor (x2) or an increment (+4KiB)"
            ) from None
        if not factor > 1.0 or not math.isfinite(factor):
            raise ValueError(f"budget range {item!r}: the step factor must be > 1")
        if lo == 0:
            raise ValueError(f"budget range {item!r}: a geometric range cannot start at 0")
        k = 0
        while (v := round(lo * factor**k)) < hi:  # from lo each time: no drift from repeated products
            values.append(v)
            k += 1
            if k > MAX_GRID_POINTS:
                raise ValueError(f"budget range {item!r} has more than {MAX_GRID_POINTS} points")
    values.append(hi)
    return values


def parse_grid(text: str) -> list[int]:
    """Budgets, sorted and unique, from a comma-separated list of sizes and ranges.

    `64000`, `16KiB,32KiB`, `16KiB..256KiB` (doubling, both ends included), `16KiB..64KiB:x1.5`
    (factor), `16KiB..64KiB:+8KiB` (increment). Raises ValueError naming the item for an empty grid, a
    reversed range, a bad step, a zero budget, or too many points.
    """
    items = [s.strip() for s in text.split(",")]
    if not any(items):
        raise ValueError(f"budget grid {text!r} is empty")
    values: set[int] = set()
    for item in items:
        if not item:
            raise ValueError(f"budget grid {text!r} has an empty item")
        values.update(_range(item) if ".." in item else [parse_bytes(item)])
    if 0 in values:
        raise ValueError(f"budget grid {text!r}: a budget of 0 B cannot hold anything")
    if len(values) > MAX_GRID_POINTS:
        raise ValueError(f"budget grid {text!r} has more than {MAX_GRID_POINTS} points")
    return sorted(values)


def _parse_value(path: str, text: str) -> Any:
    t = text.strip()
    low = t.lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("null", "none", "~"):
        return None
    try:
        return int(t)
    except ValueError:
        pass
    try:
        f = float(t)
    except ValueError:
        pass
    else:
        return int(f) if f.is_integer() and "." not in t.split("e")[0] else f
    if path.endswith("bytes"):
        try:
            return parse_bytes(t)
        except ValueError:
            pass
    return t


def parse_overrides(specs: Iterable[str]) -> list[dict[str, Any]]:
    """Spec variants from `path=value,...` texts; `path=a|b` sweeps a field (cartesian product).

    Values: integers, floats (`360e6`), booleans, `null`, byte sizes for `*bytes` fields (`128KiB`),
    else strings. No text: one variant without overrides. Raises ValueError for a malformed item; an
    unknown field is found when the variant is applied (`HwSpec.with_overrides` raises HwSpecError).
    """
    choices: dict[str, list[Any]] = {}
    for spec in specs:
        for item in spec.split(","):
            if not item.strip():
                continue
            path, eq, value = item.partition("=")
            path = path.strip()
            if not eq or not path or not value.strip():
                raise ValueError(f"override {item.strip()!r} is not path=value (e.g. memories.L1.size_bytes=128KiB)")
            choices[path] = [_parse_value(path, v) for v in value.split("|")]
    if not choices:
        return [{}]
    keys = list(choices)
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*(choices[k] for k in keys))]


# --- what a run of the graph is ------------------------------------------------------------------------------


def decode_tokens_per_step(graph: Graph) -> int | None:
    """Tokens one run produces when the graph is one autoregressive decode step, else None.

    A decode step takes a (batch, 1, hidden) state and rank-4 (batch, heads, cached tokens, head dim)
    KV caches among its inputs, and yields one token per batch row.
    """
    if not graph.inputs:
        return None
    x = graph.inputs[0]
    caches = [t for t in graph.inputs[1:] if len(t.shape) == 4]
    if len(x.shape) == 3 and x.shape[1] == 1 and caches and x.shape[0] >= 1:
        return int(x.shape[0])
    return None


@dataclass(frozen=True)
class _Payload:
    """Everything a worker needs once: the graph, the spec, how to count tokens, solver knobs."""

    key: str
    graph: Graph
    hw: HwSpec
    tokens_per_step: int | None
    solver_options: tuple[tuple[str, Any], ...]


@dataclass
class _Context:
    graph: Graph
    hw: HwSpec
    tokens_per_step: int | None
    solver_options: dict[str, Any]
    variants: dict[tuple[tuple[str, Any], ...], HwSpec] = field(default_factory=dict)

    def spec(self, overrides: tuple[tuple[str, Any], ...]) -> HwSpec:
        if overrides not in self.variants:
            self.variants[overrides] = self.hw.with_overrides(dict(overrides)) if overrides else self.hw
        return self.variants[overrides]

    def options(self) -> SolverOptions:
        from ..solver import SolverOptions

        return SolverOptions(**self.solver_options)


@dataclass(frozen=True)
class _PointTask:
    index: int
    l1: int
    l2: int | None
    double_buffer: bool
    overrides: tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class _SearchTask:
    index: int
    double_buffer: bool
    overrides: tuple[tuple[str, Any], ...]


_Task = _PointTask | _SearchTask
_Outcome = SweepPoint | MinFeasible


def _freeze(overrides: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted(overrides.items()))


# --- one point -----------------------------------------------------------------------------------------------


def _run_point(ctx: _Context, task: _PointTask) -> SweepPoint:
    from ..api import plan

    t0 = time.perf_counter()
    hw = ctx.spec(task.overrides)
    l2 = hw.budget_bytes("L2") if task.l2 is None else task.l2
    within = task.l1 <= hw.memory("L1").usable_bytes and l2 <= hw.memory("L2").usable_bytes
    common: dict[str, Any] = {
        "index": task.index,
        "l1": task.l1,
        "l2": l2,
        "double_buffer": task.double_buffer,
        "overrides": dict(task.overrides),
        "within_capacity": within,
    }
    try:
        p = plan(ctx.graph, hw, l1=task.l1, l2=l2, double_buffer=task.double_buffer, **ctx.solver_options)
    except InfeasibleBudget as e:
        return SweepPoint(
            **common,
            status="infeasible",
            feasible=False,
            infeasible_level=e.level,
            required_bytes=e.required_bytes,
            message=str(e),
            seconds=time.perf_counter() - t0,
        )
    except Exception as e:  # one bad point must not lose the others: recorded, the sweep goes on
        return SweepPoint(
            **common,
            status="error",
            feasible=False,
            message=f"{type(e).__name__}: {e}",
            seconds=time.perf_counter() - t0,
        )
    latency = p.total_cycles / hw.clock_hz
    tps = ctx.tokens_per_step / latency if ctx.tokens_per_step and latency > 0 else None
    peaks = {lv.level: lv.peak for lv in p.levels}
    nodes = [n for n in p.nodes if n.alias_of is None]
    return SweepPoint(
        **common,
        status="ok",
        feasible=True,
        total_cycles=p.total_cycles,
        lower_bound_cycles=p.lower_bound_cycles,
        latency_s=latency,
        tokens_per_s=tps,
        tiles=p.num_tiles,
        dma_bytes=sum(n.dma_bytes for n in nodes),
        compute_cycles=sum(n.cycles.compute for n in nodes),
        exposed_dma_cycles=sum(n.cycles.exposed_dma for n in nodes),
        l1_used=max((n.l1_bytes for n in nodes), default=0),
        l2_used=peaks.get("L2"),
        l3_used=peaks.get("L3"),
        seconds=time.perf_counter() - t0,
    )


# --- smallest feasible budgets -------------------------------------------------------------------------------


@dataclass
class _Search:
    """Smallest b in [0, ceiling] with probe(b) true (None: feasible), by bisection, assuming monotonicity.

    Starts from the lower bound the infeasibility answer at 0 B names (when it is about `level`), usually
    exact; the value returned was probed feasible and one byte below probed infeasible."""

    probe: Callable[[int], InfeasibleBudget | None]
    ceiling: int
    level: str
    probes: int = 0
    known: dict[int, bool] = field(default_factory=dict)
    bound: int = 0  # the proven lower bound (0 when the answer at 0 B was about another level)

    def ok(self, b: int) -> bool:
        if b < 0:
            return False
        if b not in self.known:
            self.probes += 1
            self.known[b] = self.probe(b) is None
        return self.known[b]

    def run(self) -> tuple[int | None, str]:
        """(value or None, note)."""
        first = self.probe(0)
        self.probes += 1
        self.known[0] = first is None
        if first is None:
            return 0, ""
        if first.level == self.level:
            self.bound = first.required_bytes
        hi = max(self.bound, 1)
        lo = hi - 1  # infeasible by the bound; probed at the end before it is reported
        if hi > self.ceiling:
            return None, f"needs at least {hi} B, more than the usable {self.ceiling} B"
        while not self.ok(hi):
            lo = hi
            if hi >= self.ceiling:
                return None, f"no plan within the usable {self.ceiling} B"
            hi = min(2 * hi, self.ceiling)
        while True:
            while lo + 1 < hi:
                mid = (lo + hi) // 2
                if self.ok(mid):
                    hi = mid
                else:
                    lo = mid
            if not self.ok(hi - 1):
                return hi, ""
            hi, lo = hi - 1, -1  # the bound was wrong (a planner bug): bisect everything below


def _l1_stage(
    graph: Graph, hw: HwSpec, double_buffer: bool, options: SolverOptions, keep: dict[str, Plan]
) -> Callable[[int], InfeasibleBudget | None]:
    """`dt.plan`'s first stage (tiling, the one that raises for L1); keeps the plan of the smallest
    feasible budget probed so far in `keep["plan"]`."""
    from ..planner.pipeline import tile_network

    def probe(budget: int) -> InfeasibleBudget | None:
        try:
            tiled = tile_network(graph, hw, l1=budget, double_buffer=double_buffer, options=options)
        except InfeasibleBudget as e:
            return e
        if "plan" not in keep or budget < keep["plan"].budgets.get("L1", budget + 1):
            keep["plan"] = tiled
        return None

    return probe


def _l2_stage(graph: Graph, hw: HwSpec, tiled: Plan | None) -> Callable[[int], InfeasibleBudget | None]:
    """`dt.plan`'s second stage (the L2 / L3 / weight-memory map of the tiled plan), at an L2 budget."""
    from ..memory.network import plan_memory
    from ..planner.pipeline import place_memory

    def probe(budget: int) -> InfeasibleBudget | None:
        try:
            if tiled is None:
                plan_memory(graph, hw, l2_budget=budget, plan=None)
            else:
                place_memory(tiled, graph, hw, l2=budget)
        except InfeasibleBudget as e:
            return e
        return None

    return probe


def _raises_for(level: str, call: Callable[[], Any]) -> bool:
    try:
        call()
    except InfeasibleBudget as e:
        return e.level == level
    return False


def min_feasible(
    graph: Graph,
    hw: HwSpec,
    *,
    double_buffer: bool = True,
    options: SolverOptions | None = None,
    overrides: dict[str, Any] | None = None,
) -> MinFeasible:
    """Smallest feasible L1 budget, and the smallest L2 budget at that L1, of one configuration (`hw`
    with `overrides` applied), each within the level's usable bytes.

    The searches probe `dt.plan`'s two stages directly (tiling for L1, the memory map of that tiling for
    L2); the answer is then checked through `dt.plan` itself: a plan at (L1, L2), and InfeasibleBudget
    one byte below either. `verified` records that check per level.
    """
    from ..api import plan
    from ..solver import SolverOptions

    t0 = time.perf_counter()
    spec = hw.with_overrides(overrides) if overrides else hw
    opts = options or SolverOptions()
    capacity = {"L1": spec.memory("L1").usable_bytes, "L2": spec.memory("L2").usable_bytes}
    keep: dict[str, Plan] = {}
    s1 = _Search(_l1_stage(graph, spec, double_buffer, opts, keep), capacity["L1"], "L1")
    l1, note1 = s1.run()
    notes = {"L1": note1} if note1 else {}
    l2: int | None = None
    s2 = None
    if l1 is None:
        notes["L2"] = "not searched: no L1 budget plans"
    else:
        s2 = _Search(_l2_stage(graph, spec, keep.get("plan")), capacity["L2"], "L2")
        l2, note2 = s2.run()
        if note2:
            notes["L2"] = note2
    verified = {"L1": False, "L2": False}
    if l1 is not None and l2 is not None:
        kw: dict[str, Any] = {"double_buffer": double_buffer, **opts.to_dict()}
        try:
            plan(graph, spec, l1=l1, l2=l2, **kw)
        except InfeasibleBudget as e:
            notes["check"] = f"dt.plan at the found budgets raised: {e}"
        else:
            verified["L1"] = l1 == 0 or _raises_for("L1", lambda: plan(graph, spec, l1=l1 - 1, l2=l2, **kw))
            verified["L2"] = l2 == 0 or _raises_for("L2", lambda: plan(graph, spec, l1=l1, l2=l2 - 1, **kw))
    bounds = {"L1": s1.bound, **({"L2": s2.bound} if s2 else {})}
    return MinFeasible(
        double_buffer=double_buffer,
        overrides=dict(overrides or {}),
        budgets={"L1": l1, "L2": l2},
        capacity=capacity,
        verified=verified,
        lower_bounds=bounds,
        probes=s1.probes + (s2.probes if s2 else 0),
        notes=notes,
        seconds=time.perf_counter() - t0,
    )


def min_feasible_l1(
    graph: Graph, hw: HwSpec, *, double_buffer: bool = True, options: SolverOptions | None = None
) -> int | None:
    """Smallest L1 budget the tiling plans (within the level's usable bytes), by search, not by grid."""
    from ..solver import SolverOptions

    value, _ = _Search(
        _l1_stage(graph, hw, double_buffer, options or SolverOptions(), {}), hw.memory("L1").usable_bytes, "L1"
    ).run()
    return value


def _run_search(ctx: _Context, task: _SearchTask) -> MinFeasible:
    try:
        return min_feasible(
            ctx.graph, ctx.hw, double_buffer=task.double_buffer, options=ctx.options(), overrides=dict(task.overrides)
        )
    except Exception as e:  # like a point: recorded, the sweep goes on
        return MinFeasible(
            double_buffer=task.double_buffer,
            overrides=dict(task.overrides),
            budgets={"L1": None, "L2": None},
            capacity={},
            verified={"L1": False, "L2": False},
            probes=0,
            notes={"error": f"{type(e).__name__}: {e}"},
        )


# --- Pareto front --------------------------------------------------------------------------------------------


def _latency(p: SweepPoint) -> float:
    if p.latency_s is not None:
        return p.latency_s
    return float(p.total_cycles) if p.total_cycles is not None else math.inf


def _dominates(a: SweepPoint, b: SweepPoint) -> bool:
    la, lb = _latency(a), _latency(b)
    return a.l1 <= b.l1 and a.l2 <= b.l2 and la <= lb and (a.l1 < b.l1 or a.l2 < b.l2 or la < lb)


def pareto_front(points: Sequence[SweepPoint]) -> list[SweepPoint]:
    """Feasible points that no other feasible point dominates in (L1 budget, L2 budget, latency).

    A dominates B when it needs no more of either budget and is no slower, and is better in one. Equal
    points do not dominate each other (both stay). Latency is `latency_s` (seconds, so spec variants
    with other clocks compare fairly), else `total_cycles`. Sorted by memory, then latency.
    """
    feasible = [p for p in points if p.feasible and (p.latency_s is not None or p.total_cycles is not None)]
    front = [p for p in feasible if not any(_dominates(q, p) for q in feasible)]
    return sorted(front, key=lambda p: (p.l1 + p.l2, p.l1, _latency(p), p.index))


# --- executors -----------------------------------------------------------------------------------------------

_WORKER: dict[str, _Context] = {}  # per worker process: payload key -> context (one graph unpacked once)


def _context(payload: _Payload) -> _Context:
    ctx = _WORKER.get(payload.key)
    if ctx is None:
        _WORKER.clear()
        ctx = _Context(payload.graph, payload.hw, payload.tokens_per_step, dict(payload.solver_options))
        _WORKER[payload.key] = ctx
    return ctx


def _execute(ctx: _Context, task: _Task) -> _Outcome:
    if isinstance(task, _SearchTask):
        return _run_search(ctx, task)
    return _run_point(ctx, task)


def _init_process(payload: _Payload) -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it stops the pool
    _context(payload)


def _execute_in_process(task: _Task) -> _Outcome:
    return _execute(next(iter(_WORKER.values())), task)


def _execute_payload(payload: _Payload, task: _Task) -> _Outcome:
    """Ray task body: the payload is a shared object, unpacked once per worker process."""
    return _execute(_context(payload), task)


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _map_serial(ctx: _Context, tasks: list[_Task]) -> Generator[_Outcome, None, None]:
    for t in tasks:
        yield _execute(ctx, t)


def _map_process(payload: _Payload, tasks: list[_Task], workers: int) -> Generator[_Outcome, None, None]:
    import multiprocessing

    # spawn, not fork: the parent may run threads (a progress bar, a Ray client, OR-tools), and a forked
    # child inherits their locks in whatever state they were.
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_init_process,
        initargs=(payload,),
    )
    finished = False
    try:
        futures: list[Future[_Outcome]] = [pool.submit(_execute_in_process, t) for t in tasks]
        for f in as_completed(futures):
            yield f.result()
        finished = True
    finally:
        if not finished:  # interrupted or failed: do not wait for the rest. Terminated workers make the
            # pool fail its pending futures itself (cancelling them first trips a 3.11 race in that path).
            for proc in list((getattr(pool, "_processes", None) or {}).values()):  # no public way before 3.14
                proc.terminate()
        pool.shutdown(wait=finished)


def _check_ray_address(address: str) -> None:
    import socket

    host_port = address.removeprefix("ray://")
    host, _, port = host_port.rpartition(":")
    if not host or not port.isdigit():
        raise SweepError(f"Ray address {address!r} is not HOST:PORT, ray://HOST:PORT, 'auto' or 'local'")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=3.0).close()
    except OSError as e:
        raise SweepError(f"the Ray cluster at {address!r} does not answer ({e.strerror or e})") from None


def _map_ray(
    payload: _Payload, tasks: list[_Task], workers: int | None, address: str | None
) -> Generator[_Outcome, None, None]:
    try:
        import ray
    except ImportError:
        raise SweepError("the ray executor needs Ray: pip install 'deeploy_tiler[ray]'") from None
    local = address in (None, "", "local")
    if not local and address != "auto":
        assert address is not None
        _check_ray_address(address)
    started = False
    if not ray.is_initialized():
        import logging

        try:
            ray.init(
                address=None if local else address,
                num_cpus=workers if local else None,
                include_dashboard=False,
                log_to_driver=False,
                logging_level=logging.ERROR,
            )
        except Exception as e:  # ray raises ConnectionError, RuntimeError, ... for a cluster it cannot join
            raise SweepError(f"cannot reach the Ray cluster at {address!r}: {e}") from None
        started = True
    remote = ray.remote(num_cpus=1)(_execute_payload)
    pending: list[Any] = []
    try:
        shared = ray.put(payload)
        queue = list(tasks)
        limit = workers or len(queue)  # in flight at once; Ray schedules them on free CPUs
        while queue or pending:
            while queue and len(pending) < limit:
                pending.append(remote.remote(shared, queue.pop(0)))
            done, pending = ray.wait(pending, num_returns=1)
            yield ray.get(done[0])
    finally:
        for ref in pending:
            ray.cancel(ref, force=True)
        if started:
            ray.shutdown()


def _map(
    ctx: _Context,
    payload: _Payload,
    tasks: list[_Task],
    executor: Executor,
    workers: int,
    ray_address: str | None,
    workers_given: bool,
) -> Generator[_Outcome, None, None]:
    if executor == "ray":
        return _map_ray(payload, tasks, workers if workers_given else None, ray_address)
    if executor == "serial" or workers <= 1 or len(tasks) <= 1:
        return _map_serial(ctx, tasks)
    return _map_process(payload, tasks, workers)


# --- the sweep -----------------------------------------------------------------------------------------------


def sweep_result(
    graph: Graph,
    hw: HwSpec,
    points: Iterable[SweepPoint],
    searches: Iterable[MinFeasible],
    *,
    grid: dict[str, list[Any]],
    tokens_per_step: int | None,
    complete: bool = True,
    executor: str = "serial",
    workers: int = 1,
    seconds: float = 0.0,
) -> SweepResult:
    """Assemble a result from points (any order) and searches: sorted, with the Pareto front."""
    pts = sorted(points, key=lambda p: p.index)
    order = {
        (db, _freeze(ov)): i
        for i, (db, ov) in enumerate(itertools.product(grid.get("double_buffer", []), grid.get("overrides", [])))
    }
    found = sorted(searches, key=lambda m: order.get((m.double_buffer, _freeze(m.overrides)), len(order)))
    return SweepResult(
        model=graph.name,
        hw=hw.name,
        clock_hz=hw.clock_hz,
        tokens_per_step=tokens_per_step,
        grid=grid,
        points=tuple(pts),
        pareto=tuple(pareto_front(pts)),
        min_feasible=tuple(found),
        complete=complete,
        executor=executor,
        workers=workers,
        seconds=seconds,
    )


def sweep(
    graph: Graph,
    hw: HwSpec,
    *,
    l1_grid: Sequence[int],
    l2_grid: Sequence[int | None] = (None,),
    double_buffer: Sequence[bool] = (True,),
    overrides: Sequence[dict[str, Any]] = ({},),
    executor: Executor = "process",
    workers: int | None = None,
    ray_address: str | None = None,
    search: bool = True,
    tokens_per_step: int | Literal["auto"] | None = "auto",
    solver_options: dict[str, Any] | None = None,
    on_point: Callable[[SweepPoint], None] | None = None,
    on_search: Callable[[MinFeasible], None] | None = None,
) -> SweepResult:
    """Plan `graph` at every (overrides, L2, double buffering, L1) combination of the grids.

    With `search`, also the smallest feasible L1 and L2 budgets of each (double buffering, overrides)
    configuration (`min_feasible`), run as tasks beside the points. `tokens_per_step="auto"` detects
    decode steps (`decode_tokens_per_step`). Raises SweepError for empty grids, a bad executor or an
    unreachable Ray cluster, and HwSpecError for an unknown override field, all before any point runs.
    """
    if not l1_grid:
        raise SweepError("the L1 budget grid is empty")
    if not l2_grid or not double_buffer or not overrides:
        raise SweepError("the L2, double-buffering and overrides grids need at least one entry each")
    if any(b < 0 for b in l1_grid) or any(b is not None and b < 0 for b in l2_grid):
        raise SweepError("budgets must be >= 0 B")
    if executor not in EXECUTORS:
        raise SweepError(f"unknown executor {executor!r} (one of {', '.join(EXECUTORS)})")
    if workers is not None and workers < 1:
        raise SweepError(f"workers must be >= 1, got {workers}")
    for ov in overrides:  # fail fast on an unknown spec field (HwSpecError names it), before any point runs
        hw.with_overrides(ov)
    if solver_options:
        from ..solver import SolverOptions

        SolverOptions(**solver_options)  # fail fast on an unknown knob
    tps = decode_tokens_per_step(graph) if tokens_per_step == "auto" else tokens_per_step
    t0 = time.perf_counter()
    dbs = list(dict.fromkeys(double_buffer))
    frozen = list(dict.fromkeys(_freeze(ov) for ov in overrides))
    grid: dict[str, list[Any]] = {
        "l1": sorted(set(l1_grid)),
        "l2": sorted(set(l2_grid), key=lambda b: -1 if b is None else b),
        "double_buffer": dbs,
        "overrides": [dict(ov) for ov in frozen],
    }
    points = [
        _PointTask(i, l1, l2, db, ov)
        for i, (ov, l2, db, l1) in enumerate(itertools.product(frozen, grid["l2"], dbs, grid["l1"]))
    ]
    searches = [_SearchTask(i, db, ov) for i, (db, ov) in enumerate(itertools.product(dbs, frozen))] if search else []
    tasks: list[_Task] = [*searches, *points]  # the searches are the long chains: start them first
    n_workers = workers if workers is not None else max(1, min(len(tasks), _cpu_count()))
    options = tuple(sorted((solver_options or {}).items()))
    ctx = _Context(graph, hw, tps, dict(options))
    payload = _Payload(
        key=f"{os.getpid()}-{id(ctx)}-{time.time_ns()}", graph=graph, hw=hw, tokens_per_step=tps, solver_options=options
    )
    done_points: list[SweepPoint] = []
    done_searches: list[MinFeasible] = []
    outcomes = _map(ctx, payload, tasks, executor, n_workers, ray_address, workers is not None)
    try:
        for out in outcomes:
            if isinstance(out, SweepPoint):
                done_points.append(out)
                if on_point:
                    on_point(out)
            else:
                done_searches.append(out)
                if on_search:
                    on_search(out)
    finally:
        outcomes.close()  # stops the workers at once when a callback or Ctrl-C ends the loop early
    used = "serial" if executor != "ray" and (executor == "serial" or n_workers <= 1 or len(tasks) <= 1) else executor
    return sweep_result(
        graph,
        hw,
        done_points,
        done_searches,
        grid=grid,
        tokens_per_step=tps,
        executor=used,
        workers=n_workers if used != "serial" else 1,
        seconds=time.perf_counter() - t0,
    )
