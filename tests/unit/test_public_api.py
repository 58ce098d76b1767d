"""The package's public names resolve, stay sorted, and importing chatpulse stays light."""

from __future__ import annotations

import subprocess
import sys

import chatpulse


def test_every_public_name_resolves_to_the_real_object() -> None:
    from chatpulse.irc.twitch import parse_line

    assert chatpulse.__all__ == sorted(chatpulse.__all__)
    assert set(chatpulse.__all__) == set(chatpulse._HOMES)
    for name in chatpulse.__all__:
        assert getattr(chatpulse, name) is not None
    assert chatpulse.parse_line is parse_line
    event = chatpulse.parse_line("@room-id=1 :a!a@a.tmi.twitch.tv PRIVMSG #chan :hi", 0)
    assert isinstance(event, chatpulse.MessageEvent) and event.text == "hi"


def test_importing_chatpulse_loads_no_heavy_dependency() -> None:
    heavy = "('chdb', 'confluent_kafka', 'onnxruntime', 'pyarrow')"
    code = f"import sys, chatpulse; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
