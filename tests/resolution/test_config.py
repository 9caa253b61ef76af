"""The configuration serialises to JSON and back, and its digest names it."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from resolution.config import ResolutionConfig, default_config


def test_config_round_trips_through_json(tmp_path: Path) -> None:
    config = default_config()
    text = config.model_dump_json()
    again = ResolutionConfig.model_validate_json(text)
    assert again == config
    assert again.digest() == config.digest()
    path = tmp_path / "resolution.json"
    config.write(path)
    assert ResolutionConfig.read(path) == config


def test_digest_changes_with_any_weight() -> None:
    config = default_config()
    data = config.model_dump()
    data["company"]["levels"]["name"]["exact"]["u"] /= 2
    changed = ResolutionConfig.model_validate(data)
    assert changed.digest() != config.digest()
    assert changed.company.weight("name", "exact") == pytest.approx(
        config.company.weight("name", "exact") + 1
    )


def test_config_rejects_unknown_fields_and_disordered_thresholds() -> None:
    data = default_config().model_dump()
    with pytest.raises(ValidationError):
        ResolutionConfig.model_validate({**data, "surprise": 1})
    with pytest.raises(ValidationError):
        ResolutionConfig.model_validate({**data, "review_threshold": 0.999})


def test_default_weights_are_documented_levels() -> None:
    config = default_config()
    assert config.company.weight("name", "exact") == pytest.approx(10.0)
    assert config.company.weight("name", "missing") == 0.0  # unlisted: weighs nothing
    assert config.person.weight("date", "different") == pytest.approx(-8.0)
