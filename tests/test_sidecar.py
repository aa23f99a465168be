"""One home for the float-model sidecar: every reader finds the file the exporter wrote (no TensorFlow)."""

from __future__ import annotations

from pathlib import Path

import pytest

from liveredge.edge.errors import ModelError
from liveredge.edge.events import CLASSES
from liveredge.edge.preprocess.spec import PreprocessSpec
from liveredge.edge.sidecar import Sidecar, find_sidecar, read_sidecar, sidecar_path, write_sidecar

SIDE = Sidecar("liver.v2", CLASSES, PreprocessSpec(input_size=(32, 32)))


class _SavedFile:
    """Stands in for a Keras model's ``save``: writes the weights file (the sidecar is what is under test)."""

    def save(self, path: Path) -> None:
        Path(path).write_bytes(b"weights")


def test_a_dotted_model_name_gets_its_sidecar_everywhere(tmp_path: Path) -> None:
    from liveredge.convert.ingest import SpecSource, resolve_spec, sidecar_for
    from liveredge.models.export import export_model
    from liveredge.models.export import read_sidecar as models_read_sidecar
    from liveredge.models.predict import _describe

    paths = export_model(_SavedFile(), tmp_path, SIDE, savedmodel=False)
    model = paths["keras"]
    assert model.name == "liver.v2.keras" and paths["sidecar"].name == "liver.v2.liveredge.json"
    assert sidecar_path(model) == paths["sidecar"] == find_sidecar(model) == sidecar_for(model)
    assert read_sidecar(model) == SIDE and models_read_sidecar(model) == SIDE
    assert resolve_spec(model, (32, 32, 1), 4, SpecSource())["name"] == "liver.v2"  # convert: not the default
    info = _describe(model, "keras")  # prediction: the sidecar, not the fallback default spec
    assert info.spec_source == "sidecar" and info.name == "liver.v2" and info.spec == SIDE.preprocess


def test_savedmodel_folder_sidecars_are_found_in_order(tmp_path: Path) -> None:
    folder = tmp_path / "liver_cnn_savedmodel"
    folder.mkdir()
    assert find_sidecar(folder) is None
    write_sidecar(folder / "liveredge.json", SIDE)
    assert find_sidecar(folder) == folder / "liveredge.json"
    beside = write_sidecar(tmp_path / "liver_cnn.liveredge.json", SIDE)
    assert find_sidecar(folder) == beside  # beside the folder wins over inside it


def test_a_broken_sidecar_is_an_error_naming_the_file(tmp_path: Path) -> None:
    model = tmp_path / "m.keras"
    sidecar_path(model).write_text("[1, 2]")
    with pytest.raises(ModelError, match=r"m\.liveredge\.json: sidecar must be a JSON object"):
        read_sidecar(model)
    sidecar_path(model).write_text("{")
    with pytest.raises(ModelError, match="not valid JSON"):
        read_sidecar(model)
