"""Solver and engine-choice options as plain, typed data, and the CP-SAT solver every model shares.

`SolverOptions.from_keywords` / `EngineOptions.from_keywords` turn loose keywords (the `**solver_options`
of `dt.plan`) into options; an unknown keyword is an `OptionError` naming it and listing the valid ones.
Raw CP-SAT parameters pass through `cp_sat_parameters` (protobuf text format or a mapping), applied after
the deterministic defaults; `dump_dir` writes every CP-SAT model solved, with readable variable names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any, TypeVar

from ..errors import OptionError

__all__ = ["EngineOptions", "OptionError", "SolverOptions", "cp_solver", "dump_model"]


_T = TypeVar("_T", "SolverOptions", "EngineOptions")


def _from_keywords(cls: type[_T], base: _T | None, keywords: Mapping[str, Any], what: str) -> _T:
    valid = [f.name for f in fields(cls)]
    unknown = [k for k in keywords if k not in valid]
    if unknown:
        other = EngineOptions if cls is SolverOptions else SolverOptions
        hint = ""
        misplaced = [k for k in unknown if k in {f.name for f in fields(other)}]
        if misplaced:
            hint = f" ({', '.join(misplaced)} is an option of {other.__name__}; pass it there)"
        raise OptionError(
            f"unknown {what} option{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}{hint}; "
            f"valid {what} options: {', '.join(valid)}",
            field=unknown[0],
        )
    start = base if base is not None else cls()
    return replace(start, **keywords) if keywords else start


def _sat_parameters_text(value: str | Mapping[str, Any]) -> str:
    """Validate raw CP-SAT parameters (text format or a mapping) and return them in canonical text."""
    from google.protobuf import text_format
    from ortools.sat import sat_parameters_pb2

    params = sat_parameters_pb2.SatParameters()
    if isinstance(value, str):
        try:
            text_format.Parse(value, params)
        except text_format.ParseError as e:
            raise OptionError(f"cp_sat_parameters {value!r}: {e}", field="cp_sat_parameters") from None
    else:
        for key, v in value.items():
            if key not in params.DESCRIPTOR.fields_by_name:
                raise OptionError(
                    f"cp_sat_parameters: CP-SAT has no parameter {key!r} (see ortools' sat_parameters.proto)",
                    field="cp_sat_parameters",
                )
            try:
                setattr(params, key, v)
            except (TypeError, ValueError) as e:
                raise OptionError(f"cp_sat_parameters: {key}={v!r}: {e}", field="cp_sat_parameters") from None
    return str(text_format.MessageToString(params, as_one_line=True))


@dataclass(frozen=True)
class SolverOptions:
    """Knobs of the per-node tiling solve. Defaults are deterministic: one worker, a fixed seed, and a
    deterministic-time limit that binds before the wall-clock limit on any sane machine."""

    # wall-clock limit per CP-SAT solve: only a safety net, far above what the deterministic limit takes,
    # so a loaded machine gives the same plan (at 10 s, a 2-core machine at load 9 cut solves short)
    time_limit_s: float = 60.0
    deterministic_time_limit: float = 5.0  # CP-SAT deterministic time units per solve (reproducible)
    workers: int = 1
    seed: int = 0
    early_exit: bool = True  # skip CP-SAT when untiled is provably optimal (see solver.problem)
    cache: bool = True  # reuse the result of an identical subproblem (same shapes, dtypes, budget, ...)
    preferred_multiples: bool = True  # keep the kernel's preferred tile multiples when the budget allows
    tie_break_l1: bool = True  # among equally fast plans prefer the one using the least L1
    hint: bool = True  # warm start from the exhaustive vectorized evaluation of the same model
    grid_limit: int = 20_000  # joint tile choices up to this many: one boolean each (exact linear model)
    presolve: bool = False  # CP-SAT presolve; off: on these small models it costs more than it saves
    probing_level: int = 0
    log_search: bool = False
    # Raw CP-SAT parameters (text format "max_time_in_seconds: 5 num_workers: 2", or a mapping), applied
    # after the fields above; stored in canonical text. Recorded in Plan.options only when set.
    cp_sat_parameters: str | Mapping[str, Any] = ""
    # Write every CP-SAT model solved to <dump_dir>/<node>.pb.txt (the engine choice: engine_choice.pb.txt).
    # A diagnostic: it does not change the plan and is not recorded in it.
    dump_dir: str | Path | None = None

    def __post_init__(self) -> None:
        if self.time_limit_s <= 0 or self.deterministic_time_limit <= 0:
            raise OptionError("solver time limits must be positive", field="time_limit_s")
        if self.workers < 1:
            raise OptionError(f"workers must be >= 1, got {self.workers}", field="workers")
        if self.grid_limit < 0:
            raise OptionError(f"grid_limit must be >= 0, got {self.grid_limit}", field="grid_limit")
        if not isinstance(self.cp_sat_parameters, str) or self.cp_sat_parameters:
            # canonical text: hashable (the options are part of the solve cache key) and comparable
            object.__setattr__(self, "cp_sat_parameters", _sat_parameters_text(self.cp_sat_parameters))

    @classmethod
    def from_keywords(cls, base: SolverOptions | None = None, **keywords: Any) -> SolverOptions:
        """`base` (default: the defaults) with `keywords` replaced; OptionError for an unknown keyword."""
        return _from_keywords(cls, base, keywords, "solver")

    @property
    def cp_sat_text(self) -> str:
        """The raw CP-SAT parameters in text format ("" when none)."""
        assert isinstance(self.cp_sat_parameters, str)  # normalised in __post_init__
        return self.cp_sat_parameters

    def to_dict(self) -> dict[str, Any]:
        """The knobs that shape a plan (what Plan.options records): every field but `dump_dir`, and
        `cp_sat_parameters` only when set, so plans made with the defaults read as before."""
        out = asdict(self)
        del out["dump_dir"]
        if not out["cp_sat_parameters"]:
            del out["cp_sat_parameters"]
        return out


@dataclass(frozen=True)
class EngineOptions:
    """Knobs of the engine choice on a spec with an NPU (plain data, recorded in `Plan.options`).

    `weight_memory`: let NPU nodes read their weights in place from the NPU's weight memory (False: every
    weight is DMA'd from L2 into L1, as without WMEM). `handover_cycles`: cycles charged when consecutive
    nodes run on different engines; None derives it from the spec ([A:npu_handover]: one cluster call
    overhead, the cores synchronising on the other engine's completion before the next kernel)."""

    weight_memory: bool = True
    handover_cycles: int | None = None

    def __post_init__(self) -> None:
        if self.handover_cycles is not None and self.handover_cycles < 0:
            raise OptionError(f"handover_cycles must be >= 0, got {self.handover_cycles}", field="handover_cycles")

    @classmethod
    def from_keywords(cls, base: EngineOptions | None = None, **keywords: Any) -> EngineOptions:
        """`base` (default: the defaults) with `keywords` replaced; OptionError for an unknown keyword."""
        return _from_keywords(cls, base, keywords, "engine")


def cp_solver(options: SolverOptions) -> Any:
    """A CP-SAT solver carrying the options every model shares: workers, seed, limits, logging, then the
    raw `cp_sat_parameters` (which may override any of them)."""
    from ortools.sat.python import cp_model

    solver = cp_model.CpSolver()
    prm = solver.parameters
    prm.num_workers = options.workers
    prm.random_seed = options.seed
    prm.max_time_in_seconds = options.time_limit_s
    prm.max_deterministic_time = options.deterministic_time_limit
    prm.log_search_progress = options.log_search
    return solver


def apply_raw_parameters(solver: Any, options: SolverOptions) -> None:
    """Merge the raw CP-SAT parameters into `solver` (after every option-derived parameter is set)."""
    text = options.cp_sat_text
    if not text:
        return
    prm = solver.parameters
    if hasattr(prm, "merge_text_format"):  # ortools >= 9.13: C++-backed parameters
        if not prm.merge_text_format(text):
            raise OptionError(f"cp_sat_parameters {text!r} rejected by CP-SAT", field="cp_sat_parameters")
    else:  # a Python protobuf message
        from google.protobuf import text_format

        text_format.Merge(text, prm)


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def dump_model(model: Any, options: SolverOptions, name: str) -> Path | None:
    """Write a CP-SAT model in text format to <dump_dir>/<name>.pb.txt (name made file-safe); None when
    `dump_dir` is not set."""
    if options.dump_dir is None:
        return None
    out = Path(options.dump_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{_UNSAFE.sub('_', name) or 'model'}.pb.txt"
    path.write_text(str(model.proto))
    return path
