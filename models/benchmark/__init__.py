"""The generalization benchmark (``liveredge benchmark``): a fixed, versioned suite of simulated frames on
scanner profiles and patients from the benchmark seed range, reported only. SIMULATED data, not for clinical use.

Modules: :mod:`.suite` (what is in the suite), :mod:`.sweeps` (one function per sweep), :mod:`.render`
(simulator + runtime preprocessing), :mod:`.score` (metrics), :mod:`.run` (the flow), :mod:`.report` (files).
"""
