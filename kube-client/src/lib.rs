//! A client for the Kubernetes API: configuration, the HTTP client and `Api<K>`.
