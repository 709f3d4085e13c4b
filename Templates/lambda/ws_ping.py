"""ping -> pong (keeps idle gateways open)."""

import otter_common as c


@c.logged("ws_ping")
def handler(event, context, record):
    me = event["requestContext"]["connectionId"]
    try:
        c.parse_frame(event)
        reply = {"type": "pong"}
    except c.OtterError as err:
        record["code"] = err.code
        reply = c.ws_error(err.code, err.message)
    c.post(event, me, reply)
    return c.ws_ok()
