//! The streaming subresources of pods: `exec`, `attach` and `portforward`.
//!
//! Their requests are plain `GET`s that the client upgrades to a WebSocket;
//! this module only builds them. What flows over the socket afterwards is the
//! client's business.

use http::Method;

use crate::{
    params::Query,
    request::{Error, Request, build},
};

/// Which streams of a container to connect to, for `exec` and `attach`.
///
/// The default matches the apiserver's: standard output and standard error,
/// no standard input, no terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachParams {
    /// The container; may be left out when the pod has only one.
    pub container: Option<String>,
    /// Connect standard input.
    pub stdin: bool,
    /// Connect standard output.
    pub stdout: bool,
    /// Connect standard error. Must be off with `tty`: a terminal merges it
    /// into standard output.
    pub stderr: bool,
    /// Allocate a terminal.
    pub tty: bool,
    /// How many bytes of standard input may wait, unsent, before writes block
    /// (1024 when unset).
    pub max_stdin_buf_size: Option<usize>,
    /// How many bytes of standard output may wait, unread, before the
    /// connection stops reading (1024 when unset).
    pub max_stdout_buf_size: Option<usize>,
    /// How many bytes of standard error may wait, unread, before the
    /// connection stops reading (1024 when unset).
    pub max_stderr_buf_size: Option<usize>,
}

impl Default for AttachParams {
    fn default() -> Self {
        Self {
            container: None,
            stdin: false,
            stdout: true,
            stderr: true,
            tty: false,
            max_stdin_buf_size: None,
            max_stdout_buf_size: None,
            max_stderr_buf_size: None,
        }
    }
}

impl AttachParams {
    /// An interactive terminal: standard input and output, a tty, and no
    /// separate standard error.
    #[must_use]
    pub fn interactive_tty() -> Self {
        Self {
            stdin: true,
            stdout: true,
            stderr: false,
            tty: true,
            ..Self::default()
        }
    }

    /// Connects to the container called `container`.
    #[must_use]
    pub fn container<T: Into<String>>(mut self, container: T) -> Self {
        self.container = Some(container.into());
        self
    }

    /// Connects standard input, or not.
    #[must_use]
    pub fn stdin(mut self, enable: bool) -> Self {
        self.stdin = enable;
        self
    }

    /// Connects standard output, or not.
    #[must_use]
    pub fn stdout(mut self, enable: bool) -> Self {
        self.stdout = enable;
        self
    }

    /// Connects standard error, or not.
    #[must_use]
    pub fn stderr(mut self, enable: bool) -> Self {
        self.stderr = enable;
        self
    }

    /// Allocates a terminal, or not.
    #[must_use]
    pub fn tty(mut self, enable: bool) -> Self {
        self.tty = enable;
        self
    }

    /// Sets how much standard input may wait unsent.
    #[must_use]
    pub fn max_stdin_buf_size(mut self, size: usize) -> Self {
        self.max_stdin_buf_size = Some(size);
        self
    }

    /// Sets how much standard output may wait unread.
    #[must_use]
    pub fn max_stdout_buf_size(mut self, size: usize) -> Self {
        self.max_stdout_buf_size = Some(size);
        self
    }

    /// Sets how much standard error may wait unread.
    #[must_use]
    pub fn max_stderr_buf_size(mut self, size: usize) -> Self {
        self.max_stderr_buf_size = Some(size);
        self
    }

    /// Refuses combinations the apiserver would refuse after the upgrade,
    /// where the reason is harder to see.
    fn validate(&self) -> Result<(), Error> {
        if !(self.stdin || self.stdout || self.stderr) {
            return Err(Error::Validation(
                "AttachParams: connect at least one of stdin, stdout and stderr".into(),
            ));
        }
        if self.tty && self.stderr {
            return Err(Error::Validation(
                "AttachParams: a tty merges stderr into stdout; turn stderr off with tty".into(),
            ));
        }
        Ok(())
    }

    fn append_to(&self, query: &mut Query) {
        query.flag("stdin", self.stdin);
        query.flag("stdout", self.stdout);
        query.flag("stderr", self.stderr);
        query.flag("tty", self.tty);
        query.opt("container", self.container.as_deref());
    }

    /// The streams as the kubelet's own endpoints name them; the container
    /// goes in their path.
    #[cfg(feature = "kubelet-debug")]
    pub(crate) fn append_to_kubelet(&self, query: &mut Query) -> Result<(), Error> {
        self.validate()?;
        for (key, on) in [
            ("input", self.stdin),
            ("output", self.stdout),
            ("error", self.stderr),
            ("tty", self.tty),
        ] {
            if on {
                query.pair(key, "1");
            }
        }
        Ok(())
    }
}

impl Request {
    /// `GET` to attach to the running process of a pod's container.
    pub fn attach(&self, name: &str, ap: &AttachParams) -> Result<http::Request<Vec<u8>>, Error> {
        ap.validate()?;
        let mut query = Query::new();
        ap.append_to(&mut query);
        let path = self.subresource_path("attach", name)?;
        build(Method::GET, query.url(&path), None, Vec::new())
    }

    /// `GET` to run `command` in a pod's container. The command is run
    /// directly, not through a shell.
    pub fn exec<I, T>(
        &self,
        name: &str,
        command: I,
        ap: &AttachParams,
    ) -> Result<http::Request<Vec<u8>>, Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<String>,
    {
        ap.validate()?;
        let mut query = Query::new();
        ap.append_to(&mut query);
        let mut empty = true;
        for arg in command {
            query.pair("command", &arg.into());
            empty = false;
        }
        if empty {
            return Err(Error::Validation("exec: the command is empty".into()));
        }
        let path = self.subresource_path("exec", name)?;
        build(Method::GET, query.url(&path), None, Vec::new())
    }

    /// `GET` to forward `ports` of a pod.
    pub fn portforward(&self, name: &str, ports: &[u16]) -> Result<http::Request<Vec<u8>>, Error> {
        let list = port_list(ports)?;
        let mut query = Query::new();
        query.pair("ports", &list);
        let path = self.subresource_path("portforward", name)?;
        build(Method::GET, query.url(&path), None, Vec::new())
    }
}

/// The ports of one port-forward as a query value (`80,443`), once they are
/// checked: between 1 and 128 of them, none twice, none 0.
pub(crate) fn port_list(ports: &[u16]) -> Result<String, Error> {
    if ports.is_empty() {
        return Err(Error::Validation("portforward: no ports given".into()));
    }
    if ports.len() > 128 {
        return Err(Error::Validation(format!(
            "portforward: at most 128 ports at once, got {}",
            ports.len()
        )));
    }
    if ports.contains(&0) {
        return Err(Error::Validation(
            "portforward: port 0 is not a port".into(),
        ));
    }
    let mut seen = std::collections::BTreeSet::new();
    for port in ports {
        if !seen.insert(port) {
            return Err(Error::Validation(format!(
                "portforward: port {port} is given twice"
            )));
        }
    }
    Ok(ports
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(","))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Resource;
    use k8s_openapi::api::core::v1::Pod;

    fn pods() -> Request {
        Request::new(Pod::url_path(&(), Some("ns")))
    }

    #[test]
    fn attach_asks_for_the_chosen_streams() {
        let ap = AttachParams::default().container("main");
        let req = pods().attach("web", &ap).expect("valid");
        assert_eq!(req.method(), "GET");
        assert_eq!(
            req.uri(),
            "/api/v1/namespaces/ns/pods/web/attach?stdout=true&stderr=true&container=main"
        );
        let req = pods()
            .attach("web", &AttachParams::interactive_tty())
            .expect("valid");
        assert_eq!(
            req.uri(),
            "/api/v1/namespaces/ns/pods/web/attach?stdin=true&stdout=true&tty=true"
        );
    }

    #[test]
    fn exec_repeats_command_for_each_argument() {
        let ap = AttachParams::default().stdin(true).stderr(false);
        let req = pods()
            .exec("web", ["sh", "-c", "echo a&b=c"], &ap)
            .expect("valid");
        assert_eq!(
            req.uri(),
            "/api/v1/namespaces/ns/pods/web/exec?stdin=true&stdout=true&command=sh&command=-c&command=echo+a%26b%3Dc"
        );
        assert!(req.body().is_empty());
    }

    #[test]
    fn impossible_stream_choices_are_refused() {
        let none = AttachParams::default().stdout(false).stderr(false);
        assert!(matches!(
            pods().exec("web", ["ls"], &none),
            Err(Error::Validation(_))
        ));
        let tty_and_stderr = AttachParams::default().tty(true);
        let err = pods()
            .attach("web", &tty_and_stderr)
            .expect_err("tty+stderr");
        assert!(err.to_string().contains("stderr"), "{err}");
        let empty: [&str; 0] = [];
        assert!(pods().exec("web", empty, &AttachParams::default()).is_err());
    }

    #[test]
    fn portforward_lists_ports_once() {
        let req = pods().portforward("web", &[80, 1234]).expect("valid");
        assert_eq!(
            req.uri(),
            "/api/v1/namespaces/ns/pods/web/portforward?ports=80%2C1234"
        );
        for bad in [&[][..], &[80, 80][..], &[0][..]] {
            assert!(matches!(
                pods().portforward("web", bad),
                Err(Error::Validation(_))
            ));
        }
        let many: Vec<u16> = (1..=129).collect();
        assert!(pods().portforward("web", &many).is_err());
        assert!(pods().portforward("web", &many[..128]).is_ok());
    }

    #[test]
    fn names_that_would_change_the_path_are_refused() {
        assert!(
            pods()
                .exec("../x", ["ls"], &AttachParams::default())
                .is_err()
        );
        assert!(pods().portforward("a/b", &[80]).is_err());
    }
}
