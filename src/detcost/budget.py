"""The slowdown a user accepts, against which verdicts are given."""

DEFAULT_BUDGET = 1.10  # "I accept 10%"
