"""Build hook for the one native part: the optional IRC parser accelerator.

All metadata lives in pyproject.toml; this file only declares the C extension, which setuptools
compiles at ``pip install`` (``pip install -e .`` builds it in place). ``optional=True``: where no
C compiler is available the install still succeeds, and chatpulse.irc.parser falls back to its
pure-Python code (``make test`` then fails test_irc_native under CI=true, so CI notices).
"""

from __future__ import annotations

import sys

from setuptools import Extension, setup

# GCC/Clang flags; MSVC gets its defaults. -O3 is usually in Python's own CFLAGS already.
_UNIX_FLAGS = ["-O3", "-Wall", "-Wextra"]

setup(
    ext_modules=[
        Extension(
            "chatpulse.irc._fastirc",
            sources=["chatpulse/irc/_fastirc.c"],
            extra_compile_args=[] if sys.platform == "win32" else _UNIX_FLAGS,
            optional=True,
        )
    ]
)
