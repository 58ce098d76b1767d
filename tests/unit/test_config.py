"""Settings precedence, seed-compatible names, and error messages that name the setting only."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatpulse.config import load_settings
from chatpulse.errors import ConfigError


def test_defaults_need_no_file_and_no_environment(tmp_path: Path) -> None:
    settings = load_settings(env_file=tmp_path / "absent.env", environ={})
    assert settings.store.dsn == "chdb:///./data/chatpulse"
    assert settings.dashboard.host == "127.0.0.1"
    assert settings.twitch.token is None


def test_later_sources_win_yaml_then_dotenv_then_environment_then_flags(tmp_path: Path) -> None:
    config = tmp_path / "chatpulse.yaml"
    config.write_text("store:\n  dsn: chdb:///from-yaml\ndashboard:\n  port: 1111\n  host: 127.0.0.2\n")
    dotenv = tmp_path / ".env"
    dotenv.write_text("CHATPULSE_DASHBOARD__PORT=2222\nCHATPULSE_STORE=chdb:///from-dotenv\n")
    settings = load_settings(
        config, env_file=dotenv, environ={"CHATPULSE_DASHBOARD__PORT": "3333"},
        overrides={"store.dsn": "chdb:///from-flag", "dashboard.host": None},
    )  # fmt: skip
    assert settings.dashboard.port == 3333  # environment beats .env beats YAML
    assert settings.store.dsn == "chdb:///from-flag"  # a flag beats everything
    assert settings.dashboard.host == "127.0.0.2"  # an unset flag (None) hides nothing


def test_seed_env_names_configure_twitch(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("SERVER=irc.chat.twitch.tv\nPORT=6667\nNICKNAME=me\nTOKEN=oauth:abc\n")
    twitch = load_settings(env_file=dotenv, environ={}).twitch
    assert (twitch.server, twitch.port, twitch.nickname) == ("irc.chat.twitch.tv", 6667, "me")
    assert twitch.token is not None and twitch.token.get_secret_value() == "oauth:abc"
    assert "abc" not in repr(twitch)


def test_empty_values_mean_unset_as_in_the_example_file(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[2] / ".env.example"
    settings = load_settings(env_file=example, environ={"PORT": ""})
    assert settings.twitch.token is None  # TOKEN= is anonymous login, not an empty token
    assert settings.twitch.nickname is None


def test_bad_value_names_the_setting_but_never_echoes_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(env_file=None, environ={"CHATPULSE_DASHBOARD__PORT": "sekrit-not-a-port"})
    assert "dashboard.port" in str(error.value)
    assert "sekrit" not in str(error.value)


def test_unknown_yaml_setting_is_named(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("store:\n  dns: typo\n")
    with pytest.raises(ConfigError, match=r"store\.dns"):
        load_settings(config, env_file=None, environ={})


@pytest.mark.parametrize(("content", "reason"), [("store: [\n", "not valid YAML"), ("- a\n", "mapping")])
def test_broken_yaml_is_a_clear_config_error(tmp_path: Path, content: str, reason: str) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(content)
    with pytest.raises(ConfigError, match=reason):
        load_settings(config, env_file=None, environ={})


def test_missing_config_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="nope.yaml"):
        load_settings(tmp_path / "nope.yaml", env_file=None, environ={})
