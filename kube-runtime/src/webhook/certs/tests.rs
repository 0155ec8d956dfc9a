use std::time::{Duration, SystemTime};

use super::*;
use crate::webhook::testing::Authority;

fn later(seconds: u64) -> SystemTime {
    SystemTime::now() + Duration::from_secs(seconds)
}

/// The DER of the certificate handed out at a handshake.
fn served(watcher: &CertWatcher) -> Vec<u8> {
    let current = watcher
        .shared
        .current
        .read()
        .unwrap_or_else(PoisonError::into_inner);
    current.cert[0].to_vec()
}

fn pem_of(path: &Path) -> Vec<u8> {
    let pem = std::fs::read(path).expect("readable");
    CertificateDer::from_pem_slice(&pem)
        .expect("a certificate")
        .to_vec()
}

#[test]
fn a_matching_pair_loads() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (cert, key) = Authority::new("ca").issue(dir.path(), "tls", SystemTime::now());
    let watcher = CertWatcher::new(&cert, &key).expect("loads");
    assert_eq!(served(&watcher), pem_of(&cert));
}

#[test]
fn missing_files_are_named() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (cert, key) = Authority::new("ca").issue(dir.path(), "tls", SystemTime::now());
    let missing = dir.path().join("absent.crt");
    let error = CertWatcher::new(&missing, &key).expect_err("no certificate file");
    assert!(matches!(error, Error::ReadFile { ref path, .. } if *path == missing));
    assert!(error.to_string().contains("absent.crt"), "{error}");
    let error = CertWatcher::new(&cert, dir.path().join("absent.key")).expect_err("no key file");
    assert!(error.to_string().contains("absent.key"), "{error}");
}

#[test]
fn a_file_without_a_certificate_is_refused() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (_, key) = Authority::new("ca").issue(dir.path(), "tls", SystemTime::now());
    let empty = dir.path().join("empty.crt");
    std::fs::write(&empty, "no PEM here").expect("written");
    let error = CertWatcher::new(&empty, &key).expect_err("no certificate");
    assert!(
        error.to_string().contains("holds no PEM certificate"),
        "{error}"
    );
}

#[test]
fn a_broken_key_is_refused_without_quoting_it() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (cert, _) = Authority::new("ca").issue(dir.path(), "tls", SystemTime::now());
    let key = dir.path().join("broken.key");
    std::fs::write(
        &key,
        "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1tYXRlcmlhbA==\n",
    )
    .expect("written");
    let error = CertWatcher::new(&cert, &key).expect_err("a broken key");
    let message = error.to_string();
    assert!(message.contains("broken.key"), "{message}");
    assert!(!message.contains("c2VjcmV0"), "the key leaked: {message}");
}

#[test]
fn a_key_of_another_certificate_is_refused() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let authority = Authority::new("ca");
    let (cert, _) = authority.issue(dir.path(), "one", SystemTime::now());
    let (_, other_key) = authority.issue(dir.path(), "two", SystemTime::now());
    let error = CertWatcher::new(&cert, &other_key).expect_err("mismatched");
    assert!(matches!(error, Error::KeyPair { .. }), "{error}");
}

#[test]
fn changed_files_are_served_after_the_next_poll_and_unchanged_ones_are_not_reread() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let authority = Authority::new("ca");
    let (cert, key) = authority.issue(dir.path(), "tls", SystemTime::now());
    let watcher = CertWatcher::new(&cert, &key).expect("loads");
    let first = served(&watcher);
    assert!(!watcher.reload_if_changed(), "nothing changed");

    authority.issue(dir.path(), "tls", later(5));
    assert!(watcher.reload_if_changed());
    let second = served(&watcher);
    assert_ne!(first, second);
    assert_eq!(second, pem_of(&cert));
    assert!(!watcher.reload_if_changed(), "loaded already");
}

#[test]
fn a_half_written_pair_keeps_the_old_certificate_until_it_is_complete() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let authority = Authority::new("ca");
    let (cert, key) = authority.issue(dir.path(), "tls", SystemTime::now());
    let watcher = CertWatcher::new(&cert, &key).expect("loads");
    let first = served(&watcher);

    // A new certificate lands before its key: the pair does not match.
    let (new_cert, new_key) = authority.issue(dir.path(), "next", later(5));
    std::fs::copy(&new_cert, &cert).expect("copied");
    std::fs::File::options()
        .write(true)
        .open(&cert)
        .and_then(|file| file.set_modified(later(5)))
        .expect("modification time set");
    assert!(!watcher.reload_if_changed());
    assert_eq!(served(&watcher), first, "the old pair stays in service");
    assert!(!watcher.reload_if_changed(), "and at the next poll too");

    std::fs::copy(&new_key, &key).expect("copied");
    std::fs::File::options()
        .write(true)
        .open(&key)
        .and_then(|file| file.set_modified(later(6)))
        .expect("modification time set");
    assert!(watcher.reload_if_changed());
    assert_eq!(served(&watcher), pem_of(&new_cert));
}
