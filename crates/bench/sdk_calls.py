"""Times the official Python SDKs making sequential calls against a sandbox; prints JSON.

usage: sdk_calls.py BASE_URL CALLS
Calls: FlowHunt poll (flowhunt 3.19.1) and Pieces identifiers snapshot (pieces_os_client 5.0.1),
the same calls bench's `sdk` scenario makes with the Rust clients.
"""
import json
import sys
import time

import flowhunt
from pieces_os_client.api.conversations_api import ConversationsApi
from pieces_os_client.api_client import ApiClient
from pieces_os_client.configuration import Configuration

base, calls = sys.argv[1], int(sys.argv[2])
result = {}
with flowhunt.ApiClient(flowhunt.Configuration(host=base, access_token="bench")) as client:
    api = flowhunt.FlowAssistantV3Api(client)
    session = api.create_v3_flow_assistant_session("bench", flowhunt.FlowAssistantSessionCreateRequest())
    api.invoke_v3_flow_assistant_response(session.session_id, flowhunt.FlowAssistantInvokeRequest(message="bench"))
    start = time.perf_counter()
    for _ in range(calls):
        api.poll_v3_flow_assistant_response(session.session_id, "0")
    result["flowhunt_poll_per_s"] = calls / (time.perf_counter() - start)
with ApiClient(Configuration(host=base)) as client:
    api = ConversationsApi(client)
    start = time.perf_counter()
    for _ in range(calls):
        api.conversations_identifiers_snapshot()
    result["pieces_identifiers_per_s"] = calls / (time.perf_counter() - start)
print(json.dumps(result))
