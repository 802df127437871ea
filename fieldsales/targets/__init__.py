"""Targets: goals for a rep or a whole team over a period, with attainment and pace."""
