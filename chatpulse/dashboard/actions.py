"""The dashboard's write endpoints: ``POST /api/channels/{name}/join`` and ``.../part``.

They change what a running ``chatpulse run`` reads, so they are guarded more than the read API.
:func:`refusal` (pure) decides, from the request headers alone, whether a request may act:

- **who**: with ``dashboard.control_token`` set, only ``Authorization: Bearer <token>``; without
  one, only when the dashboard is bound to a loopback address (then only programs on this
  machine reach it, and the app's Host check stops DNS rebinding);
- **not a web page elsewhere**: a browser lets any site send a "simple" cross-site POST (a form
  or a fetch without custom headers) to 127.0.0.1, but not one with a custom header without a
  CORS preflight, which this app never grants. So the header ``X-ChatPulse-Action: 1`` is
  required, and a request a browser marks as coming from another origin (``Origin`` naming
  another host or port, ``Sec-Fetch-Site`` other than same-origin) is refused as well.

Then the name is validated (400), and the :class:`~chatpulse.dashboard.control.ChannelControl`
acts: 501 when the server has no source (``chatpulse dashboard``), 409 when its source cannot
change channels (a replay, synthetic chat, EventSub), else 200 with the channels now read.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Final, Literal
from urllib.parse import urlsplit

from pydantic import SecretStr
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from chatpulse.dashboard import params
from chatpulse.dashboard.control import ChannelControl, ControlUnavailable

log = logging.getLogger(__name__)

ACTION_HEADER: Final = "X-ChatPulse-Action"
Action = Literal["join", "part"]


def refusal(headers: Mapping[str, str], *, loopback: bool, token: SecretStr | None) -> tuple[int, str] | None:
    """``(status, reason)`` when the request must not act, None when it may.

    ``headers`` is case-insensitive as Starlette's are (lower-case keys work for a plain dict).
    """
    if token is not None:
        scheme, _, given = headers.get("authorization", "").partition(" ")
        expected = token.get_secret_value().encode()
        # compare_digest: the time taken does not reveal how much of the token matched.
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected):
            return 401, "channel control needs the dashboard's control token (Authorization: Bearer ...)"
    elif not loopback:
        return 403, (
            "channel control is off: the dashboard listens beyond this machine and no "
            "dashboard.control_token is configured"
        )
    if headers.get(ACTION_HEADER.lower()) != "1":
        return 403, f"missing header {ACTION_HEADER}: 1 (refused as a possible cross-site request)"
    # Sec-Fetch-Site is set by browsers only; "same-site" includes other ports of this host.
    if headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        return 403, "cross-site request refused"
    origin = headers.get("origin")
    if origin is not None and urlsplit(origin).netloc.lower() != headers.get("host", "").lower():
        return 403, "cross-origin request refused"
    return None


def channel_action(
    control: ChannelControl | None, action: Action, *, loopback: bool, token: SecretStr | None
) -> Callable[[Request], Awaitable[Response]]:
    """The Starlette endpoint for one action. It runs on the event loop (not in a thread): the
    control calls into the source, which lives on that loop."""

    async def endpoint(request: Request) -> Response:
        refused = refusal(request.headers, loopback=loopback, token=token)
        if refused is not None:
            status, reason = refused
            extra = {"www-authenticate": "Bearer"} if status == 401 else None
            return JSONResponse({"error": reason}, status_code=status, headers=extra)
        try:
            channel = params.channel_name(request.path_params["name"])
        except params.BadRequest as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        if control is None:
            return JSONResponse(
                {"error": "this dashboard only reads a store and has no source to join channels with; "
                          "use the dashboard of `chatpulse run --channel NAME`"},
                status_code=501,
            )  # fmt: skip
        try:
            await (control.join if action == "join" else control.part)(channel)
        except ControlUnavailable as exc:
            return JSONResponse({"error": str(exc)}, status_code=409)
        log.info("dashboard API: %s #%s", action, channel)
        body = {"action": action, "channel": channel, "channels": list(control.channels())}
        return JSONResponse(body, headers={"cache-control": "no-store"})

    return endpoint


def control_status(
    control: ChannelControl | None, *, loopback: bool, token: SecretStr | None
) -> dict[str, object]:
    """``GET /api/control``: whether the page may offer join/part, and the channels read now."""
    if control is None:
        reason: str | None = "no live source: this dashboard only reads a store"
    elif token is None and not loopback:
        reason = "off: the dashboard listens beyond this machine and no control token is set"
    else:
        reason = control.refusal()
    return {
        "available": reason is None,
        "reason": reason,
        "token_required": token is not None,
        "channels": list(control.channels()) if control is not None else [],
    }
