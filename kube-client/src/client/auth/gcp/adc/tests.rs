//! Application default credentials against a token endpoint on loopback.

use std::{collections::HashMap, sync::Arc};

use super::*;
use crate::client::auth::loopback::{Seen, serve};

/// The RSA key of the test data, and its certificate to check signatures with.
const RSA_KEY: &str = include_str!("../../../../config/test_data/client-rsa-key.pem");
const RSA_CERT: &str = include_str!("../../../../config/test_data/client-rsa.pem");

fn form_of(body: &str) -> HashMap<String, String> {
    form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect()
}

fn write_file(dir: &std::path::Path, json: serde_json::Value) -> PathBuf {
    let path = dir.join("credentials.json");
    std::fs::write(&path, json.to_string()).expect("write");
    path
}

/// A user's credentials file asking `token_uri` for tokens.
fn user_credentials(dir: &std::path::Path, token_uri: String) -> PathBuf {
    write_file(
        dir,
        serde_json::json!({
            "type": "authorized_user",
            "client_id": "id-1",
            "client_secret": "secret-1",
            "refresh_token": "refresh-1",
            "token_uri": token_uri,
        }),
    )
}

fn answering(status: u16, reply: &'static str) -> crate::client::auth::loopback::Handler {
    Arc::new(move |_: &Seen, _: &str| (status, reply.to_string()))
}

#[tokio::test]
async fn a_service_account_key_is_exchanged_with_a_signed_jwt() {
    let (base, seen) = serve(answering(
        200,
        r#"{"access_token":"ya29.from-jwt","expires_in":3599,"token_type":"Bearer"}"#,
    ))
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let token_uri = format!("{base}/token");
    let path = write_file(
        dir.path(),
        serde_json::json!({
            "type": "service_account",
            "client_email": "robot@project.iam.gserviceaccount.com",
            "private_key": RSA_KEY,
            "private_key_id": "key-1",
            "token_uri": token_uri,
        }),
    );
    let credentials =
        DefaultCredentials::with(from_file(path).expect("a service account"), Some("a, b"))
            .expect("credentials");
    let asked = Timestamp::now();
    let (token, expiry) = credentials.token().await.expect("a token");
    assert_eq!(token, "ya29.from-jwt");
    let expiry = expiry.expect("an expiry");
    assert!(expiry > asked && expiry <= Timestamp::now() + jiff::SignedDuration::from_secs(3600));

    let request = seen.lock().expect("lock")[0].clone();
    assert_eq!(request.path, "/token");
    let form = form_of(&request.body);
    assert_eq!(
        form["grant_type"],
        "urn:ietf:params:oauth:grant-type:jwt-bearer"
    );
    let parts: Vec<&str> = form["assertion"].split('.').collect();
    assert_eq!(parts.len(), 3);
    let decode = |part: &str| {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .expect("base64url");
        serde_json::from_slice::<serde_json::Value>(&bytes).expect("JSON")
    };
    let header = decode(parts[0]);
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["kid"], "key-1");
    let claims = decode(parts[1]);
    assert_eq!(claims["iss"], "robot@project.iam.gserviceaccount.com");
    assert_eq!(claims["aud"], token_uri);
    assert_eq!(claims["scope"], "a b");
    assert_eq!(
        claims["exp"].as_i64().expect("exp") - claims["iat"].as_i64().expect("iat"),
        3600
    );

    // The signature is the key's, over the header and claims.
    use rustls::pki_types::{CertificateDer, pem::PemObject};
    let cert = CertificateDer::from_pem_slice(RSA_CERT.as_bytes()).expect("PEM");
    let cert = webpki::EndEntityCert::try_from(&cert).expect("a certificate");
    let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(parts[2])
        .expect("base64url");
    let signed = format!("{}.{}", parts[0], parts[1]);
    cert.verify_signature(
        webpki::ring::RSA_PKCS1_2048_8192_SHA256,
        signed.as_bytes(),
        &signature,
    )
    .expect("a valid RS256 signature");
}

#[tokio::test]
async fn a_user_s_refresh_token_is_exchanged() {
    let (base, seen) = serve(answering(
        200,
        r#"{"access_token":"ya29.user","expires_in":60}"#,
    ))
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = user_credentials(dir.path(), format!("{base}/token"));
    let credentials =
        DefaultCredentials::with(from_file(path).expect("a user"), None).expect("credentials");
    let (token, _) = credentials.token().await.expect("a token");
    assert_eq!(token, "ya29.user");
    let form = form_of(&seen.lock().expect("lock")[0].body);
    assert_eq!(form["grant_type"], "refresh_token");
    assert_eq!(form["client_id"], "id-1");
    assert_eq!(form["client_secret"], "secret-1");
    assert_eq!(form["refresh_token"], "refresh-1");
}

#[tokio::test]
async fn refusals_name_the_oauth_error_but_echo_nothing_else() {
    let (base, _) = serve(answering(
        400,
        r#"{"error":"invalid_grant","error_description":"refresh-1 was revoked"}"#,
    ))
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = user_credentials(dir.path(), format!("{base}/token"));
    let credentials =
        DefaultCredentials::with(from_file(path).expect("a user"), None).expect("credentials");
    let text = credentials.token().await.expect_err("refused").to_string();
    assert!(
        text.contains("400") && text.contains("invalid_grant"),
        "{text}"
    );
    assert!(!text.contains("refresh-1"), "{text}");
}

#[test]
fn unusable_files_are_named_without_their_content() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write_file(
        dir.path(),
        serde_json::json!({ "type": "external_account", "secret": "hunter2" }),
    );
    let text = from_file(path).err().expect("unsupported").to_string();
    assert!(text.contains("external_account"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");

    let path = write_file(
        dir.path(),
        serde_json::json!({ "type": "service_account", "client_email": "a@b", "private_key": "hunter2" }),
    );
    let text = from_file(path).err().expect("not a key").to_string();
    assert!(text.contains("a@b"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
}

#[test]
fn credentials_are_looked_for_where_google_s_libraries_look() {
    let dir = tempfile::tempdir().expect("tempdir");
    let vars = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| std::ffi::OsString::from(v))
        }
    };
    assert_eq!(
        locate(
            vars(&[("GOOGLE_APPLICATION_CREDENTIALS", "/keys/sa.json")]),
            None,
            || None
        ),
        Some(Found::File("/keys/sa.json".into()))
    );

    let gcloud = dir.path().join(".config").join("gcloud");
    std::fs::create_dir_all(&gcloud).expect("mkdir");
    std::fs::write(gcloud.join("application_default_credentials.json"), "{}").expect("write");
    assert_eq!(
        locate(vars(&[]), Some(dir.path().to_path_buf()), || None),
        Some(Found::File(
            gcloud.join("application_default_credentials.json")
        ))
    );

    assert_eq!(
        locate(vars(&[("GCE_METADATA_HOST", "10.0.0.9")]), None, || None),
        Some(Found::Metadata("10.0.0.9".into()))
    );
    assert_eq!(
        locate(vars(&[]), None, || Some("Google Compute Engine\n".into())),
        Some(Found::Metadata("metadata.google.internal".into()))
    );
    assert_eq!(locate(vars(&[]), None, || Some("Standard PC".into())), None);
}
