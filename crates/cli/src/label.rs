//! Readable lines for what a service reports: FlowHunt events by what they mean (the tool and
//! what it does, the component changed), FlowGen statuses in words. `--json` keeps the raw
//! wire names; these are for people.

use flowhunt_api::types::FlowSessionEvent;

use crate::text::one_line;

/// Longest detail shown on an event line, in characters.
const MAX_DETAIL: usize = 160;

/// `text` on one line, cut to [`MAX_DETAIL`] characters.
fn short(text: &str) -> String {
    let line = one_line(text.trim());
    match line.char_indices().nth(MAX_DETAIL) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line.into_owned(),
    }
}

/// The line for a FlowHunt event, or `None` for events the outcome shows anyway (the user's
/// echo and the answer itself).
pub fn flowhunt_event(event: &FlowSessionEvent) -> Option<String> {
    let meta = |key: &str| {
        event
            .metadata
            .as_ref()
            .and_then(|m| m.get(key))
            .and_then(|v| v.as_str())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let action = event.action_type.to_string();
    let event_type = event.event_type.to_string();
    let first = |keys: &[&str]| keys.iter().find_map(|k| meta(k)).map(short);
    let component = || {
        first(&["component_display_name", "component_type", "component_id"])
            .or_else(|| event.component_name.as_deref().map(short))
            .unwrap_or_else(|| "a component".into())
    };
    let line = match action.as_str() {
        "message" if event_type == "ai" || event_type == "human" => return None,
        "loading" => format!(
            "… {}",
            first(&["loading_desc", "tool_name"]).unwrap_or_else(|| "working".into())
        ),
        "v3_flow_assistant_init" => format!(
            "… {}",
            first(&["message", "stage"]).unwrap_or_else(|| "starting".into())
        ),
        "v3_tool_call_start" => {
            let tool = first(&["tool_name"]).unwrap_or_else(|| "a tool".into());
            match first(&["action_description"]) {
                Some(what) => format!("→ {what} ({tool})"),
                None => format!("→ {tool}"),
            }
        }
        "v3_tool_call_end" | "tool_call" => {
            let tool = first(&["tool_name"]).unwrap_or_else(|| "a tool".into());
            let took = event
                .metadata
                .as_ref()
                .and_then(|m| m.get("duration_ms"))
                .and_then(|v| v.as_u64())
                .map(|ms| format!(" in {ms} ms"))
                .unwrap_or_default();
            format!("✓ {tool} done{took}")
        }
        "add_component" => format!("+ component {}", component()),
        "update_component" => format!("~ component {}", component()),
        "delete_component" => format!("- component {}", component()),
        "add_connection" | "connect_components" | "delete_connection" => {
            let ends = match (first(&["source_component_id"]), first(&["target_component_id"])) {
                (Some(from), Some(to)) => format!("{from} → {to}"),
                _ => event.component_name.as_deref().map(short).unwrap_or_default(),
            };
            let sign = if action == "delete_connection" { "-" } else { "+" };
            format!("{sign} connection {ends}")
        }
        "create_blank_flow" => format!("+ flow {}", first(&["flow_name"]).unwrap_or_default()),
        "hitl_approval_requested" => format!(
            "? approval asked for {}",
            first(&["tool_description", "tool_name"]).unwrap_or_else(|| "a tool".into())
        ),
        "hook_waiting_for_input" => format!(
            "? {}",
            first(&["prompt_message", "hook_name"]).unwrap_or_default()
        ),
        "integration_missing" => format!(
            "! connect {} at {}",
            first(&["slug"]).unwrap_or_else(|| "an integration".into()),
            first(&["integration_url"]).unwrap_or_default()
        ),
        "file_access_required" => format!(
            "! access needed to a {} document",
            first(&["document_type"]).unwrap_or_default()
        ),
        "failed" => format!("✗ failed: {}", first(&["message"]).unwrap_or_default()),
        "agent_initialized" => format!("… agent {} ready", first(&["agent_name"]).unwrap_or_default()),
        "subagent_prompt" => format!(
            "→ {}: {}",
            first(&["target_agent"]).unwrap_or_else(|| "an agent".into()),
            first(&["task"]).unwrap_or_default()
        ),
        "agent_cot" => format!("… {}", first(&["content"]).unwrap_or_else(|| "thinking".into())),
        "attachment" => format!("+ attachment {}", first(&["file_name"]).unwrap_or_default()),
        other => {
            let detail = first(&["message", "description", "tool_name"]).unwrap_or_default();
            format!(
                "· {}{}{detail}",
                short(&other.replace('_', " ")),
                if detail.is_empty() { "" } else { ": " }
            )
        }
    };
    Some(format!("  {}", line.trim_end()))
}

/// A FlowGen status in words (`wait_for_human_input` -> `waiting for input`).
pub fn flowgen_status(status: &str) -> String {
    match status {
        "wait_for_human_input" => "waiting for input".into(),
        other => one_line(&other.replace('_', " ")).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(action: &str, event_type: &str, metadata: serde_json::Value) -> FlowSessionEvent {
        serde_json::from_value(serde_json::json!({
            "workspace_id": "w", "session_id": "s", "event_id": "e", "event_type": event_type,
            "created_at_timestamp": "1", "action_type": action, "credits": 0, "metadata": metadata,
        }))
        .unwrap()
    }

    #[test]
    fn events_read_as_what_they_mean() {
        let start = event(
            "v3_tool_call_start",
            "flow_assistant_action",
            serde_json::json!({"tool_name": "search_docs", "agent_query": "{}", "action_description": "Searching the docs"}),
        );
        assert_eq!(
            flowhunt_event(&start).unwrap(),
            "  → Searching the docs (search_docs)"
        );
        let end = event(
            "v3_tool_call_end",
            "flow_assistant_action",
            serde_json::json!({"tool_name": "search_docs", "agent_query": "{}", "tool_response": "x", "duration_ms": 40}),
        );
        assert_eq!(flowhunt_event(&end).unwrap(), "  ✓ search_docs done in 40 ms");
        let added = event(
            "add_component",
            "flow_assistant_action",
            serde_json::json!({"action_id": "a", "component_id": "c1", "component_type": "ChatInput", "component_display_name": "Chat Input"}),
        );
        assert_eq!(flowhunt_event(&added).unwrap(), "  + component Chat Input");
        let answer = event(
            "message",
            "ai",
            serde_json::json!({"message_id": "m", "message": "hi"}),
        );
        assert_eq!(flowhunt_event(&answer), None, "the outcome shows it");
        let hostile = event(
            "loading",
            "ai",
            serde_json::json!({"loading_desc": "\u{1b}]0;x\u{7}"}),
        );
        assert!(!flowhunt_event(&hostile).unwrap().contains('\u{1b}'));
        let future = event(
            "brand_new_action",
            "system",
            serde_json::json!({"message": "hello"}),
        );
        assert_eq!(flowhunt_event(&future).unwrap(), "  · brand new action: hello");
    }

    #[test]
    fn statuses_are_words() {
        assert_eq!(flowgen_status("running"), "running");
        assert_eq!(flowgen_status("wait_for_human_input"), "waiting for input");
        assert_eq!(flowgen_status("bad\u{1b}[2J"), "bad\\u{1b}[2J");
    }
}
