"""Every kind of Pieces response the sandbox sends, validated by the official SDK's models
(PyPI `pieces_os_client` 5.0.1) in strict mode: conversations created empty, named, seeded with
messages and from an asset; snapshot, identifiers, one conversation, delete, the WebSocket's
frames, and the `500 text/plain` errors (unknown enum values included).
Usage: pieces_models.py BASE_URL"""
import json
import sys
import threading
import urllib.error
import urllib.request

import websocket
from pieces_os_client.models.conversation import Conversation
from pieces_os_client.models.conversations import Conversations
from pieces_os_client.models.conversations_create_from_asset_output import ConversationsCreateFromAssetOutput
from pieces_os_client.models.flattened_conversations import FlattenedConversations
from pieces_os_client.models.streamed_identifiers import StreamedIdentifiers

from strict import check

base = sys.argv[1]
ASSET = "2254f2c8-5797-40e8-ac56-41166dc0e159"  # the first of pieces::SEEDED_ASSETS
kinds = set()


def call(method, path, body=None, raw=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.headers.get_content_type(), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get_content_type(), error.read().decode()


def ok(model, answer, what):
    status, kind, text = answer
    assert status == 200 and kind == "application/json", f"{what}: {status} {kind} {text}"
    check(model, text, what)
    kinds.add(what)
    return json.loads(text)


frames, first = [], threading.Event()


def on_message(_ws, message):
    frames.append(message)
    first.set()


ws = websocket.WebSocketApp(base.replace("http", "ws") + "/conversations/stream/identifiers", on_message=on_message)
threading.Thread(target=ws.run_forever, daemon=True).start()
assert first.wait(10), "no first frame"

empty = ok(Conversation, call("POST", "/conversations/create"), "create without a body")
ok(Conversation, call("POST", "/conversations/create", {"name": "Named", "type": "COPILOT", "favorited": True}), "create named")
seeded = ok(Conversation, call("POST", "/conversations/create", {"type": "COPILOT", "messages": [
    {"role": "USER", "fragment": {"string": {"raw": "What does quicksort do?"}}},
    {"role": "ASSISTANT", "fragment": {"string": {"raw": "It sorts."}}, "sentiment": "LIKE"},
]}), "create seeded with messages")
assert len(seeded["messages"]["iterable"]) == 2, seeded
from_asset = ok(ConversationsCreateFromAssetOutput, call("POST", f"/conversations/create/from_asset/{ASSET}"), "create from asset")
for item in from_asset["conversation"]["reference"]["messages"]["iterable"]:
    message = item["reference"]
    missing = {"id", "created", "updated", "conversation", "role"} - set(message)
    assert not missing, f"a from-asset message lacks {missing}: {message}"
ok(Conversations, call("GET", "/conversations"), "snapshot")
ok(Conversations, call("GET", "/conversations?transferables=false"), "snapshot without transferables")
ok(FlattenedConversations, call("GET", "/conversations/identifiers"), "identifiers")
ok(Conversation, call("GET", f"/conversation/{seeded['id']}"), "one conversation")
status, _, text = call("POST", f"/conversations/{empty['id']}/delete")
assert status == 204 and text == "", f"delete: {status} {text}"
kinds.add("delete")
status, kind, _ = call("GET", "/.well-known/health")
assert status == 200 and kind == "text/plain", f"health: {status} {kind}"
kinds.add("health")

for what, answer in {
    "unknown conversation type": call("POST", "/conversations/create", {"type": "WIZARD"}),
    "UNKNOWN (the SDK's fallback) as a type": call("POST", "/conversations/create", {"type": "UNKNOWN"}),
    "unknown message role": call("POST", "/conversations/create", {"type": "COPILOT", "messages": [
        {"role": "ORACLE", "fragment": {"string": {"raw": "hi"}}}]}),
    "body not JSON": call("POST", "/conversations/create", raw=b"{nope"),
    "unknown asset": call("POST", "/conversations/create/from_asset/00000000-0000-4000-8000-000000000000"),
    "unknown conversation": call("GET", "/conversation/nope"),
    "delete unknown": call("POST", "/conversations/nope/delete"),
}.items():
    status, kind, text = answer
    assert status == 500 and kind == "text/plain" and text, f"{what}: {status} {kind} {text}"
    kinds.add(f"500 {what}")

ws.close()
for frame in frames:
    check(StreamedIdentifiers, frame, "identifiers frame")
kinds.add("identifiers frame")
snapshot = json.loads(call("GET", "/conversations")[2])
assert all(c["type"] == "COPILOT" for c in snapshot["iterable"]), "a rejected type was stored"
print(f"pieces models (strict): ok ({len(frames)} frames, {len(kinds)} kinds: {', '.join(sorted(kinds))})")
