#!/bin/bash
# Superset container start (docker-compose.yml, profile `superset`): upgrade the metadata DB,
# make sure the admin exists, import the ChatPulse bundle with the real connection URI, then
# hand over to the image's own server script. Every step is idempotent, so restarts are safe.
set -euo pipefail
: "${SUPERSET_ADMIN_USER:?}" "${SUPERSET_ADMIN_PASSWORD:?}" "${CHATPULSE_SUPERSET_URI:?}"
superset db upgrade
superset fab create-admin --username "$SUPERSET_ADMIN_USER" --password "$SUPERSET_ADMIN_PASSWORD" \
    --firstname Admin --lastname ChatPulse --email "${SUPERSET_ADMIN_EMAIL:-admin@localhost}" \
    || true  # already there after the first start
superset init
bundle="$(mktemp -d)/chatpulse_superset.zip"
# The URI carries the reader's password: it goes into this container's temporary copy only.
python /app/chatpulse/build_bundle.py --out "$bundle" --sqlalchemy-uri "$CHATPULSE_SUPERSET_URI" >/dev/null
superset import-dashboards --path "$bundle" --username "$SUPERSET_ADMIN_USER"
rm -f "$bundle"
exec /usr/bin/run-server.sh
