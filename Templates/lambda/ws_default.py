"""$default: any frame no route matched (not JSON, no action, unknown action)."""

import otter_common as c


@c.logged("ws_default")
def handler(event, context, record):
    me = event["requestContext"]["connectionId"]
    try:
        frame = c.parse_frame(event)
        action = frame["action"]
        err = c.OtterError("bad-message", f'unknown action "{action[:40]}"')
    except c.OtterError as e:
        err = e
    record["code"] = err.code
    c.post(event, me, c.ws_error(err.code, err.message))
    return c.ws_ok()
