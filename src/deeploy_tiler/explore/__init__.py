"""Design-space exploration: budget grids (grid), sweep points (points), smallest feasible budgets
(minimal), Pareto fronts (pareto), executors (serial, processes, Ray), the sweep itself (sweep), its
tables (tables), static figures (figures) and the HTML page (page)."""
