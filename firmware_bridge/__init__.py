"""liveredge.firmware_bridge — framed, checksummed, versioned serial link to the handheld's MCU.

No TensorFlow; importing this package must stay cheap.
"""

__all__: list[str] = []
