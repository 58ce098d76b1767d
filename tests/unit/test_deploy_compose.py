"""docker-compose.yml, Dockerfile, .env.example and prometheus.yml agree with the real CLI and settings.

The stack cannot run here (no Docker engine), so these tests check what would break it: every
`chatpulse` service's command parses with the real click commands (options that exist, values
their types accept), every environment name it sets is one chatpulse.config reads, every
variable the compose file uses is documented in .env.example (and nothing stale is), and the
health check, metrics port and Prometheus targets line up. When Debian's `docker-compose` (1.29)
is installed, `docker-compose config` validates the file against the Compose schema too.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from dotenv import dotenv_values

from chatpulse.cli import cli
from chatpulse.config import ENV_ALIASES, Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKERFILE = ROOT / "Dockerfile"
PROMETHEUS_FILE = ROOT / "deploy" / "prometheus" / "prometheus.yml"
HEALTHCHECK_SCRIPT = ROOT / "deploy" / "docker" / "healthcheck.py"

PIPELINE_SERVICES = {"migrate": ("db", "migrate"), "ingest": ("ingest",), "enrich": ("enrich",),
                     "sink": ("sink",), "dashboard": ("dashboard",)}  # fmt: skip
STAGES_WITH_METRICS = ("ingest", "enrich", "sink")
# Read by the image itself (deploy/docker/healthcheck.py), not by chatpulse.config.
IMAGE_VARIABLES = {"HEALTHCHECK_URL"}
# Required secrets are empty in .env.example; any value will do for checking the file.
PLACEHOLDER = "placeholder-secret"

_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])((?:[^{}]|\{[^{}]*\})*))?\}")
_DOCUMENTED = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=", re.MULTILINE)


def example_env() -> dict[str, str]:
    """.env.example's active values, with every empty one filled (as a user must)."""
    values = dotenv_values(ENV_EXAMPLE)
    return {key: (value or PLACEHOLDER) for key, value in values.items()}


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``, ``${VAR:?error}`` rules."""

    def replace(match: re.Match[str]) -> str:
        name, op, arg = match[1], match[2], match[3] or ""
        value = env.get(name)
        if op in (":-", ":?") and not value or op in ("-", "?") and value is None:
            if op.endswith("?"):
                raise AssertionError(f"{name} is required: {arg}")
            return interpolate(arg, env)
        return value or ""

    return _VARIABLE.sub(replace, text).replace("$$", "$")


def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def chatpulse_services() -> dict[str, dict[str, Any]]:
    """Services that run the image built from ./Dockerfile (the `chatpulse` entry point)."""
    return {
        name: service
        for name, service in compose()["services"].items()
        if isinstance(service.get("build"), dict) and service["build"].get("context") == "."
    }


def command_args(service: dict[str, Any], env: dict[str, str]) -> list[str]:
    command = service["command"]
    if isinstance(command, str):
        return shlex.split(interpolate(command, env))
    return [interpolate(str(part), env) for part in command]


def parse_with_cli(args: list[str]) -> click.Context:
    """Resolve ``chatpulse ARGS`` to its click command and parse the options (nothing runs)."""
    command: click.Command = cli
    ctx = click.Context(cli, info_name="chatpulse")
    path = ["chatpulse"]
    while isinstance(command, click.Group):
        assert args, f"`{' '.join(path)}` needs a subcommand"
        name, args = args[0], args[1:]
        sub = command.get_command(ctx, name)
        assert sub is not None, f"`{' '.join(path)} {name}` is not a chatpulse command"
        path.append(name)
        ctx = click.Context(sub, info_name=name, parent=ctx)
        command = sub
    try:
        return command.make_context(path[-1], list(args), parent=ctx.parent)
    except click.ClickException as exc:
        raise AssertionError(f"`{' '.join(path)} {' '.join(args)}`: {exc.format_message()}") from None


def is_setting_name(name: str) -> bool:
    """True for the names chatpulse.config reads: ENV_ALIASES and CHATPULSE_<SECTION>__<FIELD>."""
    if name in ENV_ALIASES:
        return True
    match = re.fullmatch(r"CHATPULSE_([A-Z]+)__([A-Z0-9_]+)", name)
    if not match:
        return False
    section = Settings.model_fields.get(match[1].lower())
    fields = getattr(section.annotation, "model_fields", {}) if section is not None else {}
    return match[2].lower() in fields


def test_pipeline_services_run_the_image_and_expected_commands() -> None:
    services = chatpulse_services()
    assert set(PIPELINE_SERVICES) <= set(services)
    env = example_env()
    for name, expected in PIPELINE_SERVICES.items():
        args = command_args(services[name], env)
        assert tuple(args[: len(expected)]) == expected, f"service {name} runs {args}"
    dockerfile = DOCKERFILE.read_text(encoding="utf-8")
    entrypoint = re.search(r"^ENTRYPOINT\s+(\[.*\])\s*$", dockerfile, re.MULTILINE)
    assert entrypoint is not None and yaml.safe_load(entrypoint[1]) == ["chatpulse"]


@pytest.mark.parametrize("service", sorted(PIPELINE_SERVICES))
def test_service_command_is_a_real_cli_invocation(service: str) -> None:
    parse_with_cli(command_args(chatpulse_services()[service], example_env()))


def test_live_ingest_example_from_env_example_parses() -> None:
    # .env.example documents `INGEST_ARGS=--channel xqc --channel nymn` for live Twitch.
    match = re.search(r"^#\s*INGEST_ARGS=(.+)$", ENV_EXAMPLE.read_text(encoding="utf-8"), re.MULTILINE)
    assert match is not None
    env = example_env() | {"INGEST_ARGS": match[1]}
    ctx = parse_with_cli(command_args(chatpulse_services()["ingest"], env))
    assert "xqc" in str(ctx.params)


def test_cli_rejects_what_the_consistency_check_must_catch() -> None:
    # The checker itself must fail on drift: an unknown option and an unknown command.
    with pytest.raises(AssertionError, match="(?i)no such option"):
        parse_with_cli(["db", "migrate", "--no-such-flag"])
    with pytest.raises(AssertionError, match="not a chatpulse command"):
        parse_with_cli(["no-such-command"])


def test_service_environment_names_are_settings_chatpulse_reads() -> None:
    env = example_env()
    for name, service in chatpulse_services().items():
        environment = service.get("environment") or {}
        assert isinstance(environment, dict), f"{name}: use the mapping form for environment"
        for key in environment:
            assert is_setting_name(key) or key in IMAGE_VARIABLES, (
                f"service {name} sets {key}, which chatpulse.config does not read "
                "(ENV_ALIASES or CHATPULSE_<SECTION>__<FIELD>)"
            )
        # The values the stack passes are valid settings (a bad DSN or number would exit 2).
        resolved = {
            key: interpolate(str(value), env) if value is not None else env.get(key)
            for key, value in environment.items()
            if key not in IMAGE_VARIABLES
        }
        load_settings(env_file=None, environ={k: v for k, v in resolved.items() if v})


def test_setting_name_check_rejects_unknown_names() -> None:
    assert is_setting_name("CHATPULSE_STORE__DSN")
    assert is_setting_name("TOKEN")
    assert not is_setting_name("CHATPULSE_STORE__NO_SUCH_FIELD")
    assert not is_setting_name("CHATPULSE_NOSECTION__DSN")
    assert not is_setting_name("CHATPULSE_STORE_DSN")


def test_every_compose_variable_is_documented_and_nothing_stale() -> None:
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    used = {match[0] for match in _VARIABLE.findall(text)}
    for service in chatpulse_services().values():
        used |= {key for key, value in (service.get("environment") or {}).items() if value is None}
    documented = set(_DOCUMENTED.findall(ENV_EXAMPLE.read_text(encoding="utf-8")))
    assert used - documented == set(), "used by docker-compose.yml but not in .env.example"
    stale = {name for name in documented - used if not is_setting_name(name)}
    assert stale == set(), "documented in .env.example but used nowhere"


def test_metrics_port_healthcheck_and_prometheus_targets_agree() -> None:
    env = example_env()
    services = chatpulse_services()
    ports = set()
    for stage in STAGES_WITH_METRICS:
        args = command_args(services[stage], env)
        ports.add(args[args.index("--metrics-port") + 1])
        # The default bind address (127.0.0.1) would hide /metrics from Prometheus's container.
        assert args[args.index("--metrics-host") + 1] == "0.0.0.0"  # noqa: S104 (inside a container)
    assert len(ports) == 1
    port = ports.pop()
    dockerfile = DOCKERFILE.read_text(encoding="utf-8")
    assert f"HEALTHCHECK_URL=http://127.0.0.1:{port}/healthz" in dockerfile
    assert f'"http://127.0.0.1:{port}/healthz"' in HEALTHCHECK_SCRIPT.read_text(encoding="utf-8")
    prometheus = yaml.safe_load(PROMETHEUS_FILE.read_text(encoding="utf-8"))
    targets = prometheus["scrape_configs"][0]["dns_sd_configs"][0]
    assert set(targets["names"]) == set(STAGES_WITH_METRICS)
    assert str(targets["port"]) == port


def _instructions(text: str) -> list[tuple[str, str]]:
    """The Dockerfile as (INSTRUCTION, arguments) pairs: comments dropped, continuations joined."""
    joined = re.sub(
        r"\\\n", " ", "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    )
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in joined.splitlines()
        if line.strip()
    ]


def _stages(text: str) -> list[list[tuple[str, str]]]:
    stages: list[list[tuple[str, str]]] = []
    for instruction in _instructions(text):
        if instruction[0] == "FROM":
            stages.append([])
        if stages:
            stages[-1].append(instruction)
    return stages


def test_the_image_builds_from_what_the_context_holds_and_runs_unprivileged() -> None:
    build, runtime = _stages(DOCKERFILE.read_text(encoding="utf-8"))[-2:]
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    # Every file the build stage copies exists and is in the build context (else docker build fails).
    copied: list[str] = []
    for name, args in build:
        if name == "COPY":
            copied += shlex.split(args)[:-1]
    for source in copied:
        assert (ROOT / source).exists(), f"COPY {source}: no such file"
        assert source not in ignored, f"COPY {source}: excluded by .dockerignore"
    # ... and they are everything the package build reads: pyproject's readme, setup.py, the package.
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    for needed in (project["readme"], "setup.py", "pyproject.toml", "chatpulse"):
        assert needed in copied, f"the build stage does not copy {needed}"
    # The build arg EXTRAS names optional dependency groups that exist.
    documented = re.findall(r"EXTRAS=(\w+)", DOCKERFILE.read_text(encoding="utf-8"))
    assert documented and set(documented) <= set(project["optional-dependencies"])
    # The runtime stage: the last USER is not root, the entry point is our console script, and
    # the health check runs a script the stage copied in, which is the project's own.
    users = [args.split()[0] for name, args in runtime if name == "USER"]
    assert users and users[-1] not in {"root", "0"}
    entry = next(args for name, args in runtime if name == "ENTRYPOINT")
    assert yaml.safe_load(entry)[0] in project["scripts"]
    check = next(args for name, args in runtime if name == "HEALTHCHECK")
    command = yaml.safe_load(check.split("CMD", 1)[1])
    placed = {
        shlex.split(args)[-1]: shlex.split(args)[0]
        for name, args in runtime
        if name == "COPY" and "--from" not in args
    }
    assert placed.get(command[-1]) == str(HEALTHCHECK_SCRIPT.relative_to(ROOT))


def test_healthcheck_script_reports_an_unreachable_service_as_unhealthy(tmp_path: Path) -> None:
    import socket
    import sys

    with socket.socket() as sock:  # a port nobody listens on: bound, never listening
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/healthz"
        result = subprocess.run(
            [sys.executable, str(HEALTHCHECK_SCRIPT)],
            env={"HEALTHCHECK_URL": url},
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode == 1
    assert "unhealthy" in result.stderr


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="Debian's docker-compose not installed")
def test_docker_compose_config_accepts_the_file_with_every_profile(tmp_path: Path) -> None:
    env_file = tmp_path / "compose.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in example_env().items()), encoding="utf-8")
    result = subprocess.run(
        ["docker-compose", "-f", str(COMPOSE_FILE), "--env-file", str(env_file),
         "--profile", "superset", "--profile", "monitoring", "config"],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    resolved = yaml.safe_load(result.stdout)
    assert {"kafka", "clickhouse", "superset", "prometheus", "grafana"} <= set(resolved["services"])
    assert resolved["services"]["ingest"]["command"].endswith(" --synthetic")
    # A forgotten password stops `docker compose` with a message naming it, before anything starts.
    env_file.write_text(env_file.read_text(encoding="utf-8").replace(
        f"CLICKHOUSE_PASSWORD={PLACEHOLDER}", "CLICKHOUSE_PASSWORD="), encoding="utf-8")  # fmt: skip
    result = subprocess.run(
        ["docker-compose", "-f", str(COMPOSE_FILE), "--env-file", str(env_file), "config"],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode != 0
    assert "CLICKHOUSE_PASSWORD" in result.stderr
