"""$default: any frame no route matched (not JSON, no action, unknown action)."""

import otter_common as c
import otter_ws


@c.logged("ws_default")
def handler(event, context, record):
    me = event["requestContext"]["connectionId"]
    try:
        frame = otter_ws.parse_frame(event)
        action = frame["action"]
        err = c.OtterError("bad-message", c.message("unknown-action", action=action[:40]))
    except c.OtterError as e:
        err = e
    record["code"] = err.code
    otter_ws.post(event, me, otter_ws.ws_error(err.code, err.message))
    return otter_ws.ws_ok()
