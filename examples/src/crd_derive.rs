//! Deriving a custom resource from a Rust struct: the type, its schema and
//! the CustomResourceDefinition to install, then letting the apiserver
//! enforce that schema.

use anyhow::Context as _;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::{
    Api, Client, CustomResource, CustomResourceExt, ResourceExt,
    api::{DeleteParams, PostParams},
    core::cel::Rule,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A book on a shelf: the spec of the `Book` custom resource.
#[derive(CustomResource, Deserialize, Serialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "example.com",
    version = "v1",
    kind = "Book",
    namespaced,
    status = "BookStatus",
    shortname = "bk",
    printcolumn(name = "Title", type_ = "string", json_path = ".spec.title"),
    printcolumn(name = "Pages", type_ = "integer", json_path = ".spec.pages"),
    validation = Rule::new("self.spec.title != self.spec.author").message("a book is not titled after its author"),
    derive = "PartialEq"
)]
pub struct BookSpec {
    /// The title, never empty.
    #[schemars(length(min = 1))]
    pub title: String,
    /// Who wrote it.
    pub author: String,
    /// How many pages it has.
    #[schemars(range(min = 1))]
    pub pages: u32,
    /// Subjects, for finding it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

/// Where a book is.
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BookStatus {
    /// Who borrowed it, if anyone.
    pub borrowed_by: Option<String>,
}

/// The definition as YAML, ready for `kubectl apply -f -`.
pub fn crd_yaml() -> anyhow::Result<String> {
    serde_saphyr::to_string(&Book::crd()).context("writing the CustomResourceDefinition as YAML")
}

/// What [`run`] saw.
#[derive(Debug)]
pub struct Outcome {
    /// The definition that was installed.
    pub crd: CustomResourceDefinition,
    /// The valid book, as the apiserver stored it.
    pub accepted: Book,
    /// Why the apiserver refused each invalid book.
    pub refusals: Vec<String>,
}

/// Installs the definition, creates a valid book in `namespace`, and tries
/// two invalid ones, which the apiserver refuses by the derived schema.
pub async fn run(client: Client, namespace: &str) -> anyhow::Result<Outcome> {
    let crd = Book::crd();
    crate::cluster::install_crd(&client, &crd, "crd-derive-example").await?;

    let books: Api<Book> = Api::namespaced(client, namespace);
    let valid = Book::new(
        "dune",
        BookSpec {
            title: "Dune".into(),
            author: "Frank Herbert".into(),
            pages: 412,
            tags: vec!["science fiction".into()],
        },
    );
    let _ = books.delete("dune", &DeleteParams::default()).await;
    let accepted = books.create(&PostParams::default(), &valid).await?;
    tracing::info!(book = %accepted.name_any(), "created");

    let empty_title = Book::new(
        "untitled",
        BookSpec {
            title: String::new(),
            ..valid.spec.clone()
        },
    );
    let self_titled = Book::new(
        "herbert",
        BookSpec {
            title: "Frank Herbert".into(),
            ..valid.spec.clone()
        },
    );
    let mut refusals = Vec::new();
    for invalid in [empty_title, self_titled] {
        match books.create(&PostParams::default(), &invalid).await {
            Err(kube::Error::Api(status)) => refusals.push(status.message),
            Err(other) => return Err(other.into()),
            Ok(created) => anyhow::bail!("the apiserver accepted {}", created.name_any()),
        }
    }
    Ok(Outcome {
        crd,
        accepted,
        refusals,
    })
}
