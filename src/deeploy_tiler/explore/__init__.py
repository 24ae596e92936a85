"""Design-space exploration: budget grids, sweep points, smallest feasible budgets, Pareto fronts,
executors (serial, processes, Ray), and the figures and HTML report of a sweep."""
