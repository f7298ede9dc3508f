"""The official FlowHunt SDK (PyPI `flowhunt`), unchanged, against the sandbox:
create session -> invoke -> poll until the answer."""
import sys
import time

import flowhunt

base = sys.argv[1]
config = flowhunt.Configuration(host=base, access_token="sandbox-token")
with flowhunt.ApiClient(config) as client:
    api = flowhunt.FlowAssistantV3Api(client)
    session = api.create_v3_flow_assistant_session(
        "ws-conformance", flowhunt.FlowAssistantSessionCreateRequest(start_with_welcome_message=True)
    )
    invocation = api.invoke_v3_flow_assistant_response(
        session.session_id, flowhunt.FlowAssistantInvokeRequest(message="hello from the official SDK")
    )
    cursor, seen, answer = invocation.created_at, set(), None
    deadline = time.monotonic() + 20
    while answer is None and time.monotonic() < deadline:
        for event in api.poll_v3_flow_assistant_response(session.session_id, cursor):
            if event.event_id in seen:
                continue
            seen.add(event.event_id)
            cursor = str(max(int(cursor), int(event.created_at_timestamp)))
            if event.event_type == "ai" and event.action_type == "message":
                answer = event.metadata.actual_instance.message
        time.sleep(0.05)
    expected = 'Answer to "hello from the official SDK": 5 words received.'
    assert answer == expected, f"unexpected answer {answer!r}"
    print(f"flowhunt SDK: ok ({len(seen)} events, answer {answer!r})")
