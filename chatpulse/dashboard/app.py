"""The dashboard web app (Starlette, ASGI): the page, its static files and the JSON API.

``create_app(store, status=..., channel_control=...)`` is called by ``chatpulse run`` (which
also feeds the store and passes a control over its source) and by ``chatpulse dashboard`` (an
existing store, no source). Every ``GET /api/...`` handler validates its query parameters
(:mod:`chatpulse.dashboard.params`; bad input -> 400 with a one-line reason, before any query),
runs parameterized SQL from :mod:`chatpulse.dashboard.queries` and
:mod:`chatpulse.store.queries` in a worker thread (the store's calls block) and answers JSON. A
failing store answers 503; the page keeps polling. ``POST /api/channels/{name}/join|part``
changes the running source's channels (:mod:`chatpulse.dashboard.actions` says who may).

plotly.js is served from the installed ``plotly`` Python package, so the page works offline and
nothing is copied into this repository or fetched from a CDN.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any, Final

from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chatpulse.dashboard import actions, event_buckets, params, queries, shape, window_hints
from chatpulse.dashboard.control import ChannelControl
from chatpulse.dashboard.streams_api import StreamsApi
from chatpulse.errors import StoreError
from chatpulse.recap.html import page_file
from chatpulse.store import Store
from chatpulse.store import queries as shared

log = logging.getLogger(__name__)

STATIC_DIR: Final = Path(__file__).with_name("static")
DEFAULT_CHANNELS: Final = 4  # channels shown when a request names none: the busiest ones
LOOPBACK_HOSTS: Final = ("127.0.0.1", "localhost", "::1", "[::1]")
# The page loads scripts and styles only from this app; emote images come from the emote CDNs.
CONTENT_SECURITY_POLICY: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: https://static-cdn.jtvnw.net https://cdn.7tv.app "
    "https://cdn.betterttv.net https://cdn.frankerfacez.com; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)

RECAP_ASSETS: Final = frozenset({"recap.js", "recap.css"})

StatusFn = Callable[[], Mapping[str, Any] | None]


def plotly_js_path() -> Path:
    """plotly.min.js as shipped inside the ``plotly`` package (``package_data/plotly.min.js``)."""
    path = Path(str(resources.files("plotly") / "package_data" / "plotly.min.js"))
    if not path.is_file():
        raise FileNotFoundError(f"plotly.min.js not found at {path}; reinstall the plotly package")
    return path


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class SecurityHeaders:
    """Adds CSP and friends to every response (pure ASGI: no buffering of bodies)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"DENY"),
                ]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class DashboardApi:
    """The ``/api`` handlers over one store. Pure request -> JSON logic; Starlette only routes."""

    def __init__(self, store: Store, status: StatusFn | None, clock: Callable[[], int]) -> None:
        self.store = store
        self.status = status
        self.clock = clock

    # -- shared ---------------------------------------------------------------------------------

    def _scope(
        self, query: Mapping[str, str], channel_values: list[str]
    ) -> tuple[queries.Scope, shape.Resolved]:
        window = params.window(query)
        channels = params.channels(channel_values)
        if not channels:
            busiest = shared.channels(self.store, DEFAULT_CHANNELS)
            channels = tuple(row["channel"] for row in busiest)
        latest = shared.latest_message_ms(self.store, *channels) if channels else None
        resolved = shape.resolve(window, latest, self.clock())
        return queries.Scope(channels, resolved.from_ms, resolved.to_ms), resolved

    # -- endpoints ------------------------------------------------------------------------------

    def channels(self, query: Mapping[str, str], channel_values: list[str]) -> dict[str, Any]:
        params.known_only(query, frozenset({"limit"}))
        limit = params.integer(query, "limit", 500, 1, 5000)
        rows = shared.channels(self.store, limit)
        return {
            "now": self.clock(),
            "channels": [
                {
                    "channel": r["channel"],
                    "messages": int(r["messages"]),
                    "last_minute": int(r["last_minute"]),
                }
                for r in rows
            ],
        }

    def overview(self, query: Mapping[str, str], channel_values: list[str]) -> dict[str, Any]:
        params.known_only(query, frozenset({"channel", "range", "from", "to", "min_confidence"}))
        floor = _min_confidence(query)
        scope, resolved = self._scope(query, channel_values)
        per_channel = queries.totals(self.store, scope, floor) if scope.channels else []
        overall = queries.overall(self.store, scope, floor) if scope.channels else None
        with_messages = [r["channel"] for r in per_channel if int(r["messages"])]
        return {
            "window": resolved.as_json(),
            "channels": list(scope.channels),
            "totals": _totals_json(overall),
            "per_channel": [{"channel": r["channel"], **_totals_json(r)} for r in per_channel],
            "quiet": window_hints.quiet_channels(self.store, scope.channels, with_messages, scope.from_ms),
        }

    def series(self, query: Mapping[str, str], channel_values: list[str]) -> dict[str, Any]:
        params.known_only(query, frozenset({"channel", "range", "from", "to", "min_confidence"}))
        floor = _min_confidence(query)
        scope, resolved = self._scope(query, channel_values)
        rows = queries.series(self.store, scope, resolved.bucket_s, floor) if scope.channels else []
        return {
            "window": resolved.as_json(),
            "channels": list(scope.channels),
            "series": [_series_row(r) for r in rows],
        }

    def emotes(self, query: Mapping[str, str], channel_values: list[str]) -> dict[str, Any]:
        params.known_only(query, frozenset({"channel", "range", "from", "to", "limit"}))
        limit = params.integer(query, "limit", 10, 1, 100)
        scope, resolved = self._scope(query, channel_values)
        rows = queries.top_emotes(self.store, scope, limit) if scope.channels else []
        return {"window": resolved.as_json(), "emotes": [shape.emote_json(r) for r in rows]}

    def chatters(self, query: Mapping[str, str], channel_values: list[str]) -> dict[str, Any]:
        params.known_only(query, frozenset({"channel", "range", "from", "to", "limit"}))
        limit = params.integer(query, "limit", 10, 1, 100)
        scope, resolved = self._scope(query, channel_values)
        rows = queries.top_chatters(self.store, scope, limit) if scope.channels else []
        return {
            "window": resolved.as_json(),
            "chatters": [
                {"channel": r["channel"], "user_login": r["user_login"], "user_name": r["user_name"],
                 "messages": int(r["messages"]), "mean_score": shape.score(r["mean_score"])}
                for r in rows
            ],
        }  # fmt: skip

    def events(self, query: Mapping[str, str], channel_values: list[str]) -> dict[str, Any]:
        params.known_only(query, frozenset({"channel", "range", "from", "to", "limit"}))
        limit = params.integer(query, "limit", 200, 1, 2000)
        scope, resolved = self._scope(query, channel_values)
        if not scope.channels:
            return {"window": resolved.as_json(), "events": [], "total": 0, "bucketed": False}
        # Every event of the window: one by one while they fit the limit, else counted per
        # chart bucket and type (a busy hour is thousands of timeouts and deletions).
        total = event_buckets.count(self.store, scope)
        if total > limit:
            items = event_buckets.buckets(self.store, scope, resolved.bucket_s)
            return {"window": resolved.as_json(), "events": items, "total": total, "bucketed": True}
        rows = queries.timeline_events(self.store, scope, limit)
        bits = queries.cheers(self.store, scope, limit)
        items = shape.timeline(rows, bits)[-limit:]
        return {"window": resolved.as_json(), "events": items, "total": total, "bucketed": False}

    def hype(self, query: Mapping[str, str], channel_values: list[str]) -> dict[str, Any]:
        """The strongest hype minutes: the detector and minute counts of ``chatpulse report``
        (:func:`chatpulse.store.queries.hype_moments_by_channel`), whatever the chart buckets."""
        params.known_only(query, frozenset({"channel", "range", "from", "to", "limit"}))
        limit = params.integer(query, "limit", 5, 1, 100)
        scope, resolved = self._scope(query, channel_values)
        found = (
            shared.hype_moments_by_channel(self.store, scope.channels, scope.from_ms, scope.to_ms)
            if scope.channels
            else {}
        )
        moments = []
        for channel, moment in shape.strongest_moments(found, limit):
            minute = queries.Scope((channel,), moment.minute, moment.minute + shared.MINUTE_MS)
            top = queries.bucket_top_messages(self.store, minute, 3)
            emotes = queries.top_emotes(self.store, minute, 5)
            mood = queries.overall(self.store, minute)["mean_score"]
            moments.append(
                {
                    **shape.hype_json(channel, moment), "mean_score": shape.score(mood),
                    "top_messages": [{"text": r["text"], "count": int(r["count"])} for r in top],
                    "top_emotes": [shape.emote_json(r) for r in emotes],
                }
            )  # fmt: skip
        return {
            "window": resolved.as_json(),
            "bucket_s": shared.MINUTE_MS // 1000,
            "found": sum(len(m) for m in found.values()),
            "moments": moments,
        }

    def feed(self, query: Mapping[str, str], channel_values: list[str]) -> dict[str, Any]:
        params.known_only(query, frozenset({"channel", "range", "from", "to", "limit", "after"}))
        limit = params.integer(query, "limit", 50, 1, 500)
        after = params.cursor(query.get("after"))
        scope, resolved = self._scope(query, channel_values)
        rows = queries.feed(self.store, scope, after, limit) if scope.channels else []
        return {
            "window": resolved.as_json(),
            "messages": [
                {"t": int(r["t"]), "id": r["id"], "channel": r["channel"], "user_login": r["user_login"],
                 "user_name": r["user_name"], "color": r["color"] or None, "text": r["text"],
                 "label": r["label"] or None, "score": shape.score(r["score"]),
                 "cursor": f"{int(r['t'])}:{r['id']}"}
                for r in rows
            ],
        }  # fmt: skip

    def pipeline_status(self, query: Mapping[str, str], channel_values: list[str]) -> dict[str, Any]:
        params.known_only(query, frozenset())
        return {"now": self.clock(), "pipeline": dict(self.status() or {}) if self.status else None}


_TOTAL_FIELDS: Final = ("messages", "chatters", "positive", "neutral", "negative", "bits", "deleted")


def _min_confidence(query: Mapping[str, str]) -> float:
    """``min_confidence=0..100`` (percent, default 0): mood figures (positive/neutral/negative,
    mean score) leave out verdicts the analyzer was less sure of; message counts keep them."""
    return params.integer(query, "min_confidence", 0, 0, 100) / 100


def _totals_json(row: Mapping[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {name: int(row[name]) if row else 0 for name in _TOTAL_FIELDS}
    out["mean_score"] = shape.score(row["mean_score"]) if row else None
    return out


def _series_row(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "channel": row["channel"], "t": int(row["t"]), "messages": int(row["messages"]),
        "chatters": int(row["chatters"]), "positive": int(row["positive"]),
        "neutral": int(row["neutral"]), "negative": int(row["negative"]),
        "mean_score": shape.score(row["mean_score"]),
    }  # fmt: skip


Handler = Callable[[Mapping[str, str], list[str]], dict[str, Any]]


def _endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        query = dict(request.query_params)
        channel_values = request.query_params.getlist("channel")
        try:
            body = await run_in_threadpool(handler, query, channel_values)
        except params.BadRequest as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except StoreError:
            log.warning("dashboard query failed on %s", request.url.path, exc_info=True)
            return JSONResponse({"error": "the store could not answer; see the server log"}, status_code=503)
        return JSONResponse(body, headers={"cache-control": "no-store"})

    return endpoint


def create_app(
    store: Store,
    status: StatusFn | None = None,
    host: str = "127.0.0.1",
    clock: Callable[[], int] = now_ms,
    channel_control: ChannelControl | None = None,
    control_token: SecretStr | None = None,
    streams_gap_minutes: float = 30.0,
) -> Starlette:
    """The dashboard app over ``store``; ``status`` feeds ``/api/status`` and ``channel_control``
    the join/part endpoints (``run`` passes both; without a control those answer 501).

    Bound to a loopback address, the app also rejects requests whose Host header names another
    host, so a web page elsewhere cannot reach it through DNS rebinding. Join/part also need a
    loopback bind or ``control_token`` (see :mod:`chatpulse.dashboard.actions`).
    """
    api = DashboardApi(store, status, clock)
    streams_api = StreamsApi(store, streams_gap_minutes, clock)  # the streams view
    loopback = host in LOOPBACK_HOSTS
    plotly_js = plotly_js_path()

    async def index(request: Request) -> Response:
        return FileResponse(STATIC_DIR / "index.html", headers={"cache-control": "no-cache"})

    async def recap_asset(request: Request) -> Response:
        # The recap's script and styles, shared with the offline recap file.
        name = request.path_params["name"]
        if name not in RECAP_ASSETS:
            return JSONResponse({"error": "not found"}, status_code=404)
        media = "text/javascript" if name.endswith(".js") else "text/css"
        return Response(page_file(name), media_type=media, headers={"cache-control": "no-cache"})

    async def plotly(request: Request) -> Response:
        return FileResponse(
            plotly_js, media_type="text/javascript", headers={"cache-control": "max-age=86400"}
        )

    routes = [
        Route("/", index),
        Route("/vendor/plotly.min.js", plotly),
        Route("/vendor/{name:str}", recap_asset),
        Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    handlers: dict[str, Handler] = {
        "channels": api.channels, "overview": api.overview, "series": api.series, "emotes": api.emotes,
        "chatters": api.chatters, "events": api.events, "hype": api.hype, "feed": api.feed,
        "status": api.pipeline_status, "streams": streams_api.streams, "recap": streams_api.recap,
    }  # fmt: skip
    routes += [Route(f"/api/{name}", _endpoint(handler)) for name, handler in handlers.items()]

    async def control(request: Request) -> Response:
        body = actions.control_status(channel_control, loopback=loopback, token=control_token)
        return JSONResponse(body, headers={"cache-control": "no-store"})

    routes.append(Route("/api/control", control))
    routes += [
        Route(
            f"/api/channels/{{name}}/{action}",
            actions.channel_action(channel_control, action, loopback=loopback, token=control_token),
            methods=["POST"],
        )
        for action in ("join", "part")
    ]
    middleware = [Middleware(SecurityHeaders)]
    if loopback:
        middleware.append(
            Middleware(TrustedHostMiddleware, allowed_hosts=["127.0.0.1", "localhost", "::1", "[::1]"])
        )
    return Starlette(routes=routes, middleware=middleware)


__all__ = ["DashboardApi", "create_app", "plotly_js_path"]
