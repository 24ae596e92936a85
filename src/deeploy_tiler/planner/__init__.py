"""Planning: per-node setup (geometry, policy, cost model, minimum L1), the CP-SAT solve of each node, the
DMA schedule of the chosen tiles, the engine choice over the graph, and the `pipeline` that chains tiling,
memory placement and the validator: the one place where the stages meet."""
