"""The scorecard bench: scenarios, the simulated user, metrics and reports."""
