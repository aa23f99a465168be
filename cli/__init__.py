"""liveredge.cli — the one ``liveredge`` command; it wires the parts together."""
