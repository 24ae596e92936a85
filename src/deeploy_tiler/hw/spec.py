"""Hardware specs: memory levels, DMA engines and compute engines of a target, loaded from YAML.

Every figure carries its unit in the field name and a source (a tag as in docs/hardware.md: [P] primary,
[S] third-party summary, [D] derived, or a named assumption). Models are frozen; derive variants with
`HwSpec.with_overrides`. Every failure is a `HwSpecError` naming the file and the dotted field path.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal, TypeVar

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ..errors import HwSpecError
from ..units import MAX_BYTES
from .calibration import SpecCalibration, pick_calibration
from .dotted import NAME_PATTERN, convert_error, set_dotted

__all__ = [
    "ANY_OP",
    "DTYPE_NAMES",
    "ComputeEngine",
    "DmaEngine",
    "HwSpec",
    "MemoryLevel",
    "NpuRules",
    "parse_hw",
]

# Keys allowed in the MAC-rate tables (the dtypes of the IR; kept here since hw imports no IR).
DTYPE_NAMES = ("int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "float32")
# `supported_ops: ["*"]`: the engine runs any operator that has a portable C kernel.
ANY_OP = "*"

# Physical ranges: far beyond any microcontroller-class target, far inside the int64 range of the CP-SAT
# models built from these figures (a size of 1e30 or a bandwidth of 1e308 would overflow them).
MAX_ALIGNMENT = 2**20
MAX_COUNT = 4096  # cores, channels, banks, PE rows, channels per pass, stride
MAX_CYCLES = 10**9  # a fixed cost per call / transfer / row
MAX_RATE = 1e6  # bytes or operations per cycle, pJ per cycle
MIN_RATE = 1e-3  # a byte or an operation per 1000 cycles: slower rates make cycle counts overflow
MAX_CLOCK_HZ = 10**12

_NAME_PATTERN = NAME_PATTERN
_NAME_DESC = "identifier: a letter, then letters, digits, '_' or '-' (names address entries in dotted paths)"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def __hash__(self) -> int:
        # dict fields make pydantic's default field hash fail; canonical JSON is stable and matches ==.
        return hash((type(self).__name__, json.dumps(self.model_dump(mode="json"), sort_keys=True)))


class MemoryLevel(_Frozen):
    """One addressable memory (L1 scratchpad, L2 SRAM, off-chip L3, NPU weight memory, ...)."""

    name: str = Field(pattern=_NAME_PATTERN, description=f"level name, e.g. 'L1', 'L2', 'L3', 'WMEM'; {_NAME_DESC}")
    size_bytes: int = Field(gt=0, le=MAX_BYTES, description="physical capacity in bytes")
    reserved_bytes: int = Field(
        ge=0,
        le=MAX_BYTES,
        description="bytes not available to planned buffers (stacks, runtime data); must be < size_bytes",
    )
    default_budget_bytes: int | None = Field(
        default=None,
        gt=0,
        le=MAX_BYTES,
        description="bytes planners may use for buffers by default (e.g. Deeploy's 64,000 for L1); "
        "null means all of size_bytes - reserved_bytes; never more than that",
    )
    alignment_bytes: int = Field(ge=1, le=MAX_ALIGNMENT, description="buffer start alignment in bytes (a power of two)")
    banks: int | None = Field(default=None, ge=1, le=MAX_COUNT, description="banks (null: not banked / not known)")
    read_latency_cycles: int | None = Field(
        default=None,
        ge=0,
        le=MAX_CYCLES,
        description="load-to-use latency from a compute engine, cycles (null: not known)",
    )
    port_bandwidth_bytes_per_cycle: float | None = Field(
        default=None,
        ge=MIN_RATE,
        le=MAX_RATE,
        allow_inf_nan=False,
        description="aggregate read bandwidth for engines that read this level directly, bytes per cycle "
        "(null: not known or only reached by DMA)",
    )
    weights_only: bool = Field(
        default=False, description="only constant weights may be placed here (no activations), e.g. WMEM"
    )
    source: str = Field(min_length=1, description="where the figures come from (tags [P]/[S]/[D]/assumption)")

    @field_validator("alignment_bytes")
    @classmethod
    def _power_of_two(cls, v: int) -> int:
        if v & (v - 1):
            raise ValueError(f"alignment_bytes must be a power of two, got {v}")
        return v

    @field_validator("reserved_bytes")
    @classmethod
    def _reserved_below_size(cls, v: int, info: ValidationInfo) -> int:
        size = info.data.get("size_bytes")
        if size is not None and v >= size:
            raise ValueError(f"reserved_bytes ({v}) must be less than size_bytes ({size})")
        return v

    @field_validator("default_budget_bytes")
    @classmethod
    def _budget_fits(cls, v: int | None, info: ValidationInfo) -> int | None:
        size, reserved = info.data.get("size_bytes"), info.data.get("reserved_bytes")
        if v is not None and size is not None and reserved is not None and v > size - reserved:
            raise ValueError(
                f"default_budget_bytes ({v}) exceeds size_bytes - reserved_bytes ({size} - {reserved} = "
                f"{size - reserved})"
            )
        return v

    @property
    def usable_bytes(self) -> int:
        """Bytes left for buffers once the reserved part is taken out."""
        return self.size_bytes - self.reserved_bytes

    @property
    def budget_bytes(self) -> int:
        """The default planning budget: `default_budget_bytes`, or all usable bytes when it is null."""
        return self.default_budget_bytes if self.default_budget_bytes is not None else self.usable_bytes


class DmaEngine(_Frozen):
    """A DMA linking two memory levels.

    Cost of one transfer of `n` bytes in `rows` rows (rows = 1 for a contiguous copy), see
    `transfer_cycles`: setup_latency_cycles + per_row_cycles * rows + n / bandwidth_bytes_per_cycle.
    A transfer with more strided dimensions than `max_dims` is issued as several transfers.
    """

    name: str = Field(pattern=_NAME_PATTERN, description=f"engine name; {_NAME_DESC}")
    src: str = Field(description="memory level name at one end (the outer level by convention)")
    dst: str = Field(description="memory level name at the other end (the inner level by convention)")
    bidirectional: bool = Field(description="true: also copies dst -> src")
    bandwidth_bytes_per_cycle: float = Field(
        ge=MIN_RATE, le=MAX_RATE, allow_inf_nan=False, description="sustained bytes per cycle, total over all channels"
    )
    setup_latency_cycles: int = Field(
        ge=0, le=MAX_CYCLES, description="fixed cycles per transfer (programming, first beat)"
    )
    per_row_cycles: int = Field(ge=0, le=MAX_CYCLES, description="extra cycles per row of a 2-D/3-D strided transfer")
    max_dims: int = Field(ge=1, le=3, description="dimensions one transfer can describe (1: contiguous)")
    channels: int = Field(
        ge=1, le=MAX_COUNT, description="command queues (e.g. one per core); they share the bandwidth"
    )
    source: str = Field(min_length=1, description="where the figures come from (tags [P]/[S]/[D]/assumption)")

    @model_validator(mode="after")
    def _distinct_ends(self) -> DmaEngine:
        if self.src == self.dst:
            raise ValueError(f"src and dst are both {self.src!r}")
        return self

    def connects(self, src: str, dst: str) -> bool:
        """True when this engine copies from `src` to `dst` (either way if bidirectional)."""
        if (self.src, self.dst) == (src, dst):
            return True
        return self.bidirectional and (self.dst, self.src) == (src, dst)

    def transfer_cycles(self, nbytes: int, rows: int = 1) -> float:
        """Cycles of one transfer of `nbytes` spread over `rows` rows (the formula in the class docstring)."""
        if nbytes < 0 or rows < 1:
            raise ValueError(f"need nbytes >= 0 and rows >= 1, got nbytes={nbytes}, rows={rows}")
        fixed = self.setup_latency_cycles + self.per_row_cycles * rows
        return fixed + nbytes / self.bandwidth_bytes_per_cycle


class NpuRules(_Frozen):
    """Tiling rules of a convolution NPU (N-EUREKA-like)."""

    kernel_sizes: tuple[int, ...] = Field(min_length=1, description="dense conv kernel sizes, e.g. [1, 3]")
    depthwise_kernel_sizes: tuple[int, ...] = Field(description="depthwise kernel sizes, e.g. [3]")
    max_stride: int = Field(ge=1, le=MAX_COUNT, description="largest supported stride (1: the driver has no stride 2)")
    pe_array_h: int = Field(ge=1, le=MAX_COUNT, description="PE array height = output rows per spatial pass")
    pe_array_w: int = Field(ge=1, le=MAX_COUNT, description="PE array width = output columns per spatial pass")
    output_channels_per_pass: int = Field(ge=1, le=MAX_COUNT, description="output channels computed per pass")
    input_channels_per_pass_1x1: int = Field(
        ge=1, le=MAX_COUNT, description="input channels consumed per pass, 1x1 mode"
    )
    input_channels_per_pass_3x3: int = Field(
        ge=1, le=MAX_COUNT, description="input channels consumed per pass, 3x3 mode"
    )
    activation_bits: int = Field(ge=1, le=32, description="bits per input / output activation")
    weight_bits: int = Field(ge=1, le=8, description="bits per weight as supported by the driver")
    task_setup_cycles: int = Field(
        ge=0, le=MAX_CYCLES, description="cycles to program and launch one task; = the engine's call_overhead_cycles"
    )
    weight_memory_level: str | None = Field(
        default=None, description="memory level the NPU streams weights from directly (null: weights from L1)"
    )
    gemm_as_conv1x1: bool = Field(description="Gemm / MatMul layers run as 1x1 convolutions")
    untiled_input_channels: bool = Field(
        description="a tile holds all input channels and the weights of its output channels (no K split)"
    )
    requires_constant_weights: bool = Field(
        description="weights must be constants (packed into the NPU layout ahead of time)"
    )
    fused_ops: tuple[str, ...] = Field(
        default=(), description="operators the NPU applies on its output for free, e.g. RequantShift, Relu"
    )
    source: str = Field(min_length=1, description="where the rules come from (tags [P]/[S]/[D]/assumption)")

    @field_validator("kernel_sizes", "depthwise_kernel_sizes")
    @classmethod
    def _positive_odd(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        if any(k < 1 or k % 2 == 0 or k > MAX_COUNT for k in v):
            raise ValueError(f"kernel sizes must be positive odd integers, got {list(v)}")
        return v


def _check_rate_table(v: dict[str, float]) -> dict[str, float]:
    bad = [k for k in v if k not in DTYPE_NAMES]
    if bad:
        raise ValueError(f"unknown dtype key(s) {bad}; known: {', '.join(DTYPE_NAMES)}")
    nonpos = {k: r for k, r in v.items() if not MIN_RATE <= r <= MAX_RATE}
    if nonpos:
        raise ValueError(f"MAC rates must be within [{MIN_RATE:g}, {MAX_RATE:g}], got {nonpos}")
    return v


class ComputeEngine(_Frozen):
    """A processor that runs kernels: the RISC-V cluster (or a single core) or an NPU."""

    name: str = Field(pattern=_NAME_PATTERN, description=f"engine name, e.g. 'cluster', 'neureka'; {_NAME_DESC}")
    kind: Literal["cluster", "npu"] = Field(description="'cluster': general cores running C kernels; 'npu'")
    cores: int = Field(ge=1, le=MAX_COUNT, description="cores that run a kernel in parallel (1 for an NPU)")
    peak_macs_per_cycle: dict[str, float] = Field(
        min_length=1, description="peak multiply-accumulates per cycle, by operand dtype (e.g. 'int8')"
    )
    effective_macs_per_cycle: dict[str, float] = Field(
        default_factory=dict,
        description="achieved MACs per cycle of tuned kernels by dtype; keys within peak's, values <= peak",
    )
    elementwise_ops_per_cycle: float | None = Field(
        ge=MIN_RATE,
        le=MAX_RATE,
        allow_inf_nan=False,
        description="elementwise (non-MAC) operations per cycle, all cores (null: runs no standalone ones)",
    )
    call_overhead_cycles: int = Field(ge=0, le=MAX_CYCLES, description="fixed cycles per kernel call / NPU task")
    supported_ops: tuple[str, ...] = Field(
        min_length=1, description="op types it runs (ONNX / integer dialect); ['*']: any op with a C kernel"
    )
    reads_levels: tuple[str, ...] = Field(min_length=1, description="levels it reads operands from directly")
    writes_levels: tuple[str, ...] = Field(min_length=1, description="levels it writes results to directly")
    npu: NpuRules | None = Field(default=None, description="NPU tiling rules; required iff kind is 'npu'")
    source: str = Field(min_length=1, description="where the figures come from (tags [P]/[S]/[D]/assumption)")

    @field_validator("peak_macs_per_cycle")
    @classmethod
    def _peak_table(cls, v: dict[str, float]) -> dict[str, float]:
        return _check_rate_table(v)

    @field_validator("effective_macs_per_cycle")
    @classmethod
    def _effective_within_peak(cls, v: dict[str, float], info: ValidationInfo) -> dict[str, float]:
        _check_rate_table(v)
        peak = info.data.get("peak_macs_per_cycle")
        if peak is not None:
            for k, r in v.items():
                if k not in peak:
                    raise ValueError(f"dtype {k!r} has an effective rate but no peak_macs_per_cycle entry")
                if r > peak[k]:
                    raise ValueError(f"effective rate {r} for {k!r} exceeds the peak {peak[k]}")
        return v

    @field_validator("supported_ops")
    @classmethod
    def _wildcard_alone(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if ANY_OP in v and len(v) > 1:
            raise ValueError(f"'{ANY_OP}' (any op) must be the only entry, got {list(v)}")
        return v

    @model_validator(mode="after")
    def _npu_consistent(self) -> ComputeEngine:
        if (self.kind == "npu") != (self.npu is not None):
            need = "needs" if self.kind == "npu" else "must not have"
            raise ValueError(f"kind {self.kind!r} {need} npu rules")
        if self.npu is not None:
            wm = self.npu.weight_memory_level
            if wm is not None and wm not in self.reads_levels:
                raise ValueError(f"npu.weight_memory_level {wm!r} is not in reads_levels {list(self.reads_levels)}")
            if self.npu.task_setup_cycles != self.call_overhead_cycles:
                raise ValueError(
                    f"npu.task_setup_cycles ({self.npu.task_setup_cycles}) must equal call_overhead_cycles "
                    f"({self.call_overhead_cycles}): both are the per-task cost; change them together"
                )
        return self

    def supports(self, op_type: str) -> bool:
        """True when the engine runs `op_type` (before shape/kernel legality, which ops/ checks)."""
        return self.supported_ops == (ANY_OP,) or op_type in self.supported_ops

    def macs_per_cycle(self, dtype: str, *, effective: bool = True) -> float | None:
        """MAC rate for `dtype`: the effective rate if asked and known, else the peak; None if neither.

        An unsigned dtype falls back to its signed twin of the same width (uint8 -> int8).
        """
        keys = [dtype] + ([dtype[1:]] if dtype.startswith("u") else [])
        for k in keys:
            if effective and k in self.effective_macs_per_cycle:
                return self.effective_macs_per_cycle[k]
            if k in self.peak_macs_per_cycle:
                return self.peak_macs_per_cycle[k]
        return None


_E = TypeVar("_E", MemoryLevel, DmaEngine, ComputeEngine)


class HwSpec(_Frozen):
    """A whole target: clock, memories, DMAs and compute engines, plus the assumptions behind the figures."""

    name: str = Field(
        pattern=_NAME_PATTERN, description=f"spec name (a bundled spec's name is its file stem); {_NAME_DESC}"
    )
    description: str = Field(description="one line about the target")
    clock_hz: int = Field(gt=0, le=MAX_CLOCK_HZ, description="clock frequency in Hz that turns cycles into seconds")
    memories: tuple[MemoryLevel, ...] = Field(min_length=1, description="memory levels, L1-like first")
    dmas: tuple[DmaEngine, ...] = Field(default=(), description="DMA engines between memory levels")
    engines: tuple[ComputeEngine, ...] = Field(min_length=1, description="compute engines (>= 1 cluster)")
    energy_pj_per_cycle: float | None = Field(
        default=None,
        gt=0,
        le=MAX_RATE,
        allow_inf_nan=False,
        description="average whole-SoC energy per cycle at clock_hz in pJ (null: not known)",
    )
    assumptions: tuple[str, ...] = Field(
        default=(), description="every figure not backed by a source, named and explained"
    )
    calibrations: tuple[SpecCalibration, ...] = Field(
        default=(), description="figures fitted to measurements, applied only on request (`calibrated`)"
    )

    @model_validator(mode="after")
    def _cross_references(self) -> HwSpec:
        # Raised as HwSpecError (pydantic lets it through) so the message can name the exact dotted field.
        for section, entries in (("memories", self.memories), ("dmas", self.dmas), ("engines", self.engines)):
            seen: set[str] = set()
            for e in entries:
                if e.name in seen:
                    where = f"{section}.{e.name}"
                    raise HwSpecError(f"{where}: duplicate name {e.name!r}", field=where)
                seen.add(e.name)
        known = [m.name for m in self.memories]

        def check_level(level: str, field: str) -> None:
            if level not in known:
                raise HwSpecError(
                    f"{field}: unknown memory level {level!r}; known levels: {', '.join(known)}", field=field
                )

        for d in self.dmas:
            check_level(d.src, f"dmas.{d.name}.src")
            check_level(d.dst, f"dmas.{d.name}.dst")
        for e in self.engines:
            for attr in ("reads_levels", "writes_levels"):
                for level in getattr(e, attr):
                    check_level(level, f"engines.{e.name}.{attr}")
        if not any(e.kind == "cluster" for e in self.engines):
            raise HwSpecError(
                "engines: no engine of kind 'cluster' (the cores that run every other op)", field="engines"
            )
        weights_only = {m.name for m in self.memories if m.weights_only}
        for e in self.engines:
            wm = e.npu.weight_memory_level if e.npu is not None else None
            if wm is not None and wm not in weights_only:
                # The memory plan places in-place weights only in weights_only levels.
                where = f"engines.{e.name}.npu.weight_memory_level"
                raise HwSpecError(f"{where}: {wm!r} must be a weights_only memory", field=where)
            bad = weights_only.intersection(e.writes_levels)
            if bad:
                raise HwSpecError(
                    f"engines.{e.name}.writes_levels: {sorted(bad)} are weights_only memories",
                    field=f"engines.{e.name}.writes_levels",
                )
        self._check_connected()
        return self

    def _check_connected(self) -> None:
        # Every level must hold data some engine can use: read directly, or linked by DMAs to such a level.
        reachable = {lv for e in self.engines for lv in e.reads_levels}
        grew = True
        while grew:
            grew = False
            for d in self.dmas:
                if (d.src in reachable) != (d.dst in reachable):
                    reachable.update((d.src, d.dst))
                    grew = True
        for m in self.memories:
            if m.name not in reachable:
                raise HwSpecError(
                    f"memories.{m.name}: no engine reads it and no DMA links it to a level an engine reads",
                    field=f"memories.{m.name}",
                )

    # --- lookups ---------------------------------------------------------------------------------------

    def memory(self, name: str) -> MemoryLevel:
        """The memory level called `name`; HwSpecError listing the known levels otherwise."""
        return self._find(self.memories, name, "memories", "memory level")

    def engine(self, name: str) -> ComputeEngine:
        """The compute engine called `name`; HwSpecError listing the known engines otherwise."""
        return self._find(self.engines, name, "engines", "compute engine")

    def dma(self, src: str, dst: str) -> DmaEngine:
        """The first DMA engine copying `src` -> `dst` (either declared direction if bidirectional)."""
        for d in self.dmas:
            if d.connects(src, dst):
                return d
        routes = ", ".join(f"{d.name}: {d.src}{'<->' if d.bidirectional else '->'}{d.dst}" for d in self.dmas)
        raise HwSpecError(f"spec {self.name!r}: no DMA copies {src} -> {dst}; DMAs: {routes or 'none'}", field="dmas")

    def _find(self, entries: tuple[_E, ...], name: str, section: str, what: str) -> _E:
        for e in entries:
            if e.name == name:
                return e
        names = ", ".join(e.name for e in entries)
        raise HwSpecError(f"spec {self.name!r}: unknown {what} {name!r}; known: {names}", field=f"{section}.{name}")

    @property
    def has_npu(self) -> bool:
        return any(e.kind == "npu" for e in self.engines)

    @property
    def cluster_engine(self) -> ComputeEngine:
        """The first engine of kind 'cluster' (validation guarantees one)."""
        return next(e for e in self.engines if e.kind == "cluster")

    @property
    def npu_engine(self) -> ComputeEngine | None:
        """The first engine of kind 'npu', or None."""
        return next((e for e in self.engines if e.kind == "npu"), None)

    @property
    def l1(self) -> MemoryLevel:
        """The L1-like level: the first level the cluster engine reads."""
        return self.memory(self.cluster_engine.reads_levels[0])

    def l1_budget_default(self) -> int:
        """Default buffer budget of the L1-like level in bytes."""
        return self.l1.budget_bytes

    def budget_bytes(self, level: str) -> int:
        """Default buffer budget of `level` in bytes."""
        return self.memory(level).budget_bytes

    # --- derivation and serialisation --------------------------------------------------------------------

    def with_overrides(self, dotted: Mapping[str, Any]) -> HwSpec:
        """A copy with fields replaced, e.g. {"memories.L1.size_bytes": 131072, "clock_hz": 210e6}.

        List entries are addressed by `name` (or index for lists of plain values); a dict field such as
        `peak_macs_per_cycle` accepts new keys. The result is validated like a loaded spec.
        """
        data = self.model_dump(mode="json")
        for path, value in dotted.items():
            set_dotted(data, path, value, HwSpec)
        return parse_hw(data, source=f"spec {self.name!r} with overrides")

    def calibrated(self, name: str) -> HwSpec:
        """This spec with the figures of its calibration `name` applied (see hw/calibration.py)."""
        return self.with_overrides(pick_calibration(self.calibrations, name, self.name).overrides)

    def to_yaml(self) -> str:
        """YAML text that `parse_hw_yaml` / `load_hw` read back into an equal spec."""
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False, allow_unicode=True, width=110)


def parse_hw(data: Any, *, source: str = "<data>", path: str | None = None) -> HwSpec:
    """Validate a mapping (e.g. parsed YAML) into a HwSpec; any problem becomes one HwSpecError."""
    if not isinstance(data, Mapping):
        raise HwSpecError(f"{source}: a hw spec must be a mapping, got {type(data).__name__}", path=path)
    try:
        return HwSpec.model_validate(data)
    except ValidationError as e:
        raise convert_error(e, data, source, path) from None
    except HwSpecError as e:
        raise HwSpecError(f"{source}: {e}", path=path, field=e.field) from None
