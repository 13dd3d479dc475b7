"""Everything that runs inside a measuring process: the pytest plugin's hooks, the case
session, the knobs, timing, variance, the device's ceilings and kernel tables. Torch is
imported at module top here, and nothing outside this package imports it: the parent
starts workers as processes (runs/), and the report reads their files (analysis/)."""
