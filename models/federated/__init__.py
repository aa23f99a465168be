"""Federated fine-tuning across clinics on Flower (``liveredge federate``).

Each clinic's frames stay with its own SuperNode process; only model parameters and aggregate metrics cross the
wire. Every image involved is SIMULATED (the phantom simulator) and no model here is for clinical use.
"""
