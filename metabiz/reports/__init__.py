"""Reports and dashboards: grouped aggregates over any field or formula in one SQL query,
charts drawn from their results, dashboards per role and the home page's dashboard."""
