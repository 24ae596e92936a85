"""Residency: which read-only tensors stay resident in L2 and which stream from L3, and when each
streamed copy is issued. Pure problem data in, decisions out (the planner builds the problem).

Semantics (the ones the emitter realises and the validator checks). Steps t = 1..N are the nodes, in
order; node t computes for `compute[t-1]` cycles. A candidate is a whole read-only tensor (a weight, a
graph input) read by the nodes at steps `first`..`last`. Resident: it occupies its L2 bytes over
`resident_span`. Streamed with issue step j (first - window <= j <= first): its L2 staging buffer
occupies [j, last + 1) and the L3 DMA copies it in `copy_cycles`. A graph output (`producer` set) is the
mirror image: streamed, its L2 buffer lives from its producer to its copy back to L3, which is issued and
waited for right before the node after its last use. The L3 DMA runs one copy at a time,
in the order of (first, name), and issue steps follow that order. A copy starts at
max(start of node j, end of the previous copy); node `first` starts at
max(end of node first - 1, end of its copies). Memory: at every step, the other L2 bytes (`base`) plus
resident and staged bytes stay within the budget (the live-bytes bound; the static allocator packs it
afterwards, the planner retries with a tighter budget when fragmentation needs more).

Objective: the modeled makespan (node cycles plus the waits for copies), then the fewest L3 bytes.
A greedy (`greedy_residency`) runs first; when it hides every copy (makespan = the node cycles, the
bound) it is optimal and returned as GREEDY_OPTIMAL. Otherwise CP-SAT solves the exact model over the
whole network, warm-started by the greedy, within the solver options' limits; the better of the two is
returned, with the solver's bound.
"""

from __future__ import annotations

from dataclasses import dataclass

from .options import SolverOptions, cp_solver

__all__ = [
    "MIN_STREAM_BYTES",
    "Candidate",
    "ResidencyProblem",
    "ResidencyResult",
    "greedy_residency",
    "l2_live",
    "min_streamed_bytes",
    "simulate",
    "solve_residency",
]


MIN_STREAM_BYTES = 1024  # below this an L3 copy (its setup) costs more than the L2 it frees


@dataclass(frozen=True)
class Candidate:
    """A read-only tensor copied in before `first`, read up to `last`; or, with `producer`, a graph output
    written at `producer` and copied back to L3 right before the node at `first` (its last use + 1, up
    to N + 1: after the run; then `last` = `first` and the copy's issue step is `first`)."""

    name: str
    size: int  # L2 bytes (aligned)
    first: int  # step of the first reader (out: the copy-back step)
    last: int  # step of the last reader (out: = first)
    copy_cycles: int  # L3 <-> L2 copy of the whole tensor
    resident_span: tuple[int, int]  # [start, end) it occupies L2 when resident
    producer: int | None = None  # out: the step writing it


@dataclass(frozen=True)
class ResidencyProblem:
    compute: tuple[int, ...]  # cycles of the node at step t, index t - 1
    base: tuple[int, ...]  # other live L2 bytes at t = 0 .. N + 1
    candidates: tuple[Candidate, ...]
    budget: int
    window: int = 32  # how many steps ahead a copy may be issued
    min_stream_bytes: int = MIN_STREAM_BYTES  # smaller candidates stay resident (a copy would cost more than it frees)

    @property
    def steps(self) -> int:
        return len(self.compute)

    def issue_range(self, c: Candidate) -> range:
        if c.size < self.min_stream_bytes:
            return range(0)
        if c.producer is not None:
            return range(c.first, c.first + 1)
        return range(max(1, c.first - self.window), c.first + 1)

    @staticmethod
    def span(c: Candidate, issue: int) -> tuple[int, int]:
        """[start, end) of the L2 staging buffer when streamed with this issue step."""
        return (c.producer if c.producer is not None else issue, c.last + 1)

    def order(self) -> list[int]:
        """Candidate indices in L3 DMA order."""
        return sorted(range(len(self.candidates)), key=lambda i: (self.candidates[i].first, self.candidates[i].name))


@dataclass(frozen=True)
class ResidencyResult:
    issue: tuple[int | None, ...]  # per candidate: None = resident, else its issue step
    makespan: int
    exposed: tuple[int, ...]  # per candidate: cycles its first reader waits for it (0 if resident)
    l3_bytes: int
    status: str  # ALL_RESIDENT, GREEDY_OPTIMAL, OPTIMAL / FEASIBLE (CP-SAT), GREEDY (CP-SAT found nothing better)
    best_bound: int  # lower bound on the makespan under these semantics
    peak: int  # live-bytes peak of the decision


def l2_live(p: ResidencyProblem, issue: tuple[int | None, ...]) -> list[int]:
    """Live L2 bytes at t = 0 .. N + 1 for a decision."""
    n = len(p.base)
    diff = [0] * (n + 1)
    for c, j in zip(p.candidates, issue, strict=True):
        lo, hi = c.resident_span if j is None else p.span(c, j)
        lo, hi = max(lo, 0), min(hi, n)
        if lo < hi:
            diff[lo] += c.size
            diff[hi] -= c.size
    live, acc = [], 0
    for t in range(n):
        acc += diff[t]
        live.append(p.base[t] + acc)
    return live


def simulate(p: ResidencyProblem, issue: tuple[int | None, ...]) -> tuple[int, tuple[int, ...]]:
    """(makespan, per-candidate exposed cycles) of a decision under the module's semantics. A node's
    wait is charged to the copy that ends last among those it waits for."""
    queue = [k for k in p.order() if issue[k] is not None]
    need: dict[int, list[int]] = {}
    for k in queue:
        need.setdefault(p.candidates[k].first, []).append(k)
    finish: dict[int, int] = {}
    exposed = [0] * len(p.candidates)
    dma_free = now = qi = 0
    for t in range(1, p.steps + 2):  # t = N + 1: after the run (copies back of the last outputs)
        while qi < len(queue) and (issue[queue[qi]] or 0) <= t:  # copies issued by now start in order
            k = queue[qi]
            dma_free = max(dma_free, now) + p.candidates[k].copy_cycles
            finish[k] = dma_free
            qi += 1
        waiting = need.get(t, [])
        if any(k not in finish for k in waiting):
            raise ValueError(f"step {t}: a copy it reads is issued after it (or out of the L3 DMA order)")
        if waiting:
            last = max(waiting, key=lambda k: (finish[k], k))
            exposed[last] = max(0, finish[last] - now)
            now = max(now, finish[last])
        now += p.compute[t - 1] if t <= p.steps else 0
    return now, tuple(exposed)


def _result(p: ResidencyProblem, issue: tuple[int | None, ...], status: str, bound: int | None) -> ResidencyResult:
    makespan, exposed = simulate(p, issue)
    l3 = sum(c.size for c, j in zip(p.candidates, issue, strict=True) if j is not None)
    return ResidencyResult(
        issue=issue,
        makespan=makespan,
        exposed=exposed,
        l3_bytes=l3,
        status=status,
        best_bound=min(makespan, bound) if bound is not None else makespan,
        peak=max(l2_live(p, issue), default=0),
    )


def _prefetch(p: ResidencyProblem, streamed: list[int]) -> tuple[int | None, ...] | None:
    """Issue steps for a streamed set: in L3 DMA order, each copy as early as the window, the previous
    copy's issue and the budget allow (None: the set does not fit even without prefetch)."""
    issue: list[int | None] = [None] * len(p.candidates)
    for k in streamed:
        issue[k] = p.candidates[k].first
    live = l2_live(p, tuple(issue))
    if max(live) > p.budget:
        return None
    prev = 1
    for k in p.order():
        c = p.candidates[k]
        if issue[k] is None:
            continue
        lo = max(prev, p.issue_range(c).start)
        j = c.first
        while j > lo and c.producer is None and live[j - 1] + c.size <= p.budget:
            j -= 1
            live[j] += c.size
        issue[k] = prev = j
    return tuple(issue)


def greedy_residency(p: ResidencyProblem) -> tuple[int | None, ...] | None:
    """Stream candidates in a priority order until the live bytes fit, then each further one while that
    shortens the simulated makespan (streaming more frees room to prefetch); copies issued by
    `_prefetch`. Two orders are tried: largest first, and latest reader first (a late copy has more
    compute before it to hide behind). None when nothing fits."""
    streamable = [k for k in range(len(p.candidates)) if p.issue_range(p.candidates[k])]
    orders = (
        sorted(streamable, key=lambda k: (-p.candidates[k].size, p.candidates[k].name)),
        sorted(streamable, key=lambda k: (-p.candidates[k].first, -p.candidates[k].size, p.candidates[k].name)),
    )
    best: tuple[int | None, ...] | None = None
    best_cost = (0, 0)
    for order in orders:
        for m in range(len(order) + 1):
            trial = _prefetch(p, order[:m])
            if trial is None:
                continue
            cost = (simulate(p, trial)[0], sum(p.candidates[k].size for k in order[:m]))
            if best is None or cost < best_cost:
                best, best_cost = trial, cost
    return best


def min_streamed_bytes(p: ResidencyProblem, options: SolverOptions | None = None) -> int:
    """A lower bound on the bytes any decision moves over the L3 DMA: the candidate bytes minus the most
    that can stay resident when staging took no room at all (a knapsack over the steps; CP-SAT's proven
    bound is used, so the answer is a bound even when the solve stops early)."""
    from ortools.sat.python import cp_model

    m = cp_model.CpModel()
    keep = [m.new_bool_var(f"r{k}") if p.issue_range(c) else m.new_constant(1) for k, c in enumerate(p.candidates)]
    at: list[list[cp_model.LinearExprT]] = [[] for _ in range(p.steps + 2)]
    for k, c in enumerate(p.candidates):
        for t in range(max(c.resident_span[0], 0), min(c.resident_span[1], p.steps + 2)):
            at[t].append(c.size * keep[k])
    for t, terms in enumerate(at):
        if terms:
            m.add(sum(terms) <= max(p.budget - p.base[t], 0))
    m.maximize(sum(c.size * keep[k] for k, c in enumerate(p.candidates)))
    solver = cp_solver(options or SolverOptions(time_limit_s=600.0, deterministic_time_limit=0.5))
    status = solver.solve(m)
    total = sum(c.size for c in p.candidates)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return 0
    return max(0, total - int(solver.best_objective_bound))


def solve_residency(p: ResidencyProblem, options: SolverOptions | None = None) -> ResidencyResult | None:
    """The decision minimising the modeled makespan (module docstring); None when even streaming every
    candidate at its reader exceeds the budget somewhere."""
    from ortools.sat.python import cp_model

    if max(l2_live(p, (None,) * len(p.candidates)), default=0) <= p.budget:
        return _result(p, (None,) * len(p.candidates), "ALL_RESIDENT", None)
    warm = greedy_residency(p)
    if warm is None:
        return None
    if simulate(p, warm)[0] <= sum(p.compute):  # no wait at all: the greedy meets the bound, it is optimal
        return _result(p, warm, "GREEDY_OPTIMAL", sum(p.compute))
    n = p.steps
    cands = p.candidates
    m = cp_model.CpModel()
    horizon = sum(p.compute) + sum(c.copy_cycles for c in cands) + 1
    resident = [m.new_bool_var(f"r{k}") if p.issue_range(c) else m.new_constant(1) for k, c in enumerate(cands)]
    y: list[dict[int, cp_model.IntVar]] = []
    for k, c in enumerate(cands):
        ys = {j: m.new_bool_var(f"y{k}_{j}") for j in p.issue_range(c)}
        if ys:
            m.add_exactly_one([resident[k], *ys.values()])
        y.append(ys)
    # memory at every step (terms gathered per variable over its span: linear in the model's size)
    at: list[list[cp_model.LinearExprT]] = [[] for _ in range(n + 2)]
    for k, c in enumerate(cands):
        for t in range(max(c.resident_span[0], 0), min(c.resident_span[1], n + 2)):
            at[t].append(c.size * resident[k])
        for j, v in y[k].items():
            lo, hi = p.span(c, j)
            for t in range(max(lo, 0), min(hi, n + 2)):
                at[t].append(c.size * v)
    for t in range(n + 2):
        terms = at[t]
        if terms:
            m.add(sum(terms) <= p.budget - p.base[t])
        elif p.base[t] > p.budget:
            return None
    # schedule
    # start[t]: node t computes from then (t = n + 1: the end); ready(t): node t - 1 is done, copies issued
    # at t may start, node t waits from then for the copies it reads
    start = [m.new_int_var(0, horizon, f"s{t}") for t in range(n + 2)]

    def ready(t: int) -> cp_model.LinearExprT:
        return 0 if t <= 1 else start[t - 1] + p.compute[t - 2]

    for t in range(1, n + 2):
        m.add(start[t] >= ready(t))
    prev_f: cp_model.IntVar | None = None
    prev_j: cp_model.IntVar | None = None
    for k in p.order():
        c = cands[k]
        rng = p.issue_range(c)
        if not rng:
            continue
        f = m.new_int_var(0, horizon, f"f{k}")
        jv = m.new_int_var(rng.start, rng.stop - 1, f"j{k}")
        for j, v in y[k].items():
            m.add(jv == j).only_enforce_if(v)
            m.add(f >= ready(j) + c.copy_cycles).only_enforce_if(v)
        if prev_f is not None:
            m.add(f >= prev_f + c.copy_cycles).only_enforce_if(resident[k].Not())
            m.add(f >= prev_f)
        if prev_j is not None:
            m.add(jv >= prev_j)
        m.add(start[c.first] >= f).only_enforce_if(resident[k].Not())
        prev_f, prev_j = f, jv
    weight = sum(c.size for c in cands) + 1
    m.minimize(start[n + 1] * weight + sum(c.size * (1 - resident[k]) for k, c in enumerate(cands)))
    for k, hinted in enumerate(warm):
        if y[k]:
            m.add_hint(resident[k], hinted is None)
        for jj, v in y[k].items():
            m.add_hint(v, jj == hinted)
    solver = cp_solver(options or SolverOptions())
    solver.parameters.cp_model_presolve = False
    status = solver.solve(m)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return _result(p, warm, "GREEDY", None)
    issue = tuple(
        None
        if not y[k] or solver.boolean_value(resident[k])
        else next(j for j, v in y[k].items() if solver.boolean_value(v))
        for k in range(len(cands))
    )
    bound = int(solver.best_objective_bound) // weight
    got = _result(p, issue, "OPTIMAL" if status == cp_model.OPTIMAL else "FEASIBLE", bound)
    greedy = _result(p, warm, "GREEDY", None)
    return got if (got.makespan, got.l3_bytes) <= (greedy.makespan, greedy.l3_bytes) else greedy
