"""Engine choice on a spec with an NPU: hand-made graphs whose answer is known, the weight memory's
capacity, forced modes, every shared model planned and validated, determinism."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

import deeploy_tiler as dt
from deeploy_tiler.errors import InfeasibleBudget
from deeploy_tiler.frontend.macs import node_macs
from deeploy_tiler.frontend.shapes import SHAPE_RULES
from deeploy_tiler.hw import HwSpec, load_hw
from deeploy_tiler.ir import AttrValue, DType, Graph, Node, Tensor, TensorKind
from deeploy_tiler.memory.network import plan_memory
from deeploy_tiler.plan import Plan
from deeploy_tiler.planner.graph import plan_graph, plan_graph_timed
from deeploy_tiler.solver import EngineOptions
from deeploy_tiler.validator import validate
from tests.conftest import SHARED_MODELS
from tests.solver.checks import check_plan, handovers
from tests.solver.graphs import conv

NPU_HW = load_hw("siracusa_neureka")


def _with_memory(plan: Plan, graph: Graph, hw: HwSpec) -> Plan:
    mem = plan_memory(graph, hw, l2_budget=plan.budgets["L2"], plan=plan)
    return plan.model_copy(update={"memory": mem.placed, "levels": mem.levels})


def _valid(plan: Plan, graph: Graph, hw: HwSpec = NPU_HW) -> Plan:
    check_plan(plan, graph, hw)
    full = _with_memory(plan, graph, hw)
    found = validate(full, graph, hw)
    assert found == [], "\n".join(map(str, found[:20]))
    return full


def conv_chain(n: int, channels: int = 64, hw: int = 8) -> Graph:
    """x -> n 1x1 convolutions (channels -> channels, int8, each with its own weights) -> y."""
    tensors: dict[str, Tensor] = {"a0": Tensor("a0", (1, channels, hw, hw), DType.INT8, TensorKind.INPUT)}
    nodes = []
    attrs: dict[str, AttrValue] = {
        "kernel_shape": (1, 1),
        "strides": (1, 1),
        "pads": (0, 0, 0, 0),
        "dilations": (1, 1),
        "group": 1,
    }
    for i in range(n):
        w = f"w{i}"
        tensors[w] = Tensor(w, (channels, channels, 1, 1), DType.INT8, TensorKind.CONSTANT)
        shapes = [tensors[f"a{i}"].shape, tensors[w].shape]
        (out,) = SHAPE_RULES["Conv"](f"c{i}", attrs, shapes)
        kind = TensorKind.OUTPUT if i == n - 1 else TensorKind.ACTIVATION
        tensors[f"a{i + 1}"] = Tensor(f"a{i + 1}", out, DType.INT8, kind)
        nodes.append(
            Node(
                f"c{i}",
                "Conv",
                (f"a{i}", w),
                (f"a{i + 1}",),
                tuple(sorted(attrs.items())),
                macs=node_macs("Conv", attrs, shapes, [out]),
            )
        )
    return Graph("chain", tensors, tuple(nodes), ("a0",), (f"a{n}",))


def test_a_big_3x3_conv_runs_on_the_npu() -> None:
    graph = conv(64, 64, 32, 32, 3, 1, 1)
    plan = plan_graph(graph, NPU_HW)
    node = plan.nodes[0]
    assert node.engine == "neureka"
    alts = {a.reason.split(":")[0]: a for a in node.alternatives}
    cluster = next(a for a in node.alternatives if a.engine == "cluster")
    assert cluster.cycles is not None and cluster.cycles > 10 * node.cycles.compute
    assert any(r.startswith("chosen") for r in alts)
    assert not any(b.role == "weight" and b.tensor == "in1" for b in node.buffers)  # weights read in WMEM
    full = _valid(plan, graph)
    assert [(p.tensor, p.level) for p in full.memory if p.level == "WMEM"] == [("in1", "WMEM")]
    assert full.budgets["WMEM"] == NPU_HW.memory("WMEM").budget_bytes
    assert dt.plan(graph, NPU_HW).memory == full.memory  # the public API places WMEM the same way


def test_a_stride_2_conv_stays_on_the_cluster_with_the_reason() -> None:
    graph = conv(16, 32, 16, 16, 3, 2, 1)
    plan = plan_graph(graph, NPU_HW)
    node = plan.nodes[0]
    assert node.engine == "cluster" and node.cycles.total == next(
        a.cycles for a in node.alternatives if a.engine == "cluster"
    )
    (npu,) = [a for a in node.alternatives if a.engine == "neureka"]
    assert npu.cycles is None and "stride 2 not supported by the neureka driver" in npu.reason
    _valid(plan, graph)


def test_weights_beyond_the_weight_memory_are_split() -> None:
    graph = conv_chain(6)
    packed = 64 * 2 * 32  # per conv: 64 output channels x 2 blocks of 32 input channels x 32 B
    small = NPU_HW.with_overrides({"memories.WMEM.size_bytes": 3 * packed + 100})
    plan = plan_graph(graph, small)
    weight = {n.name: n.inputs[1] for n in graph.nodes}
    in_wmem = [
        n for n in plan.nodes if n.engine == "neureka" and not any(b.tensor == weight[n.name] for b in n.buffers)
    ]
    assert len(in_wmem) == 3  # as many as fit; the rest stream their weights from L2 (NPU or cluster)
    rest = [n for n in plan.nodes if n not in in_wmem]
    assert all(any(b.role == "weight" for b in n.buffers) for n in rest)
    for n in rest:
        wmem_alt = next(a for a in n.alternatives if "WMEM" in a.reason)
        assert wmem_alt.cycles is not None
        if wmem_alt.cycles < n.cycles.total - handovers(plan, small)[n.name]:
            assert "no room" in wmem_alt.reason
    full = _valid(plan, graph, small)
    usage = {u.level: u for u in full.levels}["WMEM"]
    assert usage.peak == 3 * packed <= usage.capacity
    assert all(p.level == "L2" for p in full.memory if p.tensor in {n.name.replace("c", "w") for n in rest})
    # without the weight memory every weight is DMA'd from L2 and nothing is placed in WMEM
    off = plan_graph(graph, small, engine_options=EngineOptions(weight_memory=False))
    assert "WMEM" not in off.budgets and off.options["weight_memory"] is False
    assert all(any(b.role == "weight" for b in n.buffers) for n in off.nodes)
    assert off.total_cycles >= plan.total_cycles
    assert not [p for p in _valid(off, graph, small).memory if p.level == "WMEM"]


def test_forced_modes_and_handover() -> None:
    graph = conv_chain(3)
    cluster = plan_graph(graph, NPU_HW, engine="cluster")
    assert {n.engine for n in cluster.nodes} == {"cluster"} and cluster.options["engine"] == "cluster"
    assert all(not n.alternatives for n in cluster.nodes)
    forced = plan_graph(graph, NPU_HW, engine="neureka")
    assert {n.engine for n in forced.nodes} == {"neureka"} and forced.options["engine"] == "neureka"
    auto = plan_graph(graph, NPU_HW)
    assert auto.total_cycles <= min(cluster.total_cycles, forced.total_cycles)
    # one switch onto the NPU at the start of the run, charged once
    assert sum(handovers(forced, NPU_HW).values()) == forced.options["handover_cycles"] == 100
    costly = plan_graph(graph, NPU_HW, engine_options=EngineOptions(handover_cycles=10**6))
    assert {n.engine for n in costly.nodes} == {"cluster"}
    _valid(forced, graph)
    with pytest.raises(dt.PlanError, match="not one to plan for"):
        plan_graph(graph, NPU_HW, engine="gpu")


def test_infeasible_budget_names_nodes_no_engine_fits() -> None:
    graph = conv_chain(2)
    with pytest.raises(InfeasibleBudget) as e:
        plan_graph(graph, NPU_HW, l1=100)
    assert set(e.value.nodes) == {"c0", "c1"}
    # the smallest need over the engines: the reported budget is enough for the whole graph
    plan = plan_graph(graph, NPU_HW, l1=e.value.required_bytes)
    assert plan.budgets["L1"] == e.value.required_bytes


@pytest.mark.parametrize("name", SHARED_MODELS)
def test_every_shared_model_plans_on_the_npu_spec_and_validates(model_dirs: dict[str, Path], name: str) -> None:
    graph = dt.load_model(model_dirs[name] / "network.onnx")
    plan, timings = plan_graph_timed(graph, NPU_HW)
    _valid(plan, graph)
    cluster = plan_graph(graph, NPU_HW, engine="cluster")
    assert plan.total_cycles <= cluster.total_cycles  # cluster-only is one of the assignments
    engines = Counter(n.engine for n in plan.nodes if n.alias_of is None)
    assert engines["neureka"] > 0
    for n in plan.nodes:
        if n.alias_of is None:
            assert any(a.reason.startswith("chosen") and a.engine == n.engine for a in n.alternatives)
    assert len(timings.nodes) == len(graph.nodes)  # speed is measured in benchmarks/, not asserted


def test_deterministic_plans(model_dirs: dict[str, Path]) -> None:
    graph = dt.load_model(model_dirs["microLlama/INT8/microLlama8"] / "network.onnx")
    a, b = (dt.plan(graph, NPU_HW, l1=16_000).to_json() for _ in range(2))
    assert a == b
    assert Plan.from_json(a).to_json() == a


def test_tight_l1_uses_the_npu_or_answers_infeasible(model_dirs: dict[str, Path]) -> None:
    """Below the cluster's minimum L1 a node can still run on the NPU reading its weights in place."""
    g = dt.load_model(model_dirs["miniMobileNet"] / "network.onnx")
    hw = dt.load_hw("siracusa_neureka")
    with pytest.raises(dt.InfeasibleBudget) as info:
        dt.plan(g, hw, l1=300)
    need = info.value.required_bytes
    p = dt.plan(g, hw, l1=need)
    assert dt.validate(p, g, hw) == []
    assert need < 720  # the cluster alone needs 720 B of L1 for this model
    with pytest.raises(dt.InfeasibleBudget):
        dt.plan(g, hw, l1=need - 1)
