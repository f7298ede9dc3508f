"""The official Pieces SDK (PyPI `pieces_os_client`), unchanged, against the sandbox:
create -> snapshot -> identifiers -> WebSocket -> delete."""
import json
import sys
import threading

import websocket
from pieces_os_client.api.conversations_api import ConversationsApi
from pieces_os_client.api_client import ApiClient
from pieces_os_client.configuration import Configuration
from pieces_os_client.models.seeded_conversation import SeededConversation
from pieces_os_client.models.streamed_identifiers import StreamedIdentifiers

base = sys.argv[1]
config = Configuration(host=base)
with ApiClient(config) as client:
    api = ConversationsApi(client)
    frames, first_frame, deletion = [], threading.Event(), threading.Event()

    def on_message(_ws, message):
        frame = StreamedIdentifiers.from_json(message)
        frames.append(frame)
        first_frame.set()
        if any(item.deleted for item in frame.iterable):
            deletion.set()

    ws = websocket.WebSocketApp(base.replace("http", "ws") + "/conversations/stream/identifiers", on_message=on_message)
    thread = threading.Thread(target=ws.run_forever, daemon=True)
    thread.start()
    assert first_frame.wait(10), "no first frame"

    created = api.conversations_create_specific_conversation(
        transferables=False, seeded_conversation=SeededConversation(name="Conformance", type="COPILOT")
    )
    snapshot = api.conversations_snapshot(transferables=True)
    assert created.id in [c.id for c in snapshot.iterable], "created conversation missing from the snapshot"
    identifiers = api.conversations_identifiers_snapshot()
    assert created.id in [c.id for c in identifiers.iterable]
    api.conversations_delete_specific_conversation(created.id)
    assert deletion.wait(10), "no deletion frame"
    ids = [item.conversation.id for frame in frames for item in frame.iterable if item.conversation]
    assert ids.count(created.id) == 2, f"expected an added and a deleted frame for {created.id}: {ids}"
    assert created.id not in [c.id for c in api.conversations_identifiers_snapshot().iterable]
    ws.close()
    print(f"pieces SDK: ok ({len(frames)} frames)")
