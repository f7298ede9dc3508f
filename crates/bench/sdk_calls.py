"""Times the official Python SDKs making sequential calls against a sandbox; prints JSON.

usage: sdk_calls.py BASE_URL CALLS [ROUNDS]
Calls: FlowHunt poll (flowhunt 3.19.1) and Pieces identifiers snapshot (pieces_os_client 5.0.1),
the same calls bench's `sdk` scenario makes with the Rust clients, measured the same way: a
warm-up call, then the best of ROUNDS rounds of CALLS sequential calls. The scenario runs it
with ROUNDS=1 once per round, between its own rounds, so both sides sample the same load.
"""
import json
import sys
import time

import flowhunt
from pieces_os_client.api.conversations_api import ConversationsApi
from pieces_os_client.api_client import ApiClient
from pieces_os_client.configuration import Configuration

base, calls = sys.argv[1], int(sys.argv[2])
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 1


def best_rate(call):
    call()  # warm-up: connection set-up
    best = 0.0
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            call()
        best = max(best, calls / (time.perf_counter() - start))
    return best


result = {}
with flowhunt.ApiClient(flowhunt.Configuration(host=base, access_token="bench")) as client:
    api = flowhunt.FlowAssistantV3Api(client)
    session = api.create_v3_flow_assistant_session("bench", flowhunt.FlowAssistantSessionCreateRequest())
    api.invoke_v3_flow_assistant_response(session.session_id, flowhunt.FlowAssistantInvokeRequest(message="bench"))
    result["flowhunt_poll_per_s"] = best_rate(lambda: api.poll_v3_flow_assistant_response(session.session_id, "0"))
with ApiClient(Configuration(host=base)) as client:
    api = ConversationsApi(client)
    result["pieces_identifiers_per_s"] = best_rate(api.conversations_identifiers_snapshot)
print(json.dumps(result))
