//! The oidc auth-provider refreshing its ID token from an OpenID provider run
//! by the test on loopback, whose tokens the real apiserver accepts: it hands
//! out service-account tokens, which are JWTs the apiserver verifies.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use base64::Engine;
use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use kube_client::{
    Api, Client, Config,
    api::PostParams,
    config::{AuthInfo, AuthProviderConfig},
};
use serde_json::json;
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    net::TcpListener,
};

use crate::common::{client_in_fresh_namespace, service_account_token};

/// Serves discovery and a token endpoint handing out `id_token`; returns the
/// issuer URL and the refresh tokens it was sent.
async fn provider(id_token: String) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let issuer = format!("http://{}", listener.local_addr().expect("address"));
    let asked = Arc::new(Mutex::new(Vec::new()));
    let log = asked.clone();
    let base = issuer.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let mut stream = BufReader::new(tcp);
            let mut line = String::new();
            if stream.read_line(&mut line).await.is_err() {
                continue;
            }
            let path = line
                .split_whitespace()
                .nth(1)
                .unwrap_or_default()
                .to_string();
            let mut length = 0;
            loop {
                let mut header = String::new();
                if stream.read_line(&mut header).await.unwrap_or(0) == 0 {
                    break;
                }
                let header = header.trim_end();
                if header.is_empty() {
                    break;
                }
                if let Some((name, value)) = header.split_once(':')
                    && name.eq_ignore_ascii_case("content-length")
                {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            if stream.read_exact(&mut body).await.is_err() {
                continue;
            }
            let reply = if path == "/token" {
                let form: HashMap<String, String> = form_urlencoded::parse(&body)
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect();
                log.lock()
                    .expect("lock")
                    .push(form.get("refresh_token").cloned().unwrap_or_default());
                json!({"id_token": id_token, "refresh_token": "rt-next"}).to_string()
            } else {
                json!({"issuer": base, "token_endpoint": format!("{base}/token")}).to_string()
            };
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                reply.len()
            );
            let tcp = stream.get_mut();
            let _ = tcp.write_all(head.as_bytes()).await;
            let _ = tcp.write_all(reply.as_bytes()).await;
            let _ = tcp.shutdown().await;
        }
    });
    (issuer, asked)
}

/// An unsigned JWT expiring at `exp`: readable, but no apiserver accepts it.
fn unsigned_jwt(exp: i64) -> String {
    let encode = |v: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    format!(
        "{}.{}.AAAA",
        encode(json!({"alg": "RS256"})),
        encode(json!({"sub": "nobody", "exp": exp}))
    )
}

/// `config` authenticating with an oidc auth-provider.
fn with_oidc(mut config: Config, issuer: &str, id_token: &str) -> Config {
    config.auth_info = AuthInfo {
        auth_provider: Some(AuthProviderConfig {
            name: "oidc".into(),
            config: HashMap::from([
                ("id-token".to_string(), id_token.to_string()),
                ("refresh-token".to_string(), "rt-first".to_string()),
                ("client-id".to_string(), "kube-e2e".to_string()),
                ("idp-issuer-url".to_string(), issuer.to_string()),
            ]),
            ..AuthProviderConfig::default()
        }),
        ..AuthInfo::default()
    };
    config
}

async fn username(client: &Client) -> String {
    let reviews: Api<SelfSubjectReview> = Api::all(client.clone());
    reviews
        .create(&PostParams::default(), &SelfSubjectReview::default())
        .await
        .expect("a self subject review")
        .status
        .and_then(|s| s.user_info)
        .and_then(|u| u.username)
        .unwrap_or_default()
}

#[tokio::test]
async fn expired_and_refused_id_tokens_are_refreshed_from_the_provider() {
    let (admin, ns) = client_in_fresh_namespace().await;
    let token = service_account_token(&admin, &ns, "oidc-user").await;
    let expected = format!("system:serviceaccount:{ns}:oidc-user");
    let now = jiff::Timestamp::now().as_second();

    // Expired: refreshed before the first request.
    let (issuer, asked) = provider(token.clone()).await;
    let base = crate::common::config().await;
    let client = Client::try_from(with_oidc(base.clone(), &issuer, &unsigned_jwt(now - 60)))
        .expect("a client");
    assert_eq!(username(&client).await, expected);
    assert_eq!(username(&client).await, expected);
    assert_eq!(*asked.lock().expect("lock"), ["rt-first"], "refreshed once");

    // Not expired, but refused by the apiserver: refreshed after the 401.
    let (issuer, asked) = provider(token).await;
    let client =
        Client::try_from(with_oidc(base, &issuer, &unsigned_jwt(now + 3600))).expect("a client");
    assert_eq!(username(&client).await, expected);
    assert_eq!(*asked.lock().expect("lock"), ["rt-first"]);
}
