//! Reading kubeconfig files as `kubectl` does, and choosing a context in them.
//!
//! `KUBECONFIG` may list several files (separated by `:`, or `;` on Windows).
//! They are merged in order and the first file to say something wins: the first
//! `current-context`, and for each cluster, user and context name, the first
//! entry with that name. Listed files that do not exist are skipped. Without
//! `KUBECONFIG`, the file is `~/.kube/config`.
//!
//! Relative paths inside a file (certificate authority, client certificate and
//! key, token file, exec command with a directory part) are relative to that
//! file's directory, and are made absolute when the file is read.

use std::{
    ffi::OsString,
    path::{Path, PathBuf},
};

use super::{
    AuthInfo, Cluster, Context, KubeConfigOptions, Kubeconfig, KubeconfigError, NamedExtension,
};

/// The environment variable listing kubeconfig files.
pub(crate) const KUBECONFIG: &str = "KUBECONFIG";

impl Kubeconfig {
    /// Reads the kubeconfig `kubectl` would use: the files listed in `KUBECONFIG`
    /// merged in order, or else `~/.kube/config`.
    pub fn read() -> Result<Kubeconfig, KubeconfigError> {
        read_with(std::env::var_os(KUBECONFIG), std::env::home_dir())
    }

    /// Reads the files listed in the `KUBECONFIG` environment variable, merged in
    /// order; `None` when the variable is unset or lists no file.
    pub fn from_env() -> Result<Option<Kubeconfig>, KubeconfigError> {
        from_env_with(std::env::var_os(KUBECONFIG))
    }

    /// Reads one kubeconfig file. Several YAML documents in it are merged; relative
    /// paths in it are made absolute against the file's directory.
    pub fn read_from<P: AsRef<Path>>(path: P) -> Result<Kubeconfig, KubeconfigError> {
        let path = path.as_ref();
        let bytes = super::data::read_file(path, super::data::MAX_KUBECONFIG_FILE)
            .map_err(|e| KubeconfigError::ReadConfig(e, path.to_path_buf()))?;
        let mut config = Self::from_file_bytes(&bytes, Some(path))?;
        let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        if let Some(dir) = absolute.parent() {
            config.resolve_relative_paths(dir);
        }
        Ok(config)
    }

    /// Parses the content of a kubeconfig file: UTF-8, or UTF-16 with a byte
    /// order mark. `path` names the file in errors; relative paths are left
    /// as they are.
    pub(crate) fn from_file_bytes(
        bytes: &[u8],
        path: Option<&Path>,
    ) -> Result<Kubeconfig, KubeconfigError> {
        let text = decode_text(bytes).map_err(|message| KubeconfigError::Parse {
            path: path.map(Path::to_path_buf),
            message,
        })?;
        parse(&text, path)
    }

    /// Parses a kubeconfig from YAML text; several documents (separated by `---`)
    /// are merged. Relative paths are left as they are.
    pub fn from_yaml(text: &str) -> Result<Kubeconfig, KubeconfigError> {
        parse(text, None)
    }

    /// Merges `next` into this kubeconfig by `kubectl`'s rules: what this one
    /// already has wins — its `current-context`, and every cluster, user, context
    /// and extension whose name it already has; `next` only adds.
    ///
    /// Fails when both name a different `kind` or `apiVersion`.
    pub fn merge(mut self, next: Kubeconfig) -> Result<Self, KubeconfigError> {
        self.kind = match (self.kind, next.kind) {
            (Some(first), Some(next)) if first != next => {
                return Err(KubeconfigError::KindMismatch { first, next });
            }
            (first, next) => first.or(next),
        };
        self.api_version = match (self.api_version, next.api_version) {
            (Some(first), Some(next)) if first != next => {
                return Err(KubeconfigError::ApiVersionMismatch { first, next });
            }
            (first, next) => first.or(next),
        };
        if self.current_context.as_deref().is_none_or(str::is_empty) {
            self.current_context = next.current_context;
        }
        self.preferences = self.preferences.or(next.preferences);
        add_missing(&mut self.clusters, next.clusters, |c| &c.name);
        add_missing(&mut self.auth_infos, next.auth_infos, |u| &u.name);
        add_missing(&mut self.contexts, next.contexts, |c| &c.name);
        self.extensions = match (self.extensions, next.extensions) {
            (Some(mut first), Some(next)) => {
                add_missing(&mut first, next, |e: &NamedExtension| &e.name);
                Some(first)
            }
            (first, next) => first.or(next),
        };
        for (key, value) in next.other {
            self.other.entry(key).or_insert(value);
        }
        Ok(self)
    }

    /// Makes the file paths in this kubeconfig absolute, relative to `dir`.
    fn resolve_relative_paths(&mut self, dir: &Path) {
        for cluster in self.clusters.iter_mut().filter_map(|c| c.cluster.as_mut()) {
            make_absolute(&mut cluster.certificate_authority, dir);
        }
        for user in self
            .auth_infos
            .iter_mut()
            .filter_map(|u| u.auth_info.as_mut())
        {
            make_absolute(&mut user.client_certificate, dir);
            make_absolute(&mut user.client_key, dir);
            make_absolute(&mut user.token_file, dir);
            if let Some(exec) = &mut user.exec {
                // A bare name is looked up in PATH; only paths are relative to the file.
                let is_path = exec
                    .command
                    .as_deref()
                    .is_some_and(|c| c.contains('/') || c.contains(std::path::MAIN_SEPARATOR));
                if is_path {
                    make_absolute(&mut exec.command, dir);
                }
            }
        }
    }
}

/// Appends the entries of `next` whose name `into` does not have yet.
fn add_missing<T>(into: &mut Vec<T>, next: Vec<T>, name: impl Fn(&T) -> &String) {
    for entry in next {
        if !into.iter().any(|existing| name(existing) == name(&entry)) {
            into.push(entry);
        }
    }
}

fn make_absolute(field: &mut Option<String>, dir: &Path) {
    if let Some(path) = field.as_deref()
        && !path.is_empty()
        && Path::new(path).is_relative()
    {
        *field = Some(dir.join(path).to_string_lossy().into_owned());
    }
}

/// [`Kubeconfig::read`] with the environment passed in.
pub(crate) fn read_with(
    kubeconfig_env: Option<OsString>,
    home: Option<PathBuf>,
) -> Result<Kubeconfig, KubeconfigError> {
    if let Some(config) = from_env_with(kubeconfig_env)? {
        return Ok(config);
    }
    let home = home.ok_or(KubeconfigError::FindPath)?;
    Kubeconfig::read_from(home.join(".kube").join("config"))
}

/// The files a `KUBECONFIG` value lists, merged; `None` when it lists none.
fn from_env_with(kubeconfig_env: Option<OsString>) -> Result<Option<Kubeconfig>, KubeconfigError> {
    let Some(list) = kubeconfig_env else {
        return Ok(None);
    };
    let mut paths: Vec<PathBuf> = Vec::new();
    for path in std::env::split_paths(&list) {
        if !path.as_os_str().is_empty() && !paths.contains(&path) {
            paths.push(path);
        }
    }
    if paths.is_empty() {
        return Ok(None);
    }
    read_merged(&paths).map(Some)
}

/// Reads and merges the files in order, skipping those that do not exist.
fn read_merged(paths: &[PathBuf]) -> Result<Kubeconfig, KubeconfigError> {
    let mut merged: Option<Kubeconfig> = None;
    for path in paths {
        let config = match Kubeconfig::read_from(path) {
            Err(KubeconfigError::ReadConfig(error, path))
                if error.kind() == std::io::ErrorKind::NotFound =>
            {
                tracing::debug!(path = %path.display(), "kubeconfig listed in KUBECONFIG does not exist; skipped");
                continue;
            }
            other => other?,
        };
        merged = Some(match merged {
            None => config,
            Some(merged) => merged.merge(config)?,
        });
    }
    merged.ok_or_else(|| KubeconfigError::NoKubeconfigFiles(paths.to_vec()))
}

/// The text of a kubeconfig: UTF-8, or UTF-16 with a byte order mark (as some
/// Windows tools write it).
fn decode_text(bytes: &[u8]) -> Result<String, String> {
    let utf16 = |rest: &[u8], from: fn([u8; 2]) -> u16| {
        if !rest.len().is_multiple_of(2) {
            return Err("UTF-16 text with an odd number of bytes".to_string());
        }
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|pair| from([pair[0], pair[1]]))
            .collect();
        String::from_utf16(&units).map_err(|_| "invalid UTF-16 text".to_string())
    };
    match bytes {
        [0xEF, 0xBB, 0xBF, rest @ ..] => std::str::from_utf8(rest)
            .map(str::to_string)
            .map_err(|e| format!("not valid UTF-8: {e}")),
        [0xFF, 0xFE, rest @ ..] => utf16(rest, u16::from_le_bytes),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, u16::from_be_bytes),
        _ => std::str::from_utf8(bytes)
            .map(str::to_string)
            .map_err(|e| format!("not valid UTF-8: {e}")),
    }
}

/// Parses every YAML document of `text` and merges them in order.
fn parse(text: &str, path: Option<&Path>) -> Result<Kubeconfig, KubeconfigError> {
    let options = serde_saphyr::options! {
        // Snippets would quote the file, tokens included.
        with_snippet: false,
    };
    let documents: Vec<Option<Kubeconfig>> =
        serde_saphyr::from_multiple_with_options(text, options).map_err(|e| {
            KubeconfigError::Parse {
                path: path.map(Path::to_path_buf),
                message: without_quoted_values(&e.to_string()),
            }
        })?;
    let mut merged = Kubeconfig::default();
    for document in documents.into_iter().flatten() {
        merged = merged.merge(document)?;
    }
    Ok(merged)
}

/// Replaces what is between double quotes with `…`: parser messages quote values
/// from the file (`invalid type: string "…"`), and a misplaced value may be a
/// token. Field names are quoted with backticks and stay.
fn without_quoted_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut quoted = false;
    let mut escaped = false;
    for c in message.chars() {
        if quoted {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                quoted = false;
                out.push_str("…\"");
            }
        } else {
            out.push(c);
            quoted = c == '"';
        }
    }
    if quoted {
        out.push('…');
    }
    out
}

/// The entries a context selects: its cluster and user.
#[derive(Debug)]
pub(crate) struct ConfigLoader {
    /// The selected context's name.
    pub(crate) context_name: String,
    /// The selected context.
    pub(crate) current_context: Context,
    /// The selected cluster's name.
    pub(crate) cluster_name: String,
    /// The selected cluster.
    pub(crate) cluster: Cluster,
    /// The selected user's name, if any.
    pub(crate) user_name: Option<String>,
    /// The selected user's credentials (empty for anonymous access).
    pub(crate) user: AuthInfo,
}

impl ConfigLoader {
    /// Selects the context, cluster and user of `options` (or of the current
    /// context) in `config`.
    pub(crate) fn load(
        config: Kubeconfig,
        options: &KubeConfigOptions,
    ) -> Result<Self, KubeconfigError> {
        let context_name = options
            .context
            .clone()
            .or_else(|| config.current_context.clone())
            .filter(|name| !name.is_empty())
            .ok_or(KubeconfigError::CurrentContextNotSet)?;
        let Some(named_context) = config.contexts.iter().find(|c| c.name == context_name) else {
            return Err(KubeconfigError::LoadContext {
                context: context_name,
                available: config.contexts.iter().map(|c| c.name.clone()).collect(),
            });
        };
        let current_context = named_context.context.clone().unwrap_or_default();

        let cluster_name = options
            .cluster
            .clone()
            .unwrap_or_else(|| current_context.cluster.clone());
        let cluster = config
            .clusters
            .iter()
            .find(|c| c.name == cluster_name && !cluster_name.is_empty())
            .map(|c| c.cluster.clone().unwrap_or_default())
            .ok_or_else(|| KubeconfigError::LoadClusterOfContext {
                cluster: cluster_name.clone(),
                context: context_name.clone(),
                available: config.clusters.iter().map(|c| c.name.clone()).collect(),
            })?;

        let user_name = options
            .user
            .clone()
            .or_else(|| current_context.user.clone())
            .filter(|name| !name.is_empty());
        let user = match &user_name {
            // A context without a user makes anonymous requests.
            None => AuthInfo::default(),
            Some(name) => config
                .auth_infos
                .iter()
                .find(|u| &u.name == name)
                .map(|u| u.auth_info.clone().unwrap_or_default())
                .ok_or_else(|| KubeconfigError::FindUser {
                    user: name.clone(),
                    context: context_name.clone(),
                    available: config.auth_infos.iter().map(|u| u.name.clone()).collect(),
                })?,
        };

        Ok(ConfigLoader {
            context_name,
            current_context,
            cluster_name,
            cluster,
            user_name,
            user,
        })
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    const TWO_CLUSTERS: &str = r#"
apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: dev-cluster
  cluster:
    server: https://dev.example.com:6443
    certificate-authority: certs/ca.pem
- name: prod-cluster
  cluster:
    server: https://prod.example.com
    insecure-skip-tls-verify: true
users:
- name: alice
  user:
    token: alice-token-1234
    client-certificate: alice.crt
    client-key: /abs/alice.key
- name: exec-user
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ./bin/credential-helper
      args: ["--cluster", "dev"]
      env:
      - name: SECRET_ENV
        value: hush-hush
      interactiveMode: Never
- name: path-exec-user
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: gke-gcloud-auth-plugin
contexts:
- name: dev
  context:
    cluster: dev-cluster
    user: alice
    namespace: team-a
- name: prod
  context:
    cluster: prod-cluster
    user: exec-user
- name: anonymous
  context:
    cluster: prod-cluster
- name: broken-user
  context:
    cluster: dev-cluster
    user: mallory
- name: broken-cluster
  context:
    cluster: staging
    user: alice
"#;

    fn load(yaml: &str, options: &KubeConfigOptions) -> Result<ConfigLoader, KubeconfigError> {
        ConfigLoader::load(Kubeconfig::from_yaml(yaml)?, options)
    }

    fn context(name: &str) -> KubeConfigOptions {
        KubeConfigOptions {
            context: Some(name.into()),
            ..KubeConfigOptions::default()
        }
    }

    #[test]
    fn the_current_context_selects_cluster_user_and_namespace() {
        let loaded = load(TWO_CLUSTERS, &KubeConfigOptions::default()).expect("loads");
        assert_eq!(loaded.context_name, "dev");
        assert_eq!(loaded.cluster_name, "dev-cluster");
        assert_eq!(
            loaded.cluster.server.as_deref(),
            Some("https://dev.example.com:6443")
        );
        assert_eq!(loaded.current_context.namespace.as_deref(), Some("team-a"));
        assert_eq!(loaded.user_name.as_deref(), Some("alice"));
        assert_eq!(
            loaded.user.token.as_ref().map(|t| t.expose_secret()),
            Some("alice-token-1234")
        );
    }

    #[test]
    fn options_override_the_context_cluster_and_user() {
        let loaded = load(TWO_CLUSTERS, &context("prod")).expect("loads");
        assert_eq!(loaded.cluster_name, "prod-cluster");
        assert_eq!(loaded.cluster.insecure_skip_tls_verify, Some(true));
        let exec = loaded.user.exec.expect("exec user");
        assert_eq!(exec.args, Some(vec!["--cluster".into(), "dev".into()]));
        assert_eq!(
            exec.interactive_mode,
            Some(super::super::ExecInteractiveMode::Never)
        );

        let options = KubeConfigOptions {
            context: Some("dev".into()),
            cluster: Some("prod-cluster".into()),
            user: Some("exec-user".into()),
        };
        let loaded = load(TWO_CLUSTERS, &options).expect("loads");
        assert_eq!(loaded.cluster_name, "prod-cluster");
        assert!(loaded.user.exec.is_some());
        assert_eq!(loaded.current_context.namespace.as_deref(), Some("team-a"));
    }

    #[test]
    fn a_context_without_user_is_anonymous() {
        let loaded = load(TWO_CLUSTERS, &context("anonymous")).expect("loads");
        assert_eq!(loaded.user_name, None);
        assert!(loaded.user.token.is_none() && loaded.user.exec.is_none());
    }

    #[test]
    fn a_missing_context_is_named_with_the_available_ones() {
        let err = load(TWO_CLUSTERS, &context("staging")).expect_err("no such context");
        let text = err.to_string();
        assert!(text.contains("\"staging\""), "{text}");
        assert!(text.contains("dev, prod, anonymous"), "{text}");
    }

    #[test]
    fn a_missing_user_names_user_and_context() {
        let err = load(TWO_CLUSTERS, &context("broken-user")).expect_err("no such user");
        assert!(matches!(err, KubeconfigError::FindUser { .. }), "{err:?}");
        let text = err.to_string();
        assert!(text.contains("\"mallory\""), "{text}");
        assert!(text.contains("\"broken-user\""), "{text}");
        assert!(text.contains("alice, exec-user"), "{text}");
    }

    #[test]
    fn a_missing_cluster_names_cluster_and_context() {
        let err = load(TWO_CLUSTERS, &context("broken-cluster")).expect_err("no such cluster");
        let text = err.to_string();
        assert!(text.contains("\"staging\""), "{text}");
        assert!(text.contains("\"broken-cluster\""), "{text}");
    }

    #[test]
    fn no_current_context_is_an_error_saying_how_to_choose_one() {
        let yaml = "clusters: []\ncontexts: []\n";
        let err = load(yaml, &KubeConfigOptions::default()).expect_err("no context");
        assert!(matches!(err, KubeconfigError::CurrentContextNotSet));
        assert!(err.to_string().contains("use-context"), "{err}");
    }

    #[test]
    fn empty_lists_and_unknown_fields_are_accepted_and_kept() {
        let yaml = "clusters:\nusers:\ncontexts:\ncurrent-context: x\nfuture-field: 3\n";
        let config = Kubeconfig::from_yaml(yaml).expect("parses");
        assert!(config.clusters.is_empty() && config.auth_infos.is_empty());
        assert_eq!(
            config.other.get("future-field"),
            Some(&serde_json::json!(3))
        );
        let empty = Kubeconfig::from_yaml("").expect("an empty file is an empty config");
        assert!(empty.current_context.is_none());
    }

    #[test]
    fn malformed_yaml_is_reported_with_position_but_without_values() {
        let yaml = "users:\n- name: a\n  user: \"sk-live-abcdef\"\n";
        let err = Kubeconfig::from_yaml(yaml).expect_err("user is not a map");
        let text = err.to_string();
        assert!(text.contains("malformed"), "{text}");
        assert!(text.contains("line 3"), "{text}");
        assert!(!text.contains("sk-live-abcdef"), "{text}");

        let err = Kubeconfig::from_yaml("clusters: [unclosed").expect_err("bad yaml");
        assert!(matches!(err, KubeconfigError::Parse { .. }), "{err:?}");
    }

    #[test]
    fn quoted_values_are_dropped_from_messages() {
        assert_eq!(
            without_quoted_values(r#"invalid type: string "se\"cret", expected `map` at line 1"#),
            r#"invalid type: string "…", expected `map` at line 1"#
        );
        assert_eq!(without_quoted_values(r#"open "abc"#), r#"open "…"#);
    }

    #[test]
    fn several_documents_in_one_text_are_merged() {
        let yaml = "current-context: one\ncontexts:\n- name: one\n  context: {cluster: c1}\n---\ncurrent-context: two\nclusters:\n- name: c1\n  cluster: {server: https://c1}\ncontexts:\n- name: one\n  context: {cluster: shadowed}\n- name: two\n  context: {cluster: c1}\n";
        let config = Kubeconfig::from_yaml(yaml).expect("parses");
        assert_eq!(config.current_context.as_deref(), Some("one"));
        assert_eq!(config.contexts.len(), 2);
        assert_eq!(
            config.contexts[0]
                .context
                .as_ref()
                .map(|c| c.cluster.as_str()),
            Some("c1")
        );
        assert_eq!(config.clusters.len(), 1);
    }

    #[test]
    fn merging_keeps_the_first_of_each_name_and_the_first_current_context() {
        let first = Kubeconfig::from_yaml(
            "clusters:\n- name: shared\n  cluster: {server: https://first}\nusers:\n- name: u\n  user: {token: first}\n",
        )
        .expect("first");
        let second = Kubeconfig::from_yaml(
            "current-context: from-second\nclusters:\n- name: shared\n  cluster: {server: https://second}\n- name: extra\n  cluster: {server: https://extra}\nusers:\n- name: u\n  user: {token: second}\n",
        )
        .expect("second");
        let merged = first.merge(second).expect("merges");
        assert_eq!(merged.current_context.as_deref(), Some("from-second"));
        let servers: Vec<_> = merged
            .clusters
            .iter()
            .map(|c| c.cluster.as_ref().and_then(|c| c.server.clone()))
            .collect();
        assert_eq!(
            servers,
            vec![Some("https://first".into()), Some("https://extra".into())]
        );
        assert_eq!(merged.auth_infos.len(), 1);
        let token = merged.auth_infos[0]
            .auth_info
            .as_ref()
            .and_then(|u| u.token.as_ref());
        assert_eq!(token.map(|t| t.expose_secret()), Some("first"));
    }

    #[test]
    fn merging_different_kinds_fails_naming_both() {
        let a = Kubeconfig::from_yaml("kind: Config").expect("a");
        let b = Kubeconfig::from_yaml("kind: Other").expect("b");
        let err = a.merge(b).expect_err("kinds differ");
        assert!(
            err.to_string().contains("\"Config\" and \"Other\""),
            "{err}"
        );
    }

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write");
        path
    }

    #[test]
    fn relative_paths_are_resolved_against_the_file_directory() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = write(dir.path(), "config", TWO_CLUSTERS);
        let config = Kubeconfig::read_from(&path).expect("reads");
        let ca = config.clusters[0]
            .cluster
            .as_ref()
            .and_then(|c| c.certificate_authority.clone());
        assert_eq!(
            ca,
            Some(dir.path().join("certs/ca.pem").display().to_string())
        );
        let alice = config.auth_infos[0].auth_info.as_ref().expect("alice");
        assert_eq!(
            alice.client_certificate.as_deref(),
            Some(dir.path().join("alice.crt").to_str().expect("utf8"))
        );
        assert_eq!(alice.client_key.as_deref(), Some("/abs/alice.key"));
        let exec = |i: usize| {
            config.auth_infos[i]
                .auth_info
                .as_ref()
                .and_then(|u| u.exec.as_ref())
                .and_then(|e| e.command.clone())
        };
        assert_eq!(
            exec(1),
            Some(
                dir.path()
                    .join("./bin/credential-helper")
                    .display()
                    .to_string()
            )
        );
        // A bare command is looked up in PATH, not next to the file.
        assert_eq!(exec(2).as_deref(), Some("gke-gcloud-auth-plugin"));
    }

    #[test]
    fn kubeconfig_lists_merge_in_order_and_skip_missing_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = write(
            dir.path(),
            "first",
            "current-context: a\ncontexts:\n- name: a\n  context: {cluster: one, user: first-user}\n",
        );
        let second = write(
            dir.path(),
            "second",
            "current-context: b\nclusters:\n- name: one\n  cluster: {server: https://one}\nusers:\n- name: first-user\n  user: {tokenFile: token}\n",
        );
        let missing = dir.path().join("missing");
        let list = std::env::join_paths([&first, &missing, &second]).expect("join");
        let config = read_with(Some(list), None).expect("reads");
        assert_eq!(config.current_context.as_deref(), Some("a"));
        let loaded = ConfigLoader::load(config, &KubeConfigOptions::default()).expect("loads");
        assert_eq!(loaded.cluster.server.as_deref(), Some("https://one"));
        // The second file's relative token file is relative to the second file.
        assert_eq!(
            loaded.user.token_file,
            Some(dir.path().join("token").display().to_string())
        );
    }

    #[test]
    fn the_environment_s_list_is_read_and_nothing_without_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = write(dir.path(), "only", "current-context: listed\n");
        let config = from_env_with(Some(file.into_os_string()))
            .expect("reads")
            .expect("a kubeconfig");
        assert_eq!(config.current_context.as_deref(), Some("listed"));
        assert!(from_env_with(None).expect("fine").is_none());
        assert!(
            from_env_with(Some(OsString::new()))
                .expect("fine")
                .is_none()
        );
    }

    #[test]
    fn a_kubeconfig_list_of_only_missing_files_names_them() {
        let list = std::env::join_paths(["/nonexistent/a", "/nonexistent/b"]).expect("join");
        let err = read_with(Some(list), None).expect_err("nothing to read");
        let text = err.to_string();
        assert!(text.contains("/nonexistent/a, /nonexistent/b"), "{text}");
    }

    #[test]
    fn without_kubeconfig_the_home_config_is_read() {
        let home = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(home.path().join(".kube")).expect("mkdir");
        write(
            &home.path().join(".kube"),
            "config",
            "current-context: home\n",
        );
        let config =
            read_with(Some(OsString::new()), Some(home.path().into())).expect("reads home");
        assert_eq!(config.current_context.as_deref(), Some("home"));
        let err = read_with(None, None).expect_err("no home");
        assert!(matches!(err, KubeconfigError::FindPath));
    }

    #[test]
    fn unreadable_and_malformed_files_are_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = Kubeconfig::read_from(dir.path().join("absent")).expect_err("absent");
        assert!(matches!(err, KubeconfigError::ReadConfig(..)));
        assert!(err.to_string().contains("absent"), "{err}");

        let err = Kubeconfig::read_from(dir.path()).expect_err("a directory");
        assert!(
            err.to_string().contains(&dir.path().display().to_string()),
            "{err}"
        );

        let bad = write(dir.path(), "bad", "contexts: {{{\n");
        let err = Kubeconfig::read_from(&bad).expect_err("malformed");
        let text = err.to_string();
        assert!(text.contains(&bad.display().to_string()), "{text}");
        assert!(text.contains("malformed"), "{text}");
    }

    #[test]
    fn utf16_files_are_decoded() {
        let text = "current-context: wide\n";
        let mut le = vec![0xFF, 0xFE];
        let mut be = vec![0xFE, 0xFF];
        for unit in text.encode_utf16() {
            le.extend_from_slice(&unit.to_le_bytes());
            be.extend_from_slice(&unit.to_be_bytes());
        }
        let dir = tempfile::tempdir().expect("tempdir");
        for (name, bytes) in [("le", le), ("be", be)] {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).expect("write");
            let config = Kubeconfig::read_from(&path).expect("decodes");
            assert_eq!(config.current_context.as_deref(), Some("wide"), "{name}");
        }
    }

    #[test]
    fn debug_never_shows_secrets() {
        let yaml = r#"
clusters:
- name: with-user-info
  cluster:
    server: https://admin:server-url-secret@k.example.com
    proxy-url: http://proxy:proxy-url-secret@proxy.example.com:3128
    extensions:
    - name: vendor.example.com/auth
      extension: {key: extension-secret}
    private-field: cluster-other-secret
users:
- name: all-the-secrets
  user:
    username: admin
    password: pa55w0rd-value
    token: tok-abcdef-123456
    client-key-data: a2V5LWRhdGEtc2VjcmV0
    auth-provider:
      name: oidc
      config:
        id-token: idtok-secret
        client-secret: client-secret-value
    exec:
      command: helper
      args: ["--oidc-client-secret=arg-secret-value"]
      env:
      - name: API_KEY
        value: env-secret-value
    private-field: other-secret-value
"#;
        let config = Kubeconfig::from_yaml(yaml).expect("parses");
        let text = format!("{config:?}");
        for secret in [
            "pa55w0rd-value",
            "tok-abcdef-123456",
            "a2V5LWRhdGEtc2VjcmV0",
            "idtok-secret",
            "client-secret-value",
            "env-secret-value",
            "other-secret-value",
            "server-url-secret",
            "proxy-url-secret",
            "extension-secret",
            "cluster-other-secret",
            "arg-secret-value",
        ] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
        assert!(text.contains("admin"), "{text}");
        assert!(text.contains("API_KEY"), "{text}");
        assert!(text.contains("k.example.com"), "{text}");
        assert!(text.contains("vendor.example.com/auth"), "{text}");
        assert!(text.contains("[redacted]"), "{text}");
    }

    #[test]
    fn serialising_writes_the_file_back() {
        let config = Kubeconfig::from_yaml(TWO_CLUSTERS).expect("parses");
        let yaml = serde_saphyr::to_string(&config).expect("serialises");
        let again = Kubeconfig::from_yaml(&yaml).expect("reparses");
        assert_eq!(again.contexts.len(), config.contexts.len());
        let token = again.auth_infos[0]
            .auth_info
            .as_ref()
            .and_then(|u| u.token.as_ref());
        assert_eq!(token.map(|t| t.expose_secret()), Some("alice-token-1234"));
    }
}
