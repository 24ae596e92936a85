from __future__ import annotations

from pathlib import Path

import pytest

import deeploy_tiler as dt
from deeploy_tiler.ir import Graph, Node, Tensor, TensorKind
from deeploy_tiler.memory.alloc import Buffer, check_allocation
from deeploy_tiler.memory.network import network_buffers, plan_memory


def _graph() -> Graph:
    """x -> relu -> a -> reshape -> r -> relu -> y, plus a constant; the reshape aliases a."""

    def t(name: str, shape: tuple[int, ...], kind: TensorKind) -> Tensor:
        return Tensor(name, shape, dt.DType.INT8, kind)

    tensors = {
        n.name: n
        for n in (
            t("x", (4, 16), TensorKind.INPUT),
            t("a", (4, 16), TensorKind.ACTIVATION),
            t("r", (64,), TensorKind.ACTIVATION),
            t("y", (64,), TensorKind.OUTPUT),
        )
    }
    nodes = (
        Node("n0", "Relu", ("x",), ("a",)),
        Node("n1", "Reshape", ("a",), ("r",), (("shape", (64,)),)),
        Node("n2", "Relu", ("r",), ("y",)),
    )
    return Graph("g", tensors, nodes, ("x",), ("y",))


def test_lifetimes_and_aliases() -> None:
    bufs = {b.root: b for b in network_buffers(_graph())}
    assert set(bufs) == {"x", "a", "y"}
    assert bufs["a"].members == ("a", "r")
    assert (bufs["x"].start, bufs["x"].end) == (0, 2)  # written before the run, read by node 0 at t=1
    assert (bufs["a"].start, bufs["a"].end) == (1, 4)  # produced at t=1, read through its alias at t=3
    assert (bufs["y"].start, bufs["y"].end) == (3, 5)  # read after the run (t = N + 1 = 4)


def test_plan_memory_places_every_tensor_without_conflict() -> None:
    hw = dt.load_hw("siracusa")
    mp = plan_memory(_graph(), hw, l2_budget=1000)
    placed = {p.tensor: p for p in mp.placed}
    assert placed["r"].offset == placed["a"].offset and placed["r"].alias_of == "a"
    roots = [p for p in mp.placed if p.alias_of is None]
    bufs = [Buffer(p.tensor, p.start, p.end, p.size) for p in roots]
    assert check_allocation(bufs, {p.tensor: p.offset for p in roots}, 1000) == []
    (l2,) = mp.levels
    assert l2.peak <= 1000 and l2.peak >= l2.lower_bound


def test_l2_infeasible_names_the_step() -> None:
    with pytest.raises(dt.InfeasibleBudget) as info:
        plan_memory(_graph(), dt.load_hw("siracusa"), l2_budget=100)
    assert info.value.level == "L2" and info.value.required_bytes == 128


@pytest.mark.parametrize("name", ["miniMobileNetv2", "microLlama/INT8/microLlama8"])
def test_shared_models_l2_peak_equals_bound(name: str, model_dirs: dict[str, Path]) -> None:
    g = dt.load_model(model_dirs[name] / "network.onnx")
    mp = plan_memory(g, dt.load_hw("siracusa"), l2_budget=1_024_000)
    (l2,) = mp.levels
    assert l2.peak == l2.lower_bound
    assert {p.tensor for p in mp.placed} >= set(g.input_names) | set(g.output_names)


def test_no_l3_names_the_whole_requirement(model_dirs: dict[str, Path]) -> None:
    """rv32_mcu has no L3: microLlama's weights must sit in L2, and the answer says how much L2 that takes."""
    g = dt.load_model(model_dirs["microLlama/INT8/microLlama1"])
    hw = dt.load_hw("rv32_mcu")
    with pytest.raises(dt.InfeasibleBudget) as info:
        plan_memory(g, hw, l2_budget=262_144, constants_to_l3=True)
    need = info.value.required_bytes
    assert info.value.level == "L2" and "has no L3" in str(info.value)
    assert need > sum(t.nbytes for t in g.constants)
    mp = plan_memory(g, hw, l2_budget=need, constants_to_l3=True)  # the stated requirement is enough
    assert mp.levels[0].peak <= need
    with pytest.raises(dt.InfeasibleBudget):
        plan_memory(g, hw, l2_budget=need - 1, constants_to_l3=True)


@pytest.mark.parametrize(("name", "spec"), [("microLlama/INT8/microLlama1", "siracusa"), ("CCT/Int/ICCT", "siracusa")])
def test_plan_at_tight_l2_is_exact_and_valid(name: str, spec: str, model_dirs: dict[str, Path]) -> None:
    """dt.plan never returns a plan whose tiles read weights from a level they are not placed in: a too
    small L2 is infeasible, and the requirement it states is exactly the smallest L2 with a valid plan."""
    g = dt.load_model(model_dirs[name])
    hw = dt.load_hw(spec)
    with pytest.raises(dt.InfeasibleBudget) as info:
        dt.plan(g, hw, l2=4096)
    need = info.value.required_bytes
    assert info.value.level == "L2" and need >= sum(t.nbytes for t in g.constants)
    p = dt.plan(g, hw, l2=need)
    assert dt.validate(p, g, hw) == []
    assert {b.level for b in p.memory} == {"L2"}
    with pytest.raises(dt.InfeasibleBudget):
        dt.plan(g, hw, l2=need - 1)


def test_weight_memory_sizes_come_from_the_tiling_record() -> None:
    """The memory plan places in-place weights at the packed size the tiling stage recorded (computed once,
    with the NPU task); without the record (a plan read back from JSON) it derives the same sizes."""
    from deeploy_tiler.planner.graph import tile_graph

    graph = dt.load_model()
    hw = dt.load_hw("siracusa_neureka")
    tiled = tile_graph(graph, hw, l1=16_000)
    wmem = [n for n in tiled.plan.nodes if n.alias_of is None and n.engine == "neureka"]
    assert wmem and set(tiled.packed_weights) >= {n.name for n in wmem}
    l2 = tiled.plan.budgets["L2"]
    recorded = plan_memory(graph, hw, l2_budget=l2, plan=tiled.plan, packed_weights=tiled.packed_weights)
    derived = plan_memory(graph, hw, l2_budget=l2, plan=dt.Plan.from_json(tiled.plan.to_json()))
    assert recorded == derived
    in_wmem = {p.tensor: p.size for p in recorded.placed if p.level == "WMEM"}
    assert in_wmem, "the default model keeps some weights in the weight memory"
    node = next(n for n in wmem if graph.node(n.name).inputs[1] in in_wmem)
    bigger = {**tiled.packed_weights, node.name: tiled.packed_weights[node.name] + 4096}
    grown = plan_memory(graph, hw, l2_budget=l2, plan=tiled.plan, packed_weights=bigger)
    sizes = {p.tensor: p.size for p in grown.placed if p.level == "WMEM"}
    assert sizes[graph.node(node.name).inputs[1]] == bigger[node.name]  # the record is what is read
