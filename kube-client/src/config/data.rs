//! Data a kubeconfig gives either inline (base64) or as a file path, and PEM
//! certificate bundles.

use std::{io::Read, path::Path};

use base64::Engine;
use rustls_pki_types::{CertificateDer, pem::PemObject};

use super::LoadDataError;

/// The most bytes read from a file holding certificates, a key or a token:
/// far more than any holds.
pub(crate) const MAX_DATA_FILE: u64 = 16 << 20;

/// The most bytes read from a kubeconfig file.
pub(crate) const MAX_KUBECONFIG_FILE: u64 = 64 << 20;

/// Reads a file of at most `limit` bytes; a larger one (or one without end,
/// such as `/dev/zero`) is an `InvalidData` error naming the limit, so that a
/// wrong path cannot exhaust memory.
pub(crate) fn read_file(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    let file = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "the file is larger than {}, more than it can hold for this use",
                crate::error::human_bytes(limit)
            ),
        ));
    }
    Ok(bytes)
}

/// Loads `<field>-data` (base64) or else the file `<field>`; `None` when neither is
/// set. Empty values count as unset, as in `kubectl`.
pub(crate) fn base64_or_file(
    field: &'static str,
    data: Option<&str>,
    file: Option<&str>,
) -> Result<Option<Vec<u8>>, LoadDataError> {
    if let Some(data) = data.filter(|d| !d.trim().is_empty()) {
        // Line breaks are common when the data was pasted in.
        let compact: String = data.chars().filter(|c| !c.is_whitespace()).collect();
        return base64::engine::general_purpose::STANDARD
            .decode(compact)
            .map(Some)
            .map_err(|source| LoadDataError::DecodeBase64 {
                field: data_field(field),
                source,
            });
    }
    match file.filter(|f| !f.is_empty()) {
        Some(path) => read_file(Path::new(path), MAX_DATA_FILE)
            .map(Some)
            .map_err(|e| LoadDataError::ReadFile(e, path.into())),
        None => Ok(None),
    }
}

fn data_field(field: &'static str) -> &'static str {
    match field {
        "certificate-authority" => "certificate-authority-data",
        "client-certificate" => "client-certificate-data",
        "client-key" => "client-key-data",
        other => other,
    }
}

/// The DER certificates of a PEM bundle; fails when there is none, or one is
/// malformed.
pub(crate) fn pem_certificates(pem: &[u8], origin: &str) -> Result<Vec<Vec<u8>>, LoadDataError> {
    let mut certs = Vec::new();
    for cert in CertificateDer::pem_slice_iter(pem) {
        let cert = cert.map_err(|e| LoadDataError::ParseCertificates {
            origin: origin.to_string(),
            reason: e.to_string(),
        })?;
        certs.push(cert.as_ref().to_vec());
    }
    if certs.is_empty() {
        return Err(LoadDataError::ParseCertificates {
            origin: origin.to_string(),
            reason: "no \"-----BEGIN CERTIFICATE-----\" block found".to_string(),
        });
    }
    Ok(certs)
}

/// Loads a certificate bundle from a PEM file.
pub(crate) fn pem_certificates_file(path: &Path) -> Result<Vec<Vec<u8>>, LoadDataError> {
    let pem =
        read_file(path, MAX_DATA_FILE).map_err(|e| LoadDataError::ReadFile(e, path.into()))?;
    pem_certificates(&pem, &path.display().to_string())
}

#[cfg(all(feature = "client", feature = "rustls-tls"))]
impl super::AuthInfo {
    /// The PEM client certificate, from `client-certificate-data` or
    /// `client-certificate`.
    pub(crate) fn load_client_certificate(&self) -> Result<Option<Vec<u8>>, LoadDataError> {
        base64_or_file(
            "client-certificate",
            self.client_certificate_data.as_deref(),
            self.client_certificate.as_deref(),
        )
    }

    /// The PEM private key, from `client-key-data` or `client-key`.
    pub(crate) fn load_client_key(&self) -> Result<Option<Vec<u8>>, LoadDataError> {
        use secrecy::ExposeSecret;
        base64_or_file(
            "client-key",
            self.client_key_data.as_ref().map(|k| k.expose_secret()),
            self.client_key.as_deref(),
        )
    }
}

/// The origin of inline or file data, for messages: the field, or the file.
pub(crate) fn origin(field: &'static str, data: Option<&str>, file: Option<&str>) -> String {
    match (data.filter(|d| !d.trim().is_empty()), file) {
        (Some(_), _) => data_field(field).to_string(),
        (None, Some(file)) => format!("{field} {file}"),
        (None, None) => field.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CA: &str = include_str!("test_data/ca.pem");

    #[test]
    fn inline_data_wins_over_the_file() {
        let data = base64::engine::general_purpose::STANDARD.encode("inline");
        let loaded = base64_or_file("client-certificate", Some(&data), Some("/nonexistent"))
            .expect("inline data");
        assert_eq!(loaded.as_deref(), Some(&b"inline"[..]));
    }

    #[test]
    fn wrapped_base64_is_accepted() {
        let data = base64::engine::general_purpose::STANDARD.encode("a longer value, wrapped");
        let (a, b) = data.split_at(10);
        let wrapped = format!("{a}\n  {b}\n");
        let loaded = base64_or_file("certificate-authority", Some(&wrapped), None).expect("ok");
        assert_eq!(loaded.as_deref(), Some(&b"a longer value, wrapped"[..]));
    }

    #[test]
    fn bad_base64_names_the_field() {
        let err = base64_or_file("client-key", Some("not base64!"), None).expect_err("bad");
        let text = err.to_string();
        assert!(text.contains("client-key-data"), "{text}");
        assert!(!text.contains("not base64!"), "{text}");
    }

    #[test]
    fn unreadable_files_are_named() {
        let err = base64_or_file("client-certificate", None, Some("/nonexistent/cert.pem"))
            .expect_err("missing");
        assert!(err.to_string().contains("/nonexistent/cert.pem"), "{err}");
        assert!(
            base64_or_file("client-certificate", Some(""), Some(""))
                .expect("empty is unset")
                .is_none()
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_file_without_end_is_refused_naming_the_limit() {
        let err =
            base64_or_file("certificate-authority", None, Some("/dev/zero")).expect_err("endless");
        let text = err.to_string();
        assert!(text.contains("/dev/zero"), "{text}");
        assert!(text.contains("larger than 16 MiB"), "{text}");
        let small = read_file(Path::new("/dev/zero"), 10)
            .expect_err("more than 10 bytes")
            .kind();
        assert_eq!(small, std::io::ErrorKind::InvalidData);
    }

    #[test]
    fn several_certificates_in_one_bundle_are_all_kept() {
        let bundle = format!("{CA}\n{}", include_str!("test_data/other-ca.pem"));
        let certs = pem_certificates(bundle.as_bytes(), "bundle").expect("two certs");
        assert_eq!(certs.len(), 2);
        assert_ne!(certs[0], certs[1]);
    }

    #[test]
    fn bundles_without_certificates_are_refused() {
        let err = pem_certificates(b"hello", "certificate-authority /x/ca.pem").expect_err("no");
        let text = err.to_string();
        assert!(text.contains("/x/ca.pem"), "{text}");
        assert!(
            text.contains("no \"-----BEGIN CERTIFICATE-----\""),
            "{text}"
        );
    }
}
