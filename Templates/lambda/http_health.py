"""HTTP API: GET /healthz (no auth, touches nothing)."""

import otter_common as c
import otter_http


@c.logged("http_health")
def handler(event, context, record):
    return otter_http.http_response(200, {"status": "ok"})
