//! The Pieces adapter: helpers, and the change stream across dropped sockets and without one.

use std::time::Duration;

use assistants::{ConversationChange, Error, Pieces, PollPolicy, RetryPolicy, Settings};
use assistants_sandbox::{Faults, Sandbox};

use crate::next;

fn quick() -> Settings {
    Settings::default()
        .with_poll(PollPolicy::fixed(Duration::from_millis(1)))
        .with_retry(
            RetryPolicy::standard()
                .with_initial_delay(Duration::from_millis(1))
                .with_max_delay(Duration::from_millis(5)),
        )
}

fn pieces(base: &str) -> Pieces {
    Pieces::new(pieces_api::Client::with_base_url(base).unwrap(), quick())
}

#[tokio::test]
async fn helpers_create_list_and_delete() {
    let sandbox = Sandbox::start().await.unwrap();
    let p = pieces(&sandbox.base_url());
    let created = p.create("Notes").await.unwrap();
    assert_eq!(created.name.as_deref(), Some("Notes"));
    let from_asset = p
        .create_from_asset("2254f2c8-5797-40e8-ac56-41166dc0e159")
        .await
        .unwrap();
    assert_eq!(
        p.ids().await.unwrap(),
        vec![created.id.clone(), from_asset.id.clone()]
    );
    assert_eq!(p.list().await.unwrap().len(), 2);
    p.delete(&created.id).await.unwrap();
    let err = p.delete(&created.id).await.unwrap_err();
    assert_eq!(err.status(), Some(500));
    assert!(
        err.to_string().contains("was not found"),
        "the server's text is kept: {err}"
    );
    assert!(matches!(
        p.create_from_asset("not-a-uuid").await,
        Err(Error::InvalidArgument(_))
    ));
}

#[tokio::test(start_paused = true)]
async fn a_deletion_during_a_dropped_socket_is_still_reported() {
    let sandbox = Sandbox::builder()
        .faults(Faults {
            ws_drop_after: Some(2),
            ..Faults::default()
        })
        .start()
        .await
        .unwrap();
    let p = pieces(&sandbox.base_url());
    let a = p.create("A").await.unwrap().id;
    let mut changes = p.watch_conversations();
    assert_eq!(
        next(&mut changes).await.unwrap().unwrap(),
        ConversationChange::Added(a.clone())
    );
    let b = p.create("B").await.unwrap().id;
    assert_eq!(
        next(&mut changes).await.unwrap().unwrap(),
        ConversationChange::Added(b.clone())
    );
    // The socket has sent its two frames: the next change drops it, unseen.
    p.delete(&a).await.unwrap();
    assert_eq!(
        next(&mut changes).await.unwrap().unwrap(),
        ConversationChange::Removed(a)
    );
    assert_eq!(
        sandbox.requests_for("conversations_stream_identifiers"),
        2,
        "it reconnected once"
    );
    let c = p.create("C").await.unwrap().id;
    assert_eq!(
        next(&mut changes).await.unwrap().unwrap(),
        ConversationChange::Added(c)
    );
}

/// A sandbox that refuses every WebSocket: the stream polls the identifiers instead, on
/// virtual time.
#[tokio::test(start_paused = true)]
async fn without_a_socket_the_stream_polls_the_identifiers() {
    let sandbox = Sandbox::builder()
        .limits(assistants_sandbox::Limits::default().with_max_websockets(0))
        .start()
        .await
        .unwrap();
    let p = pieces(&sandbox.base_url());
    let (x, y) = (p.create("x").await.unwrap().id, p.create("y").await.unwrap().id);
    let mut changes = p.watch_conversations();
    let first = vec![
        next(&mut changes).await.unwrap().unwrap(),
        next(&mut changes).await.unwrap().unwrap(),
    ];
    assert!(
        first.contains(&ConversationChange::Added(x.clone()))
            && first.contains(&ConversationChange::Added(y)),
        "both listed conversations: {first:?}"
    );
    // One round so far: the refused socket, then one snapshot read.
    let round = |n: u64| [n, n];
    let rounds = |sandbox: &Sandbox| {
        [
            sandbox.requests_for("conversations_stream_identifiers"),
            sandbox.requests_for("conversations_identifiers_snapshot"),
        ]
    };
    assert_eq!(rounds(&sandbox), round(1));
    p.delete(&x).await.unwrap();
    let z = p.create("z").await.unwrap().id;
    assert_eq!(
        next(&mut changes).await.unwrap().unwrap(),
        ConversationChange::Removed(x)
    );
    assert_eq!(
        next(&mut changes).await.unwrap().unwrap(),
        ConversationChange::Added(z)
    );
    // One more round (socket refused, snapshot read) carries both changes: the stream keeps
    // trying the socket and reads the snapshot once per round, after its backoff.
    assert_eq!(rounds(&sandbox), round(2));
}

#[tokio::test]
async fn without_a_base_url_a_running_piecesos_is_found_on_its_ports() {
    // A port of PiecesOS' range that nothing else holds (another process may hold some).
    let mut listener = None;
    for port in pieces_api::DISCOVERY_PORTS {
        if let Ok(bound) = tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
            listener = Some(bound);
            break;
        }
    }
    let Some(listener) = listener else {
        panic!("every port of 39300-39333 is taken on this machine");
    };
    let sandbox = assistants_sandbox::Sandbox::on(listener, Default::default())
        .await
        .unwrap();
    let created = pieces(&sandbox.base_url()).create("found").await.unwrap();
    let client = assistants::Client::new(assistants::Config::default().with_settings(quick()));
    assert!(client.config().pieces_base_url.is_none(), "nothing configured");
    let ids = client.pieces().unwrap().ids().await.unwrap();
    assert!(
        ids.contains(&created.id),
        "the conversation of the PiecesOS found: {ids:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_watch_ends_at_its_deadline_when_the_server_never_answers() {
    // Accepts connections and never answers: neither the upgrade nor a snapshot ever comes.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            open.push(socket);
        }
    });
    let settings = quick().with_operation_timeout(Some(Duration::from_secs(5)));
    let watcher = Pieces::new(pieces_api::Client::with_base_url(&base).unwrap(), settings);
    let start = tokio::time::Instant::now();
    let mut changes = watcher.watch_conversations();
    let first = next(&mut changes).await.expect("an item");
    assert!(matches!(first, Err(Error::Deadline { .. })), "{first:?}");
    assert_eq!(
        start.elapsed(),
        Duration::from_secs(5),
        "at the deadline, not later"
    );
    assert!(
        next(&mut changes).await.is_none(),
        "the stream ends after its error"
    );
    held.abort();
}
