"""Container health check: GET $HEALTHCHECK_URL (default the metrics port's /healthz).

Docker runs this as the image's HEALTHCHECK; exit 0 = healthy, 1 = unhealthy (Docker's
convention). Standard library only, because the slim runtime image has no curl.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

DEFAULT_URL = "http://127.0.0.1:9100/healthz"


def main() -> int:
    url = os.environ.get("HEALTHCHECK_URL") or DEFAULT_URL
    if not url.startswith(("http://", "https://")):
        print(f"HEALTHCHECK_URL must be http(s), got {url!r}", file=sys.stderr)
        return 1
    try:
        with urllib.request.urlopen(url, timeout=4) as response:  # noqa: S310 (scheme checked above)
            ok = 200 <= response.status < 300
    except (urllib.error.URLError, OSError) as exc:
        print(f"unhealthy: {url}: {exc}", file=sys.stderr)
        return 1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
