"""Settings from one registry (registry.config.SETTINGS) with one policy: a bad value stops the start, named."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from registry.config import PREFIX, SETTINGS, TEXT, markdown_table, value

PROJECT = Path(__file__).resolve().parent.parent
SOURCES = [*sorted((PROJECT / "registry").rglob("*.py")), *sorted((PROJECT / "auth").rglob("*.py")),
           PROJECT / "app.py", PROJECT / "gunicorn.conf.py"]

# Every way the code names a setting: the variable itself, or a read of the STEUNREGISTER config by key.
NAMED = [
    re.compile(r"\bSTEUNREGISTER_([A-Z][A-Z0-9_]*[A-Z0-9])\b"),
    re.compile(r"\b(?:value|setting_value|setting|whole_number|_positive_int|ed25519_key)\(\s*(?:[^,()]+(?:\[[^\]]*\])?,\s*)?"
               r"\"([A-Z][A-Z0-9_]+)\""),
    re.compile(r"(?<![.\w])(?:settings|config|conf)\.get\(\"([A-Z][A-Z0-9_]+)\""),  # not app.config: Flask's own
    re.compile(r"\[\"STEUNREGISTER\"\](?:\.get\(|\[)\"([A-Z][A-Z0-9_]+)\""),
    re.compile(r"KEY_SETTING = \"([A-Z][A-Z0-9_]+)\""),
]
NOT_SETTINGS = {"STEUNREGISTER"}  # the app.config key that holds them all


def named_in_the_code() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in SOURCES:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            for pattern in NAMED:
                for name in pattern.findall(line):
                    if name not in NOT_SETTINGS:
                        found.setdefault(name, []).append(f"{path.relative_to(PROJECT)}:{number}")
    return found


def test_every_setting_the_code_names_is_in_the_registry():
    found = named_in_the_code()
    assert len(found) >= 40, sorted(found)  # the patterns still find the code's reads
    unknown = {name: places for name, places in found.items() if name not in SETTINGS}
    assert not unknown, f"settings named in the code but missing from registry.config.SETTINGS: {unknown}"


def test_every_registered_setting_is_read_somewhere():
    unread = set(SETTINGS) - set(named_in_the_code())
    assert not unread, f"settings in the registry that no code reads: {sorted(unread)}"


def test_the_readme_table_is_generated_from_the_registry():
    readme = (PROJECT / "README.md").read_text()
    assert markdown_table() in readme, "README.md's settings table differs: regenerate it (python -m registry.config)"


def test_defaults_fit_their_own_types():
    for name, setting in SETTINGS.items():
        converted = value({}, name)  # raises SettingError for a default its type refuses
        if setting.default is None:
            assert converted is None, name
        else:  # unset means exactly the default, as if the default had been given
            assert converted is not None and converted == value({name: setting.default}, name), name


TYPED = [name for name, setting in SETTINGS.items() if setting.type is not TEXT]


@pytest.mark.parametrize("name", TYPED)
def test_a_bad_value_of_a_typed_setting_stops_the_start_with_its_name(tmp_path, name):
    from app import create_app
    from tests.conftest import base_config

    bad = SETTINGS[name].type.bad_example
    assert bad is not None, f"{name}: a typed setting needs a value its type refuses"
    config = {**base_config(tmp_path, f"sqlite:///{tmp_path / 'never.db'}"), name: bad}
    with pytest.raises(RuntimeError, match=rf"{PREFIX}{name} must be {re.escape(SETTINGS[name].type.kind)}, "
                                           rf"not '{re.escape(bad)}'"):
        create_app(config)


def test_the_example_of_the_policy():
    with pytest.raises(RuntimeError) as refused:
        value({"API_QUEUE": "x"}, "API_QUEUE")
    assert str(refused.value).endswith("STEUNREGISTER_API_QUEUE must be a whole number ≥ 0, not 'x'")


def test_empty_means_the_default_except_for_env():
    assert value({"API_QUEUE": ""}, "API_QUEUE") == int(SETTINGS["API_QUEUE"].default)
    assert value({"API_QUEUE": " 3 "}, "API_QUEUE") == 3
    assert value({"PROGRESS_MAX_AGE": "0.5"}, "PROGRESS_MAX_AGE") == 0.5
    assert value({"RATE_LIMIT_ENABLED": "off"}, "RATE_LIMIT_ENABLED") is False
    assert value({}, "BRP_URL") is None
    with pytest.raises(RuntimeError, match="STEUNREGISTER_ENV must be one of"):
        value({"ENV": ""}, "ENV")
