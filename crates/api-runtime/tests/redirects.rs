//! A hostile server answering with redirects: the key and the body never reach another origin,
//! a POST never becomes a GET, and no `Referer` is sent.

use assistants_api_runtime::redirect::{RefusalReason, refused};
use assistants_api_runtime::{Auth, Service};
use httpmock::MockServer;

const SERVICE: Service =
    Service::new("Test", "http://127.0.0.1:9", "TEST_BASE_URL").with_auth(Auth::Header {
        name: "x-api-key",
        env: "TEST_API_KEY",
    });

fn client(base: &str) -> reqwest::Client {
    SERVICE
        .http_client(base, Some(&"fg_secret_key".into()), reqwest::Client::builder())
        .unwrap()
        .1
}

#[tokio::test]
async fn a_redirect_to_another_origin_is_refused_naming_the_target() {
    let origin = MockServer::start_async().await;
    let elsewhere = MockServer::start_async().await;
    for status in [301, 302, 303, 307, 308] {
        let path = format!("/chats/{status}");
        let target = elsewhere.url(format!("/steal?workspace_id=w-{status}"));
        let redirect = origin
            .mock_async(|when, then| {
                when.path(&path);
                then.status(status).header("location", &target);
            })
            .await;
        let stolen = elsewhere.mock_async(|when, _| {
            when.any_request();
        });
        let stolen = stolen.await;
        let error = client(&origin.base_url())
            .post(origin.url(&path))
            .body(r#"{"message":"private"}"#)
            .send()
            .await
            .unwrap_err();
        redirect.assert_async().await;
        assert_eq!(
            stolen.calls_async().await,
            0,
            "{status}: the other origin was contacted"
        );
        let why = refused(&error).unwrap_or_else(|| panic!("{status}: not a refused redirect: {error:?}"));
        assert_eq!(why.reason, RefusalReason::OtherOrigin);
        assert_eq!(why.status, status);
        assert_eq!(
            why.target,
            elsewhere.url("/steal"),
            "the target is named, without its query"
        );
        let shown = format!("{error} {:?}", why);
        assert!(!shown.contains("fg_secret_key"), "{shown}");
        stolen.delete_async().await;
    }
}

#[tokio::test]
async fn a_post_never_becomes_a_get() {
    let server = MockServer::start_async().await;
    for status in [301, 302, 303] {
        let from = format!("/invoke/{status}");
        let to = format!("/elsewhere/{status}");
        let location = server.url(&to);
        server
            .mock_async(|when, then| {
                when.method("POST").path(&from);
                then.status(status).header("location", &location);
            })
            .await;
        let followed = server
            .mock_async(|when, then| {
                when.path(&to);
                then.status(200).body("[]");
            })
            .await;
        let error = client(&server.base_url())
            .post(server.url(&from))
            .body("{}")
            .send()
            .await
            .unwrap_err();
        assert_eq!(followed.calls_async().await, 0, "{status} was followed");
        let why = refused(&error).unwrap_or_else(|| panic!("{status}: {error:?}"));
        assert_eq!(why.reason, RefusalReason::ChangesMethod);
        assert!(error.to_string().contains("redirect"), "{error}");
    }
}

#[tokio::test]
async fn same_origin_307_is_followed_with_its_body_and_without_a_referer() {
    let server = MockServer::start_async().await;
    let location = server.url("/v2/chats?workspace_id=w");
    server
        .mock_async(|when, then| {
            when.method("POST").path("/chats");
            then.status(307).header("location", &location);
        })
        .await;
    let with_referer = server
        .mock_async(|when, then| {
            when.path("/v2/chats").header_exists("referer");
            then.status(500);
        })
        .await;
    let moved = server
        .mock_async(|when, then| {
            when.method("POST")
                .path("/v2/chats")
                .header("x-api-key", "fg_secret_key")
                .body("{\"name\":\"n\"}")
                .header_missing("referer");
            then.status(201).body("{}");
        })
        .await;
    let response = client(&server.base_url())
        .post(server.url("/chats?workspace_id=w"))
        .body("{\"name\":\"n\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    moved.assert_async().await;
    assert_eq!(with_referer.calls_async().await, 0);
}

/// `/{name}/0` redirects to `/{name}/1` and so on: `hops` redirects, then an answer.
async fn chain(server: &MockServer, name: &str, hops: usize) -> String {
    for n in 0..=hops {
        let path = format!("/{name}/{n}");
        let next = server.url(format!("/{name}/{}", n + 1));
        server
            .mock_async(|when, then| {
                when.path(&path);
                if n < hops {
                    then.status(307).header("location", &next);
                } else {
                    then.status(200).body("arrived");
                }
            })
            .await;
    }
    server.url(format!("/{name}/0"))
}

#[tokio::test]
async fn exactly_max_redirects_are_followed() {
    use assistants_api_runtime::redirect::MAX_REDIRECTS;
    let server = MockServer::start_async().await;
    let client = client(&server.base_url());
    let within = chain(&server, "within", MAX_REDIRECTS).await;
    let response = client.get(within).send().await.unwrap();
    assert_eq!(response.text().await.unwrap(), "arrived");
    let beyond = chain(&server, "beyond", MAX_REDIRECTS + 1).await;
    let error = client.get(beyond).send().await.unwrap_err();
    assert_eq!(refused(&error).map(|r| r.reason), Some(RefusalReason::TooMany));
}

#[tokio::test]
async fn a_redirect_loop_ends() {
    let server = MockServer::start_async().await;
    let location = server.url("/loop");
    server
        .mock_async(|when, then| {
            when.path("/loop");
            then.status(307).header("location", &location);
        })
        .await;
    let send = client(&server.base_url()).get(server.url("/loop")).send();
    let error = tokio::time::timeout(std::time::Duration::from_secs(10), send)
        .await
        .expect("the redirect loop never ended")
        .unwrap_err();
    assert_eq!(refused(&error).map(|r| r.reason), Some(RefusalReason::TooMany));
}
