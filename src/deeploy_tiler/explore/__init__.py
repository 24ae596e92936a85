"""Design-space exploration and reports: budget grids (grid), sweep points (points), smallest feasible
budgets (minimal), Pareto fronts (pareto), executors (serial, processes, Ray), the sweep itself (sweep);
its tables (tables), static figures (figures); the interactive HTML reports (page) built from report
records of a plan (plandata) and plotly chart specs (charts, curves)."""
