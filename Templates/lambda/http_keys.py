"""HTTP API: POST /keys/rotate (x-api-key). A new random key; only its SHA-256
is stored (conditionally on the old hash, so two rotations cannot both win);
the key is returned once and the old one is refused from then on."""

from botocore.exceptions import ClientError

import otter_common as c
import otter_http
import otter_store
import otter_tokens


@c.logged("http_keys")
def handler(event, context, record):
    try:
        presented = otter_http.require_api_key(event)
        new_key = otter_tokens.new_api_key()
        try:
            otter_store.table("CONFIG_TABLE").update_item(
                Key={"id": "apiKey"},
                UpdateExpression="SET #h = :new, rotatedAt = :t",
                ConditionExpression="#h = :old",
                ExpressionAttributeNames={"#h": "hash"},
                ExpressionAttributeValues={":new": otter_tokens.hash_api_key(new_key),
                                           ":old": otter_tokens.hash_api_key(presented), ":t": int(c.now())},
            )
        except ClientError as exc:
            if otter_store.is_conditional_failure(exc):
                raise c.OtterError("unauthorized", c.message("api-key-invalid"), 401) from None
            raise
    except c.OtterError as err:
        record["code"] = err.code
        return otter_http.error_response(err)
    record["rotated"] = True
    return otter_http.http_response(200, {"apiKey": new_key})
