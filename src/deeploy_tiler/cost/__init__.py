"""The analytic cost model: polynomials over a node's tile choice (`tilespace`), the per-node model of
compute, DMA, double buffering, footprints and the lower bound (`model`), and the NPU task model summed
over a tiling (`npu`). The CP-SAT objective is compiled from these same objects."""
