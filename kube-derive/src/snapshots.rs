//! Snapshots of what the derives expand to.
//!
//! Each input under `tests/expand/NAME.rs` holds one derive input; its expansion,
//! formatted with `prettyplease`, must equal `tests/expand/NAME.expanded.rs`.
//! Run with `UPDATE_SNAPSHOTS=1` to rewrite the expected files after an
//! intended change, and review the diff.

use std::{fs, path::PathBuf};

use proc_macro2::TokenStream;
use quote::ToTokens;

fn expand_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/expand")
}

/// Expands the single item of `tests/expand/{name}.rs` with `derive` and checks
/// the formatted result against the snapshot.
fn check(name: &str, derive: fn(TokenStream) -> TokenStream) {
    let input_path = expand_dir().join(format!("{name}.rs"));
    let source = fs::read_to_string(&input_path)
        .unwrap_or_else(|err| panic!("reading {}: {err}", input_path.display()));
    let file: syn::File = syn::parse_str(&source)
        .unwrap_or_else(|err| panic!("parsing {}: {err}", input_path.display()));
    let item = file
        .items
        .iter()
        .find(|item| matches!(item, syn::Item::Struct(_) | syn::Item::Enum(_)))
        .unwrap_or_else(|| panic!("{} holds no struct", input_path.display()));
    let expanded = derive(item.to_token_stream());
    let formatted = match syn::parse2::<syn::File>(expanded.clone()) {
        Ok(file) => prettyplease::unparse(&file),
        Err(err) => panic!("the expansion of {name} does not parse: {err}\n{expanded}"),
    };
    let snapshot_path = expand_dir().join(format!("{name}.expanded.rs"));
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        fs::write(&snapshot_path, &formatted)
            .unwrap_or_else(|err| panic!("writing {}: {err}", snapshot_path.display()));
        return;
    }
    let expected = fs::read_to_string(&snapshot_path).unwrap_or_default();
    if expected != formatted {
        let first_difference = expected
            .lines()
            .zip(formatted.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| expected.lines().count().min(formatted.lines().count()));
        panic!(
            "the expansion of {name} differs from {} from line {}; rerun with UPDATE_SNAPSHOTS=1 to accept it:\n{formatted}",
            snapshot_path.display(),
            first_difference + 1
        );
    }
}

#[test]
fn minimal_cluster_scoped_resource() {
    check("minimal", crate::custom_resource::derive);
}

#[test]
fn namespaced_resource_with_status_scale_and_columns() {
    check("full", crate::custom_resource::derive);
}

#[test]
fn resource_with_custom_crates_and_manual_schema() {
    check("custom_crates", crate::custom_resource::derive);
}

#[test]
fn kube_schema_with_rules_and_merge_strategy() {
    check("kube_schema", crate::kube_schema::derive);
}

#[test]
fn inherited_resource() {
    check("inherit", crate::resource::derive);
}
