"""The model card is generated from report files and keeps the convert step's int8 section."""

from __future__ import annotations

import json
from pathlib import Path

from liveredge.models.card import BEGIN, END, main


def _report(path: Path, auc: float, bacc: float) -> None:
    path.mkdir(parents=True)
    path.joinpath("report.json").write_text(
        json.dumps(
            {
                "n": 480,
                "n_patients": 54,
                "macro_auc": auc,
                "macro_auc_ci95": [auc - 0.01, 1.0],
                "balanced_accuracy": bacc,
                "balanced_accuracy_ci95": [bacc - 0.03, bacc + 0.01],
                "ece": 0.02,
                "ece_ci95": [0.01, 0.04],
            }
        )
    )


def test_card_numbers_come_from_reports_and_int8_section_survives(tmp_path: Path) -> None:
    _report(tmp_path / "reports" / "cnn-test", 0.999, 0.983)
    _report(tmp_path / "reports" / "cnn-holdout", 0.997, 0.957)
    card = tmp_path / "MODEL_CARD.md"
    assert main([str(tmp_path), "--out", str(card)]) == 0
    text = card.read_text()
    assert "| liver_cnn | held-out site S6 | 480 / 54 | 0.997 [0.987, 1.000] | 0.957 [0.927, 0.967]" in text
    assert "balanced accuracy +2.60 points" in text and "NOT FOR CLINICAL USE" in text
    assert "Placeholder" in text and "liver_hybrid: not trained yet" in text
    filled = text.replace(text[text.index(BEGIN) : text.index(END)], f"{BEGIN}\nint8 agreement 99.1 %\n")
    card.write_text(filled)
    main([str(tmp_path), "--out", str(card)])
    assert "int8 agreement 99.1 %" in card.read_text() and "Placeholder" not in card.read_text()


def test_int8_section_is_filled_from_the_convert_reports(tmp_path) -> None:
    """The card's int8 table comes from the reports: shipped only when the gated file exists."""
    import json

    import pytest

    from liveredge.edge.errors import ConfigError
    from liveredge.models.card_int8 import BEGIN, END, update

    gate = {
        "passed": False,
        "n_frames": 576,
        "float_auc": 0.9992,
        "int8_auc": 0.9991,
        "metrics": [
            {"name": "agreement", "value": 0.991319, "ci95": [0.977431, 1.0], "ok": False},
            {"name": "auc", "value": -0.000102, "ci95": [-0.0004, 0.0002], "ok": True},
        ],
    }
    (tmp_path / "m_int8.rejected.tflite").write_bytes(b"x" * 2048)
    (tmp_path / "m_int8.float32.tflite").write_bytes(b"x" * 8192)
    report = {
        "model": "models/zoo/m_int8.rejected.tflite",
        "gate": gate,
        "attempts": [{}, {}],
        "budget": {"agreement": 0.995, "auc": 0.005},
    }
    (tmp_path / "m_int8.report.json").write_text(json.dumps(report))
    card = tmp_path / "MODEL_CARD.md"
    card.write_text(f"# card\n{BEGIN}\nplaceholder\n{END}\ntail\n")
    update(card, tmp_path)
    text = card.read_text()
    assert "placeholder" not in text and text.endswith("tail\n")
    assert (
        "| m_int8 | rejected: agreement outside its budget (`m_int8.rejected.tflite`, not shipped) | 0.9913 [0.977, 1.000] | -0.0001 |"
        in text
    )
    assert "2 KB / 8 KB" in text and "agreement 0.995" in text
    (tmp_path / "m_int8.tflite").write_bytes(b"x" * 3072)
    update(card, tmp_path)
    assert "**shipped** `m_int8.tflite`" in card.read_text() and "3 KB / 8 KB" in card.read_text()
    card.write_text("no markers")
    with pytest.raises(ConfigError, match="markers"):
        update(card, tmp_path)
