"""The one exception root of liveredge.

Every error the package raises on purpose derives from :class:`LiveredgeError`.
Third-party exceptions (OpenCV, pydicom, pyserial, TensorFlow, LiteRT, ...) are
translated at the boundary with ``raise XError(...) from exc``.

::

    LiveredgeError                 exit code 1 unless stated
    ├── InputError                 bad user input (file, option, data) -> exit 2
    │   ├── ConfigError            invalid configuration / option values
    │   └── DataError              a dataset, manifest, image or DICOM is unusable
    ├── SourceError                a frame source failed (open, read, vanished)
    ├── PreprocessError            no usable ultrasound region, bad frame format
    ├── ModelError                 a model cannot be loaded, run or understood
    │   └── VerificationError      hash / signature / int8 contract failed
    ├── GateFailed                 int8 vs float budget failed -> exit 3
    └── BridgeError                serial link / protocol failure

Parts add narrower subclasses next to the code that raises them; they always
derive from one of the classes here so a caller can catch by meaning.
"""

from __future__ import annotations


class LiveredgeError(Exception):
    """Root of every liveredge error. ``exit_code`` is what the CLI returns."""

    exit_code: int = 1


class InputError(LiveredgeError):
    """The user gave input we cannot use; the message names it and says what to do."""

    exit_code = 2


class ConfigError(InputError):
    """An option or configuration value is invalid."""


class DataError(InputError):
    """A dataset, manifest, image, video or DICOM file is unusable."""


class SourceError(LiveredgeError):
    """A frame source failed to open or read."""


class PreprocessError(LiveredgeError):
    """A frame cannot be turned into a model input."""


class ModelError(LiveredgeError):
    """A model cannot be loaded, run or understood."""


class VerificationError(ModelError):
    """A model's hash, signature or int8 contract does not hold."""


class GateFailed(LiveredgeError):
    """The int8 model broke a float-vs-int8 budget."""

    exit_code = 3


class BridgeError(LiveredgeError):
    """The serial link or protocol failed."""
