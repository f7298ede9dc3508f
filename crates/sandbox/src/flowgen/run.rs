//! One run of the scripted FlowGen assistant: its steps, one [`Timing`](crate::Timing) step
//! apart, the wait for human input, and how it ends (completed, failed, aborted, or dropped
//! when the sandbox stops).

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use super::FlowGen;
use crate::script::{self, Reply};
use crate::state::Shared;

/// Why a run stopped before its end.
enum Interrupted {
    /// Aborted (or superseded, or its chat deleted).
    Aborted,
    /// The sandbox stops.
    Stopping,
}

/// Waits one step (a step too long to represent never ends), unless the run is interrupted.
async fn pause(service: &FlowGen, abort: &mut oneshot::Receiver<()>) -> Result<(), Interrupted> {
    let step = service.shared.config.timing.step;
    let sleep = async {
        match Shared::due(tokio::time::Instant::now(), step) {
            Some(due) => tokio::time::sleep_until(due).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        () = sleep => Ok(()),
        _ = abort => Err(Interrupted::Aborted),
        () = service.shared.stopped() => Err(Interrupted::Stopping),
    }
}

/// One run of the scripted assistant.
pub(super) async fn run(
    service: Arc<FlowGen>,
    id: String,
    generation: u64,
    message: String,
    input: mpsc::Receiver<String>,
    mut abort: oneshot::Receiver<()>,
) {
    let outcome = steps(&service, &id, generation, &message, input, &mut abort).await;
    let failed = if service.open_source() { "failed" } else { "error" };
    let (status, marker) = match outcome {
        Ok(None) => ("completed", "__STATUS_COMPLETED__ DONE".to_string()),
        Ok(Some(reason)) => (failed, format!("__STATUS_COMPLETED__ 1: Error: {reason}")),
        Err(Interrupted::Aborted) => ("aborted", "__STATUS_COMPLETED__ TERMINATED".to_string()),
        Err(Interrupted::Stopping) => return,
    };
    service.with_run(&id, generation, |chat| {
        service.record_message(chat, &marker, "assistant", "", "");
        service.set_status(chat, status);
        chat.run = None;
    });
}

/// The steps of a run; `Ok(Some(reason))` when the script fails it.
async fn steps(
    service: &FlowGen,
    id: &str,
    generation: u64,
    message: &str,
    mut input: mpsc::Receiver<String>,
    abort: &mut oneshot::Receiver<()>,
) -> Result<Option<String>, Interrupted> {
    pause(service, abort).await?;
    service.with_run(id, generation, |chat| {
        service.record_message(chat, message, "assistant", "user_proxy", "assistant")
    });
    pause(service, abort).await?;
    let answer = match script::reply(message) {
        Reply::Answer(answer) => answer,
        Reply::Fail(reason) => return Ok(Some(reason)),
        Reply::NeedsInput(prompt) => {
            service.with_run(id, generation, |chat| {
                let marker = format!("__STATUS_WAIT_FOR_HUMAN_INPUT__ {prompt}");
                service.record_message(chat, &marker, "assistant", "", "");
                service.set_status(chat, "wait_for_human_input");
            });
            let reply = tokio::select! {
                reply = input.recv() => reply.ok_or(Interrupted::Aborted)?,
                _ = &mut *abort => return Err(Interrupted::Aborted),
                () = service.shared.stopped() => return Err(Interrupted::Stopping),
            };
            service.with_run(id, generation, |chat| {
                let marker = format!("__STATUS_RECEIVED_HUMAN_INPUT__ {prompt}");
                service.record_message(chat, &marker, "assistant", "", "");
                service.set_status(chat, "running");
            });
            pause(service, abort).await?;
            script::after_input(message, &reply)
        }
    };
    service.with_run(id, generation, |chat| {
        service.record_message(chat, &answer, "assistant", "assistant", "user_proxy")
    });
    pause(service, abort).await?;
    Ok(None)
}
