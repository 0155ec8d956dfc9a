//! The oidc auth-provider against an in-process OpenID provider on loopback:
//! discovery, the refresh-token grant, both ways of sending client
//! credentials, rotation of the refresh token, and failures.

use std::sync::{Arc, Mutex};

use base64::Engine;
use tokio::net::TcpListener;

use super::*;

use super::super::loopback::{Handler, Seen, serve as provider};

/// An unsigned JWT expiring at `exp` (seconds since the epoch), or never.
fn jwt(exp: Option<i64>, marker: &str) -> String {
    let encode = |v: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let claims = match exp {
        Some(exp) => serde_json::json!({"sub": marker, "exp": exp}),
        None => serde_json::json!({"sub": marker}),
    };
    format!(
        "{}.{}.c2lnbmF0dXJl",
        encode(serde_json::json!({"alg": "RS256"})),
        encode(claims)
    )
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

fn config(issuer: &str, id_token: &str, refresh_token: Option<&str>) -> HashMap<String, String> {
    let mut config = HashMap::from([
        (ID_TOKEN.to_string(), id_token.to_string()),
        (CLIENT_ID.to_string(), "kube-app".to_string()),
        (CLIENT_SECRET.to_string(), "s3cr3t+/".to_string()),
        (ISSUER_URL.to_string(), format!("{issuer}/")),
    ]);
    if let Some(refresh_token) = refresh_token {
        config.insert(REFRESH_TOKEN.to_string(), refresh_token.to_string());
    }
    config
}

/// A provider whose token endpoint accepts `accept` (a predicate on the
/// request) and answers with a new ID token and a rotated refresh token.
fn issuing(fresh: String, accept: fn(&Seen) -> bool) -> Handler {
    Arc::new(
        move |request: &Seen, base: &str| {
            match request.path.as_str() {
        "/.well-known/openid-configuration" => (
            200,
            serde_json::json!({"issuer": base, "token_endpoint": format!("{base}/token")})
                .to_string(),
        ),
        "/token" if accept(request) => (
            200,
            serde_json::json!({"id_token": fresh, "refresh_token": "rt-2", "token_type": "Bearer"})
                .to_string(),
        ),
        "/token" => (401, r#"{"error":"invalid_client"}"#.to_string()),
        _ => (404, "{}".to_string()),
    }
        },
    )
}

fn bearer(value: &HeaderValue) -> String {
    value
        .to_str()
        .expect("ASCII")
        .trim_start_matches("Bearer ")
        .to_string()
}

#[tokio::test]
async fn a_valid_token_is_used_without_asking_the_provider() {
    let (issuer, seen) = provider(issuing(jwt(None, "new"), |_| true)).await;
    let current = jwt(Some(now() + 3600), "current");
    let oidc = Oidc::new(&config(&issuer, &current, Some("rt-1"))).expect("valid");
    let header = oidc.authorization().await.expect("a token");
    assert_eq!(bearer(&header), current);
    assert!(header.is_sensitive());
    let never = jwt(None, "forever");
    let oidc = Oidc::new(&config(&issuer, &never, None)).expect("valid");
    assert_eq!(bearer(&oidc.authorization().await.expect("a token")), never);
    assert!(seen.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn an_expired_token_is_refreshed_and_the_new_refresh_token_kept() {
    let fresh = jwt(Some(now() + 3600), "fresh");
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("kube-app:s3cr3t%2B%2F")
    );
    let expected = basic.clone();
    let accept_basic: fn(&Seen) -> bool = |request| {
        request
            .authorization
            .as_deref()
            .is_some_and(|a| a.starts_with("Basic "))
    };
    let (issuer, seen) = provider(issuing(fresh.clone(), accept_basic)).await;
    let expired = jwt(Some(now() - 60), "old");
    let oidc = Oidc::new(&config(&issuer, &expired, Some("rt-1"))).expect("valid");
    assert_eq!(
        bearer(&oidc.authorization().await.expect("refreshed")),
        fresh
    );
    // Still valid: no second refresh.
    assert_eq!(bearer(&oidc.authorization().await.expect("cached")), fresh);
    {
        let seen = seen.lock().expect("lock");
        let paths: Vec<&str> = seen.iter().map(|s| s.path.as_str()).collect();
        assert_eq!(paths, ["/.well-known/openid-configuration", "/token"]);
        let token = &seen[1];
        assert_eq!(token.authorization.as_deref(), Some(expected.as_str()));
        assert_eq!(token.body, "grant_type=refresh_token&refresh_token=rt-1");
    }
    // Refused by the apiserver: refreshed again, with the rotated token.
    oidc.invalidate();
    oidc.authorization().await.expect("refreshed again");
    let seen = seen.lock().expect("lock");
    assert_eq!(seen.len(), 4);
    assert_eq!(seen[3].body, "grant_type=refresh_token&refresh_token=rt-2");
}

#[tokio::test]
async fn a_refusal_while_another_request_holds_the_tokens_is_not_lost() {
    let fresh = jwt(Some(now() + 3600), "fresh");
    let (issuer, seen) = provider(issuing(fresh.clone(), |_| true)).await;
    let current = jwt(Some(now() + 3600), "current");
    let oidc = Oidc::new(&config(&issuer, &current, Some("rt-1"))).expect("valid");
    {
        // Another request is reading (or refreshing) the token right now.
        let _busy = oidc.tokens.lock().await;
        oidc.invalidate();
    }
    assert_eq!(
        bearer(&oidc.authorization().await.expect("refreshed")),
        fresh,
        "the refused token is not sent again"
    );
    assert_eq!(seen.lock().expect("lock").len(), 2, "one refresh");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_of_the_token_an_ongoing_refresh_replaces_refreshes_once() {
    let fresh = jwt(Some(now() + 3600), "fresh");
    let gate = Arc::new((Mutex::new(false), std::sync::Condvar::new()));
    let held = gate.clone();
    let answer = issuing(fresh.clone(), |_| true);
    // The token endpoint answers only once the test opens the gate.
    let (issuer, seen) = provider(Arc::new(move |request: &Seen, base: &str| {
        if request.path == "/token" {
            let (open, opened) = &*held;
            let mut open = open.lock().expect("lock");
            while !*open {
                open = opened.wait(open).expect("wait");
            }
        }
        answer(request, base)
    }))
    .await;
    let expired = jwt(Some(now() - 60), "old");
    let oidc = Arc::new(Oidc::new(&config(&issuer, &expired, Some("rt-1"))).expect("valid"));
    let refreshing = tokio::spawn({
        let oidc = oidc.clone();
        async move { oidc.authorization().await }
    });
    while !seen
        .lock()
        .expect("lock")
        .iter()
        .any(|s| s.path == "/token")
    {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    // A request sent with the old token comes back refused mid-refresh.
    oidc.invalidate();
    {
        let (open, opened) = &*gate;
        *open.lock().expect("lock") = true;
        opened.notify_all();
    }
    let header = refreshing.await.expect("joined").expect("refreshed");
    assert_eq!(bearer(&header), fresh);
    assert_eq!(
        bearer(&oidc.authorization().await.expect("a token")),
        fresh,
        "the refusal was of the token the refresh replaced"
    );
    assert_eq!(seen.lock().expect("lock").len(), 2, "one refresh");
}

#[tokio::test]
async fn client_credentials_go_in_the_form_when_basic_is_refused() {
    let fresh = jwt(Some(now() + 3600), "fresh");
    let accept_form: fn(&Seen) -> bool =
        |request| request.authorization.is_none() && request.body.contains("client_id=kube-app");
    let (issuer, seen) = provider(issuing(fresh.clone(), accept_form)).await;
    let oidc = Oidc::new(&config(&issuer, &jwt(Some(now()), "old"), Some("rt-1"))).expect("valid");
    assert_eq!(
        bearer(&oidc.authorization().await.expect("refreshed")),
        fresh
    );
    let seen = seen.lock().expect("lock");
    assert_eq!(seen.len(), 3, "discovery, basic refused, form accepted");
    assert_eq!(
        seen[2].body,
        "grant_type=refresh_token&refresh_token=rt-1&client_id=kube-app&client_secret=s3cr3t%2B%2F"
    );
}

#[tokio::test]
async fn failures_say_what_is_missing_or_what_the_provider_answered() {
    let expired = jwt(Some(now() - 60), "old");
    // No refresh token: the expired token cannot be replaced.
    let oidc = Oidc::new(&config("http://127.0.0.1:9", &expired, None)).expect("valid");
    let err = oidc.authorization().await.expect_err("cannot refresh");
    assert!(
        matches!(
            err,
            Error::RefreshInit(RefreshInitError::MissingField("refresh-token"))
        ),
        "{err:?}"
    );

    // The provider refuses every way of sending the client credentials.
    let (issuer, _) = provider(issuing(String::new(), |_| false)).await;
    let oidc = Oidc::new(&config(&issuer, &expired, Some("rt-1"))).expect("valid");
    let err = oidc.authorization().await.expect_err("refused");
    assert!(
        matches!(err, Error::Refresh(RefreshError::AuthorizationFailure)),
        "{err:?}"
    );

    // A token response without an ID token.
    let (issuer, _) = provider(Arc::new(|request: &Seen, base: &str| {
        match request.path.as_str() {
            "/token" => (200, r#"{"access_token":"x"}"#.to_string()),
            _ => (200, format!(r#"{{"token_endpoint":"{base}/token"}}"#)),
        }
    }))
    .await;
    let oidc = Oidc::new(&config(&issuer, &expired, Some("rt-1"))).expect("valid");
    let err = oidc.authorization().await.expect_err("no id_token");
    assert!(
        matches!(err, Error::Refresh(RefreshError::NoIdTokenReceived)),
        "{err:?}"
    );

    // A provider that fails.
    let (issuer, _) = provider(Arc::new(|_: &Seen, _: &str| (500, "{}".to_string()))).await;
    let oidc = Oidc::new(&config(&issuer, &expired, Some("rt-1"))).expect("valid");
    let err = oidc.authorization().await.expect_err("provider down");
    assert!(
        matches!(err, Error::Refresh(RefreshError::RequestFailed(s)) if s == 500),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(!text.contains("rt-1") && !text.contains("s3cr3t"), "{text}");
}

#[tokio::test]
async fn answers_past_the_limit_are_refused_naming_it() {
    let padding = "x".repeat(2 << 20);
    let fresh = jwt(Some(now() + 3600), "fresh");
    let expired = jwt(Some(now() - 60), "old");
    for large in ["/.well-known/openid-configuration", "/token"] {
        let padding = padding.clone();
        let fresh = fresh.clone();
        let (issuer, _) = provider(Arc::new(move |request: &Seen, base: &str| {
            let mut answer = match request.path.as_str() {
                "/token" => serde_json::json!({"id_token": fresh}),
                _ => serde_json::json!({"token_endpoint": format!("{base}/token")}),
            };
            if request.path == large {
                answer["padding"] = serde_json::json!(padding);
            }
            (200, answer.to_string())
        }))
        .await;
        let oidc = Oidc::new(&config(&issuer, &expired, Some("rt-1"))).expect("valid");
        let err = oidc.authorization().await.expect_err("too large");
        assert!(
            matches!(err, Error::Refresh(RefreshError::ResponseTooLarge { .. })),
            "{large}: {err:?}"
        );
        let text = err.to_string();
        assert!(text.contains("1 MiB") && text.contains(large), "{text}");
    }
}

#[test]
fn token_responses_that_are_not_understood_are_not_quoted() {
    let err = match token_response(br#""eyJhbGciOi.secret-token-value.sig""#) {
        Ok(_) => panic!("a bare string is no token response"),
        Err(err) => err,
    };
    let text = err.to_string();
    assert!(!text.contains("secret-token-value"), "{text}");
    assert!(text.contains("invalid type"), "{text}");
}

#[tokio::test]
async fn an_issuer_that_never_answers_fails_the_refresh_after_the_time_limit() {
    // Accepts connections, reads nothing, answers nothing.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let issuer = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((tcp, _)) = listener.accept().await {
            held.push(tcp);
        }
    });
    let expired = jwt(Some(now() - 60), "old");
    let settings = config(&issuer, &expired, Some("rt-1"));
    let mut oidc = Oidc::new(&settings).expect("valid");
    let limit = std::time::Duration::from_millis(300);
    if let Ok(refresher) = oidc.refresher.as_mut() {
        refresher.http = issuer_client(&settings, limit).expect("client");
    }
    let started = std::time::Instant::now();
    let err = tokio::time::timeout(std::time::Duration::from_secs(20), oidc.authorization())
        .await
        .expect("the time limit ends the refresh")
        .expect_err("no answer");
    assert!(started.elapsed() >= limit);
    match &err {
        Error::Refresh(RefreshError::Transport { url, source }) => {
            assert!(source.is_timeout(), "{source:?}");
            assert!(url.starts_with(&issuer), "{url}");
        }
        other => panic!("expected a transport timeout, got {other:?}"),
    }
}

#[tokio::test]
async fn unreadable_tokens_are_replaced_when_possible_and_else_sent_as_they_are() {
    let oidc = Oidc::new(&config("http://127.0.0.1:9", "opaque", None)).expect("valid");
    assert_eq!(
        bearer(&oidc.authorization().await.expect("as it is")),
        "opaque"
    );
    let fresh = jwt(Some(now() + 3600), "fresh");
    let (issuer, _) = provider(issuing(fresh.clone(), |_| true)).await;
    let oidc = Oidc::new(&config(&issuer, "a.@@@.c", Some("rt"))).expect("valid");
    assert_eq!(
        bearer(&oidc.authorization().await.expect("replaced")),
        fresh
    );
    assert!(matches!(
        expires_soon("not-a-jwt", jiff::Timestamp::now()),
        Err(IdTokenError::InvalidFormat)
    ));
    assert!(matches!(
        expires_soon("a.@@@.c", jiff::Timestamp::now()),
        Err(IdTokenError::InvalidBase64(_))
    ));
    let empty = HashMap::new();
    assert!(matches!(Oidc::new(&empty), Err(Error::IdTokenMissing)));
    let debug = format!(
        "{:?}",
        Oidc::new(&config(
            "http://127.0.0.1:9",
            &jwt(None, "secret-sub"),
            Some("rt-secret")
        ))
        .expect("valid")
    );
    assert!(
        !debug.contains("rt-secret") && !debug.contains("s3cr3t"),
        "{debug}"
    );
}

#[test]
fn expiry_is_read_from_the_exp_claim_with_a_margin() {
    let at = jiff::Timestamp::from_second(1_000_000).expect("a time");
    assert!(!expires_soon(&jwt(Some(1_000_100), "x"), at).expect("readable"));
    assert!(expires_soon(&jwt(Some(1_000_005), "x"), at).expect("readable"));
    assert!(expires_soon(&jwt(Some(999_000), "x"), at).expect("readable"));
    assert!(!expires_soon(&jwt(None, "x"), at).expect("readable"));
}
