"""综合评价: resident ratings, level-by-level staff evaluations, the KPI dashboard."""
