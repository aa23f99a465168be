"""Multi-site B-mode liver phantom simulator (numpy + OpenCV, no TensorFlow).

Everything it makes is SIMULATED ultrasound, not for clinical use.

>>> from liveredge.edge.sim import make_patient, get_profile, Scanner
>>> frame = Scanner(make_patient("P1", "steatosis", severity=2), get_profile("S1"), size=(256, 256)).frame(0)
>>> frame.image.shape, frame.label
((256, 256, 3), 'steatosis')
"""

from __future__ import annotations

from liveredge.edge.sim.exam import VIEWS, Operator, View
from liveredge.edge.sim.geometry import FanGeometry
from liveredge.edge.sim.patient import CLASSES, LESIONS, Patient, make_patient
from liveredge.edge.sim.profiles import SiteProfile, get_profile, list_profiles, random_profile
from liveredge.edge.sim.scanner import Scanner, SimFrame

__all__ = [
    "CLASSES",
    "LESIONS",
    "VIEWS",
    "FanGeometry",
    "Operator",
    "Patient",
    "Scanner",
    "SimFrame",
    "SiteProfile",
    "View",
    "get_profile",
    "list_profiles",
    "make_patient",
    "random_profile",
]
