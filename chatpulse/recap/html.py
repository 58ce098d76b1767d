"""The recap as one self-contained HTML file: styles, plotly.js and the page's script inline.

plotly.js comes from the installed ``plotly`` package (the file the dashboard serves), so the
page needs no network; its Content-Security-Policy allows no script, style or font from
anywhere else, and images only from the emote CDNs (the page asks for them only while the
browser is online and shows each emote's name either way).
"""

from __future__ import annotations

import html
import json
import re
from importlib import resources
from typing import Any, Final

# Image hosts: the emote CDNs of chatpulse.dashboard.shape.EMOTE_IMAGES.
CSP: Final = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data: https://static-cdn.jtvnw.net https://cdn.7tv.app https://cdn.betterttv.net "
    "https://cdn.frankerfacez.com; base-uri 'none'; form-action 'none'"
)


def page_file(name: str) -> str:
    """A file of the recap page (``recap.js``, ``recap.css``, ``recap.html``)."""
    return (resources.files("chatpulse.recap") / name).read_text(encoding="utf-8")


_SCRIPT_END: Final = re.compile(r"</(script)", re.IGNORECASE)


def _inline_script(text: str) -> str:
    # Inside <script>, "</script" (any case) ends the element; where it can occur in code
    # (strings, regular expressions) "<\/" means the same.
    return _SCRIPT_END.sub(lambda m: "<\\/" + m[1], text)


def _inline_json(data: Any) -> str:
    # Chat text may hold anything: with every "<" as \u003c nothing in it can end the element.
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")


def render_html(recap: dict[str, Any]) -> str:
    """The page for ``recap`` (:func:`chatpulse.recap.build.build_recap`'s dict)."""
    from chatpulse.dashboard.app import plotly_js_path  # the dashboard imports this module too

    stream = recap["stream"]
    title = f"#{recap['channel']} recap · {stream['started_at'][:16].replace('T', ' ')} UTC"
    parts = {
        "__CSP__": html.escape(CSP, quote=True),
        "__TITLE__": html.escape(title),
        "__CSS__": page_file("recap.css"),
        "__DATA__": _inline_json(recap),
        "__PLOTLY__": _inline_script(plotly_js_path().read_text(encoding="utf-8")),
        "__JS__": _inline_script(page_file("recap.js")),
    }
    page = page_file("recap.html")
    # One pass, so a placeholder-like text inside chat (in __DATA__) is never replaced again.
    out, rest = [], page
    while True:
        positions = [(rest.find(key), key) for key in parts if rest.find(key) >= 0]
        if not positions:
            out.append(rest)
            break
        index, key = min(positions)
        out.append(rest[:index])
        out.append(parts[key])
        rest = rest[index + len(key) :]
    return "".join(out)
