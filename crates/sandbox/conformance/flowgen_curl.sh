#!/usr/bin/env bash
# The FlowGen guide's curl flow, with its JSON made valid (the guide's body has a trailing comma),
# against the sandbox's documented contract: create, send, poll status, history, input, delete.
set -euo pipefail
base=$1
key=${FLOWGEN_API_KEY:-fg_sandbox_key}
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

chat=$(curl -sf --request POST --url "$base/chats" --header "X-API-KEY: $key" \
  --header 'Content-Type: application/json' \
  --data-raw '{"name": "My Chatbot", "from_type": "flow", "from_flow": "flow_id"}' | json "['id']")
curl -sf --request POST --url "$base/chats/$chat/messages" --header "X-API-KEY: $key" \
  --header 'Content-Type: application/json' --data-raw '{"message": "Hello, FlowGen! I need your approval."}' >/dev/null
status=""
for _ in $(seq 1 200); do
  status=$(curl -sf --request GET --url "$base/chats/$chat" --header "X-API-KEY: $key" | json "['status']")
  [ "$status" = "wait_for_human_input" ] && break
  sleep 0.05
done
[ "$status" = "wait_for_human_input" ] || { echo "status never reached wait_for_human_input: $status"; exit 1; }
curl -sf --request POST --url "$base/chats/$chat/input" --header "X-API-KEY: $key" \
  --header 'Content-Type: application/json' --data-raw '{"message": "Hello, FlowGen!"}' | grep -q "Input sent"
for _ in $(seq 1 200); do
  status=$(curl -sf --request GET --url "$base/chats/$chat" --header "X-API-KEY: $key" | json "['status']")
  [ "$status" = "completed" ] && break
  sleep 0.05
done
[ "$status" = "completed" ] || { echo "status never reached completed: $status"; exit 1; }
curl -sf --request GET --url "$base/chats/$chat/messages" --header "X-API-KEY: $key" \
  --header 'Content-Type: application/json' | grep -q "__STATUS_COMPLETED__ DONE"
curl -sf --request DELETE --url "$base/chats/$chat" --header "X-API-KEY: $key" | grep -q '"result":true'
echo "flowgen curl flow: ok (chat $chat)"
