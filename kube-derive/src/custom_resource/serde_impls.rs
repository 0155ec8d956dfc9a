//! The root type's `Serialize` and `Deserialize`: `apiVersion` and `kind` are
//! written on the way out and checked on the way in.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{DeriveInput, Ident, Path};

use super::attrs::KubeAttrs;

/// What both impls name: the crates, the spec type and the `apiVersion`.
struct Names<'a> {
    kube_core: &'a Path,
    serde: &'a Path,
    /// `serde`'s path for `#[serde(crate = "...")]`.
    serde_str: String,
    spec: &'a Ident,
    api_version: String,
}

impl<'a> Names<'a> {
    fn new(input: &'a DeriveInput, attrs: &'a KubeAttrs) -> Self {
        let serde = &attrs.crates.serde;
        Self {
            kube_core: &attrs.crates.kube_core,
            serde,
            serde_str: quote!(#serde).to_string().replace(' ', ""),
            spec: &input.ident,
            api_version: format!("{}/{}", attrs.group, attrs.version),
        }
    }
}

/// `Serialize` and `Deserialize` for the root type.
pub(super) fn serde_impls(input: &DeriveInput, attrs: &KubeAttrs) -> TokenStream {
    let names = Names::new(input, attrs);
    let Names {
        kube_core,
        serde,
        serde_str,
        spec,
        api_version,
    } = &names;
    let KubeAttrs { root, kind, .. } = attrs;
    let root_name = root.to_string();
    let mismatch =
        format!("{{field}} {{found:?}} is not {{expected:?}}: this is not a {root_name}");

    let (field_count, serialize_status, wire_status, build_status) = match &attrs.status {
        Some(status) => (
            quote!(4 + usize::from(self.status.is_some())),
            quote! {
                match &self.status {
                    Some(status) => object.serialize_field("status", status)?,
                    None => object.skip_field("status")?,
                }
            },
            quote! {
                #[serde(default)]
                status: Option<#status>,
            },
            quote!(status: wire.status,),
        ),
        None => (quote!(4), quote!(), quote!(), quote!()),
    };

    let serialize = if attrs.no_spec {
        flat_serialize(&names, attrs)
    } else {
        quote! {
            impl #serde::Serialize for #root {
                fn serialize<S>(&self, serializer: S) -> Result<S::Ok, S::Error>
                where
                    S: #serde::Serializer,
                {
                    use #serde::ser::SerializeStruct as _;

                    let mut object = serializer.serialize_struct(#root_name, #field_count)?;
                    object.serialize_field("apiVersion", #api_version)?;
                    object.serialize_field("kind", #kind)?;
                    object.serialize_field("metadata", &self.metadata)?;
                    object.serialize_field("spec", &self.spec)?;
                    #serialize_status
                    object.end()
                }
            }
        }
    };
    // With `no_spec`, the spec's fields are what is left of the object once
    // the other fields are read.
    let spec_attr = attrs.no_spec.then(|| quote!(#[serde(flatten)]));

    quote! {
        #serialize

        impl<'de> #serde::Deserialize<'de> for #root {
            fn deserialize<D>(deserializer: D) -> Result<Self, D::Error>
            where
                D: #serde::Deserializer<'de>,
            {
                #[derive(#serde::Deserialize)]
                #[serde(crate = #serde_str, rename_all = "camelCase")]
                struct Wire {
                    #[serde(default)]
                    api_version: Option<String>,
                    #[serde(default)]
                    kind: Option<String>,
                    #[serde(default)]
                    metadata: #kube_core::ObjectMeta,
                    #spec_attr
                    spec: #spec,
                    #wire_status
                }

                let wire = Wire::deserialize(deserializer)?;
                for (field, found, expected) in [
                    ("apiVersion", wire.api_version.as_deref(), #api_version),
                    ("kind", wire.kind.as_deref(), #kind),
                ] {
                    if let Some(found) = found.filter(|found| *found != expected) {
                        return Err(#serde::de::Error::custom(format_args!(#mismatch)));
                    }
                }
                Ok(Self {
                    metadata: wire.metadata,
                    spec: wire.spec,
                    #build_status
                })
            }
        }
    }
}

/// `Serialize` for a root type whose spec's fields sit beside `metadata`: a
/// borrowed copy with the spec flattened, which serde knows how to write.
fn flat_serialize(names: &Names, attrs: &KubeAttrs) -> TokenStream {
    let Names {
        kube_core,
        serde,
        serde_str,
        spec,
        api_version,
    } = names;
    let KubeAttrs { root, kind, .. } = attrs;
    let (status_field, status_value) = match &attrs.status {
        Some(status) => (
            quote! {
                #[serde(skip_serializing_if = "Option::is_none")]
                status: Option<&'a #status>,
            },
            quote!(status: self.status.as_ref(),),
        ),
        None => (quote!(), quote!()),
    };
    quote! {
        impl #serde::Serialize for #root {
            fn serialize<S>(&self, serializer: S) -> Result<S::Ok, S::Error>
            where
                S: #serde::Serializer,
            {
                #[derive(#serde::Serialize)]
                #[serde(crate = #serde_str, rename_all = "camelCase")]
                struct Wire<'a> {
                    api_version: &'static str,
                    kind: &'static str,
                    metadata: &'a #kube_core::ObjectMeta,
                    #[serde(flatten)]
                    spec: &'a #spec,
                    #status_field
                }

                #serde::Serialize::serialize(
                    &Wire {
                        api_version: #api_version,
                        kind: #kind,
                        metadata: &self.metadata,
                        spec: &self.spec,
                        #status_value
                    },
                    serializer,
                )
            }
        }
    }
}
