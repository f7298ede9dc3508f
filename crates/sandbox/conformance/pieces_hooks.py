"""Schemathesis hooks for PiecesOS's own spec (tests/data/pieces-os/conversations.openapi.json).

Generating SeededConversation bodies from the full schema never finishes: its optional
`application`, `model`, `pipeline`, `anchors`, `annotations`, `assets` and `websites` pull in
most of the API, recursively. Request bodies of `conversations-create-specific-conversation`
are therefore generated from SeededConversation's own scalar fields, `schema` and `messages`
(SeededConversationMessage's `role`, `fragment.string`, `sentiment`), each through the upstream
definitions and closed enums unchanged. Every response is still checked against the full
upstream schemas. Load with SCHEMATHESIS_HOOKS=pieces_hooks."""
import copy

import schemathesis

CREATE = "/conversations/create"


@schemathesis.hook
def before_load_schema(context, raw_schema):
    operation = raw_schema.get("paths", {}).get(CREATE, {}).get("post")
    if operation is None:
        return
    schemas = raw_schema["components"]["schemas"]
    seeded = copy.deepcopy(schemas["SeededConversation"])
    seeded["properties"] = {k: v for k, v in seeded["properties"].items()
                            if k in {"type", "name", "favorited", "demo", "schema", "messages"}}
    message = copy.deepcopy(schemas["SeededConversationMessage"])
    message["properties"] = {k: v for k, v in message["properties"].items() if k in {"role", "fragment", "sentiment"}}
    message["properties"]["fragment"] = {"$ref": "#/components/schemas/GeneratedFragmentFormat"}
    fragment = copy.deepcopy(schemas["FragmentFormat"])
    fragment["properties"] = {"string": {"$ref": "#/components/schemas/GeneratedTransferableString"}}
    string = copy.deepcopy(schemas["TransferableString"])
    string["properties"] = {"raw": string["properties"]["raw"]}
    seeded["properties"]["messages"]["items"] = {"$ref": "#/components/schemas/GeneratedSeededConversationMessage"}
    seeded["properties"]["messages"]["maxItems"] = 3
    schemas["GeneratedSeededConversation"] = seeded
    schemas["GeneratedSeededConversationMessage"] = message
    schemas["GeneratedFragmentFormat"] = fragment
    schemas["GeneratedTransferableString"] = string
    body = operation["requestBody"]["content"]["application/json"]
    body["schema"] = {"$ref": "#/components/schemas/GeneratedSeededConversation"}
