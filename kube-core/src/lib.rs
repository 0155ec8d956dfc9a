//! The types of the Kubernetes API and the pure functions around them.
//!
//! Kubernetes is generic in disguise: every object carries [`TypeMeta`] and
//! [`ObjectMeta`], every resource lives at a URL derived from its group, version,
//! plural and namespace, and every collection answers list and watch the same way.
//! This crate encodes that once, with traits:
//!
//! - [`Resource`] says where a type lives in the API (its kind, group, version and
//!   plural) and gives access to its metadata. Every `k8s-openapi` type implements
//!   it; [`DynamicObject`] implements it for kinds known only at runtime.
//! - [`params`] holds the options of every verb (list, watch, create, patch, delete)
//!   and [`Request`] turns a resource URL plus those options into an
//!   [`http::Request`] — without sending it. Sending is `kube-client`'s job.
//! - [`WatchEvent`], [`ObjectList`] and [`Status`] are what the apiserver answers.
//! - [`labels`] parses and prints label selectors.
//!
//! This crate does no I/O. It never enables a `k8s-openapi` version feature: the
//! final binary chooses which Kubernetes version it speaks.
//!
//! # From a type to a request
//!
//! A type's [`Resource`] impl says where its objects live; a [`Request`] for
//! that URL builds the HTTP request of each verb from its params:
//!
//! ```
//! use k8s_openapi::api::core::v1::Pod;
//! use kube_core::{Request, Resource, params::ListParams};
//!
//! assert_eq!(Pod::api_version(&()), "v1");
//! assert_eq!(Pod::plural(&()), "pods");
//! let url = Pod::url_path(&(), Some("shop"));
//! assert_eq!(url, "/api/v1/namespaces/shop/pods");
//!
//! let list = Request::new(url).list(&ListParams::default().labels("app=web").limit(50))?;
//! assert_eq!(list.method(), "GET");
//! assert_eq!(list.uri(), "/api/v1/namespaces/shop/pods?labelSelector=app%3Dweb&limit=50");
//! # Ok::<(), kube_core::request::Error>(())
//! ```
//!
//! Kinds known only at runtime get the same treatment through an
//! [`ApiResource`], the dynamic type of [`DynamicObject`]:
//!
//! ```
//! use kube_core::{ApiResource, DynamicObject, GroupVersionKind, Resource};
//!
//! let gvk = GroupVersionKind::gvk("example.com", "v1", "Widget");
//! let widgets = ApiResource::from_gvk(&gvk);
//! assert_eq!(DynamicObject::url_path(&widgets, None), "/apis/example.com/v1/widgets");
//!
//! let widget = DynamicObject::new("w1", &widgets).data(serde_json::json!({ "spec": { "size": 3 } }));
//! assert_eq!(widget.types.as_ref().map(|t| t.kind.as_str()), Some("Widget"));
//! ```

#[cfg(feature = "admission")]
pub mod admission;
pub mod cel;
pub mod conditions;
pub mod conversion;
pub mod crd;
pub mod discovery;
pub mod duration;
pub mod dynamic;
pub mod error_boundary;
pub mod gvk;
#[cfg(feature = "kubelet-debug")]
pub mod kubelet_debug;
pub mod labels;
pub mod metadata;
pub mod object;
pub mod params;
pub mod request;
mod resource;
pub mod response;
#[cfg(feature = "schema")]
pub mod schema;
pub mod subresource;
pub mod util;
pub mod version;
pub mod watch;

pub use cel::{ListMerge, MapMerge, Message, Reason, Rule, StructMerge};
#[cfg(feature = "schema")]
pub use cel::{
    merge_properties, merge_strategy, merge_strategy_property, validate, validate_property,
};
pub use crd::CustomResourceExt;
pub use discovery::ApiResource;
pub use duration::Duration;
pub use dynamic::DynamicObject;
pub use error_boundary::DeserializeGuard;
pub use gvk::{GroupVersion, GroupVersionKind, GroupVersionResource};
pub use labels::{Expression, ParseExpressionError, Selector, SelectorExt};
pub use metadata::{ListMeta, ObjectMeta, PartialObjectMeta, PartialObjectMetaExt, TypeMeta};
pub use object::{NotUsed, Object, ObjectList};
pub use request::Request;
pub use resource::{
    ClusterResourceScope, DynamicResourceScope, NamespaceResourceScope, NamespaceScope, Resource,
    ResourceExt, ResourceScope, SubResourceScope, api_version_from_group_version,
};
pub use response::Status;
pub use version::Version;
pub use watch::WatchEvent;

/// The name code written for older kube-rs releases uses for [`Status`], the
/// apiserver's answer when it refuses a request.
#[deprecated(note = "use `Status`: the apiserver's error answers are Status objects")]
pub type ErrorResponse = Status;

/// `k8s-openapi`, re-exported so generated code and users name one version of it.
pub use k8s_openapi;

/// `schemars`, re-exported for the code `#[derive(CustomResource)]` and
/// `#[derive(KubeSchema)]` generate.
#[cfg(feature = "schema")]
pub use schemars;
/// `serde`, re-exported for the code `#[derive(CustomResource)]` generates.
pub use serde;
/// `serde_json`, re-exported for the code `#[derive(CustomResource)]` generates.
pub use serde_json;
