"""Every config key, protocol key and environment variable is documented in
docs/configuration.md."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from followup.channels import CHANNEL_KINDS, channel_class
from followup.config import Config
from followup.instruments import Instrument
from followup.protocol import Protocol
from followup.tomlfile import _inner

DOC = (Path(__file__).resolve().parents[1] / "docs" / "configuration.md").read_text()


def key_paths(model: type[BaseModel], prefix: str = "") -> list[str]:
    paths = []
    for name, field in model.model_fields.items():
        if field.exclude:
            continue
        origin = getattr(field.annotation, "__origin__", None)
        path = f"{prefix}{name}"
        if origin is dict:
            path += ".CODE"
        elif origin is list and _inner(field.annotation):
            path += "[]"
        inner = _inner(field.annotation)
        if inner is not None:
            paths.extend(key_paths(inner, path + "."))
        else:
            paths.append(path)
    return paths


@pytest.mark.parametrize("key", key_paths(Config))
def test_every_config_key_is_documented(key):
    assert f"`{key}`" in DOC, f"{key} is missing from docs/configuration.md"


@pytest.mark.parametrize("key", key_paths(Protocol))
def test_every_protocol_key_is_documented(key):
    assert key in DOC, f"protocol key {key} is missing from docs/configuration.md"


def environment_variables() -> list[str]:
    """Every variable the channels read, from their own declarations."""
    names = []
    for kind in CHANNEL_KINDS:
        settings = channel_class(kind).Settings
        names.extend(settings.ENVIRONMENT)
        names.extend(f"{var}_FILE" for var in settings.SECRETS)
    return names


def test_the_channels_declare_their_environment_variables():
    assert "FOLLOWUP_SMTP_HOST" in environment_variables()
    assert "TWILIO_AUTH_TOKEN_FILE" in environment_variables()


@pytest.mark.parametrize("variable", environment_variables())
def test_every_environment_variable_is_documented(variable):
    assert f"`{variable}`" in DOC, f"{variable} is missing from docs/configuration.md"


INSTRUMENT_DOC = (Path(__file__).resolve().parents[1] / "docs" / "instruments.md").read_text()


@pytest.mark.parametrize("key", key_paths(Instrument))
def test_every_instrument_key_is_documented(key):
    documented = key.removesuffix(".CODE")  # anchors = { "1" = … }: the table's key
    assert f"`{documented}`" in INSTRUMENT_DOC, (
        f"instrument key {key} is missing from docs/instruments.md"
    )
