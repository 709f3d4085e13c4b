"""HTTP API: GET /healthz (no auth, touches nothing)."""

import otter_common as c


@c.logged("http_health")
def handler(event, context, record):
    return c.http_response(200, {"status": "ok"})
