"""Every kind of FlowHunt response the sandbox sends, validated by the official SDK's models
(PyPI `flowhunt` 3.19.1) in strict mode: sessions, invocations, every event kind with its
metadata variant, and every 422. Usage: flowhunt_models.py BASE_URL"""
import json
import sys
import time
import urllib.error
import urllib.request

from flowhunt.models.flow_session_event import FlowSessionEvent
from flowhunt.models.flow_session_hook_waiting_metadata import FlowSessionHookWaitingMetadata
from flowhunt.models.flow_session_invocation_response import FlowSessionInvocationResponse
from flowhunt.models.flow_session_loading_metadata import FlowSessionLoadingMetadata
from flowhunt.models.flow_session_message_metadata import FlowSessionMessageMetadata
from flowhunt.models.flow_session_response import FlowSessionResponse
from flowhunt.models.flow_session_v3_tool_call_end_metadata import FlowSessionV3ToolCallEndMetadata
from flowhunt.models.flow_session_v3_tool_call_start_metadata import FlowSessionV3ToolCallStartMetadata
from flowhunt.models.http_validation_error import HTTPValidationError
from flowhunt.models.validation_error import ValidationError
from flowhunt.models.system_message_metadata import SystemMessageMetadata

from strict import check

base = sys.argv[1]
# The metadata variant of each action type the sandbox emits (by the models' names and docs).
METADATA = {
    "message": FlowSessionMessageMetadata,
    "loading": FlowSessionLoadingMetadata,
    "v3_tool_call_start": FlowSessionV3ToolCallStartMetadata,
    "v3_tool_call_end": FlowSessionV3ToolCallEndMetadata,
    "hook_waiting_for_input": FlowSessionHookWaitingMetadata,
    "failed": SystemMessageMetadata,
}
TERMINAL = {"message", "hook_waiting_for_input", "failed"}
kinds = set()


def call(path, body=None, raw=None, token="sandbox-token"):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(base + path, data=data, method="POST")
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.headers.get_content_type(), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get_content_type(), error.read().decode()


def expect(status, answer, what):
    got, kind, text = answer
    assert got == status and kind == "application/json", f"{what}: {got} {kind} {text}"
    kinds.add(f"{status} {what}")
    return text


def check_422(text, what):
    """`loc` items are an anyOf wrapper (string or integer) that only the SDK's own decoding
    reads, so each item is validated strictly without `loc`, and `loc` by hand."""
    HTTPValidationError.from_json(text)
    body = json.loads(text)
    assert set(body) == {"detail"}, f"{what}: {body}"
    for item in body["detail"]:
        assert all(isinstance(part, (str, int)) for part in item["loc"]), f"{what}: {item}"
        check(ValidationError, {k: v for k, v in item.items() if k != "loc"} | {"loc": []}, what)


def check_event(event):
    body = {k: v for k, v in event.items() if k != "metadata"}
    what = f"event {event['event_type']}/{event['action_type']}"
    check(FlowSessionEvent, body, what)
    check(METADATA[event["action_type"]], event["metadata"], f"{what} metadata")
    FlowSessionEvent.from_json(json.dumps(event))  # the SDK's own decoding accepts it too
    kinds.add(what)


def session(welcome):
    text = expect(201, call("/v3/flow-assistants/create?workspace_id=ws", {"start_with_welcome_message": welcome}), "create")
    check(FlowSessionResponse, text, "create")
    return json.loads(text)["session_id"]


def reply(message, welcome=False):
    sid = session(welcome)
    text = expect(200, call(f"/v3/flow-assistants/{sid}/invoke", {"message": message}), "invoke")
    check(FlowSessionInvocationResponse, text, "invoke")
    created = json.loads(text)["created_at"]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        events = json.loads(expect(200, call(f"/v3/flow-assistants/{sid}/invocation_response/0"), "poll"))
        mine = [e for e in events if int(e["created_at_timestamp"]) >= int(created)]
        if any(e["action_type"] in TERMINAL and e["event_type"] != "human" for e in mine):
            for event in events:
                check_event(event)
            return sid
        time.sleep(0.05)
    raise AssertionError(f"no terminal event for {message!r}")


sid = reply("hello from the models check", welcome=True)
reply("this needs my approval")
reply("please [fail] now")

for what, answer in {
    "missing body": call("/v3/flow-assistants/create?workspace_id=ws"),
    "missing workspace_id": call("/v3/flow-assistants/create", {}),
    "invalid JSON": call("/v3/flow-assistants/create?workspace_id=ws", raw=b"{nope"),
    "unknown ai_model": call(f"/v3/flow-assistants/{sid}/invoke", {"message": "hi", "ai_model": "GPT-0"}),
    "missing message": call(f"/v3/flow-assistants/{sid}/invoke", {}),
    "wrong type": call(f"/v3/flow-assistants/{sid}/invoke", {"message": 3}),
    "bad timestamp": call(f"/v3/flow-assistants/{sid}/invocation_response/soon"),
}.items():
    check_422(expect(422, answer, what), what)
# FastAPI's HTTPException body has no SDK model: a detail string.
for status, what, answer in [
    (403, "no bearer", call("/v3/flow-assistants/create?workspace_id=ws", {}, token=None)),
    (404, "unknown session", call("/v3/flow-assistants/nope/invoke", {"message": "hi"})),
]:
    detail = json.loads(expect(status, answer, what))
    assert set(detail) == {"detail"} and isinstance(detail["detail"], str), f"{what}: {detail}"
print(f"flowhunt models (strict): ok ({len(kinds)} kinds: {', '.join(sorted(kinds))})")
