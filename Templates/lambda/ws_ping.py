"""ping -> pong (keeps idle gateways open)."""

import otter_common as c
import otter_ws


@c.logged("ws_ping")
def handler(event, context, record):
    me = event["requestContext"]["connectionId"]
    try:
        otter_ws.parse_frame(event)
        reply = {"type": "pong"}
    except c.OtterError as err:
        record["code"] = err.code
        reply = otter_ws.ws_error(err.code, err.message)
    otter_ws.post(event, me, reply)
    return otter_ws.ws_ok()
