"""The YAML loader: a text loaded before is served from memory, as a copy, errors never kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from ks_analysis import _config
from ks_analysis.errors import DataFileError
from ks_analysis.paths import PACKAGE_DATA_DIR


def test_a_text_loaded_again_is_not_parsed_again_and_each_caller_gets_its_own_copy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The packaged goal catalogue, loaded twice: parsed once, equal documents, and a caller's
    change to its document never reaches the next caller."""
    path = PACKAGE_DATA_DIR / "goals_2019.yaml"
    text = path.read_text(encoding="utf-8")
    monkeypatch.setattr(_config, "_LOADED", type(_config._LOADED)(_config._LOADED.max_entries))
    parsed: list[str] = []
    real = _config._load

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        parsed.append(str(args[1]))
        return real(*args, **kwargs)

    monkeypatch.setattr(_config, "_load", counting)
    first = _config.loads_yaml(text, path)
    first["goals"].clear()
    second = _config.load_yaml(path, what="goal catalogue")
    assert len(parsed) == 1 and len(second["goals"]) == 8


def test_a_bad_text_fails_every_time_with_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("goals:\n  - id: 1\n   title: x\n", encoding="utf-8")
    for _ in range(2):
        with pytest.raises(DataFileError, match=r"bad\.yaml, row 3: is not valid YAML"):
            _config.load_yaml(bad, what="goal catalogue")
