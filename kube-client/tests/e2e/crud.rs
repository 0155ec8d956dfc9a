//! Create, read, replace, patch and delete against the real apiserver.

use std::collections::BTreeSet;

use either::Either;
use k8s_openapi::api::core::v1::ConfigMap;
use kube_client::{
    Api,
    api::{DeleteParams, ListParams, Patch, PatchParams, PostParams, ResourceExt},
};
use serde_json::json;

use crate::common::{api_status, client_in_fresh_namespace, config_map};

#[tokio::test]
async fn crud_reports_not_found_already_exists_and_invalid() {
    let (client, ns) = client_in_fresh_namespace().await;
    let maps: Api<ConfigMap> = Api::namespaced(client, &ns);
    let pp = PostParams::default();

    let created = maps
        .create(&pp, &config_map("one", &[], &[("k", "v")]))
        .await
        .expect("create");
    assert_eq!(created.name_any(), "one");
    assert_eq!(created.namespace().as_deref(), Some(ns.as_str()));
    assert!(created.uid().is_some(), "the server assigned a uid");

    let read = maps.get("one").await.expect("get");
    assert_eq!(read.data.as_ref().map(|d| d["k"].as_str()), Some("v"));

    let missing = api_status(maps.get("nope").await);
    assert_eq!(missing.code, 404);
    assert!(missing.is_not_found(), "{missing:?}");
    assert!(maps.get_opt("nope").await.expect("get_opt").is_none());
    assert!(maps.get_opt("one").await.expect("get_opt").is_some());

    let exists = api_status(maps.create(&pp, &config_map("one", &[], &[])).await);
    assert_eq!(exists.code, 409);
    assert!(exists.is_already_exists(), "{exists:?}");

    let invalid = api_status(
        maps.create(&pp, &config_map("Not_A_Valid_Name", &[], &[]))
            .await,
    );
    assert_eq!(invalid.code, 422);
    assert!(invalid.is_invalid(), "{invalid:?}");
    let causes = invalid.details.map(|d| d.causes).unwrap_or_default();
    assert!(
        causes.iter().any(|c| c.field == "metadata.name"),
        "the cause names the field: {causes:?}"
    );

    match maps
        .delete("one", &DeleteParams::default())
        .await
        .expect("delete")
    {
        Either::Right(status) => assert!(status.is_success(), "{status:?}"),
        Either::Left(cm) => panic!("a ConfigMap without finalizers is gone at once, got {cm:?}"),
    }
    assert!(maps.get_opt("one").await.expect("get_opt").is_none());
}

#[tokio::test]
async fn replace_with_a_stale_resource_version_conflicts() {
    let (client, ns) = client_in_fresh_namespace().await;
    let maps: Api<ConfigMap> = Api::namespaced(client, &ns);
    let pp = PostParams::default();
    let original = maps
        .create(&pp, &config_map("race", &[], &[("n", "0")]))
        .await
        .expect("create");

    let mut first = original.clone();
    first.data = Some([("n".to_string(), "1".to_string())].into());
    let replaced = maps.replace("race", &pp, &first).await.expect("replace");
    assert_ne!(replaced.resource_version(), original.resource_version());

    let mut stale = original;
    stale.data = Some([("n".to_string(), "2".to_string())].into());
    let conflict = api_status(maps.replace("race", &pp, &stale).await);
    assert_eq!(conflict.code, 409);
    assert!(conflict.is_conflict(), "{conflict:?}");
    let current = maps.get("race").await.expect("get");
    assert_eq!(current.data.map(|d| d["n"].clone()).as_deref(), Some("1"));
}

#[tokio::test]
async fn server_side_apply_conflicts_between_managers_until_forced() {
    let (client, ns) = client_in_fresh_namespace().await;
    let maps: Api<ConfigMap> = Api::namespaced(client, &ns);
    let apply = |value: &str| {
        json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "shared"},
            "data": {"owner": value}
        })
    };

    let alice = maps
        .patch(
            "shared",
            &PatchParams::apply("alice"),
            &Patch::Apply(apply("alice")),
        )
        .await
        .expect("first apply creates");
    assert_eq!(
        alice.data.as_ref().map(|d| d["owner"].as_str()),
        Some("alice")
    );

    let conflict = api_status(
        maps.patch(
            "shared",
            &PatchParams::apply("bob"),
            &Patch::Apply(apply("bob")),
        )
        .await,
    );
    assert_eq!(conflict.code, 409);
    assert!(conflict.is_conflict(), "{conflict:?}");
    assert!(conflict.message.contains("alice"), "{}", conflict.message);

    let forced = maps
        .patch(
            "shared",
            &PatchParams::apply("bob").force(),
            &Patch::Apply(apply("bob")),
        )
        .await
        .expect("forced apply");
    assert_eq!(
        forced.data.as_ref().map(|d| d["owner"].as_str()),
        Some("bob")
    );
    let managers: Vec<String> = forced
        .managed_fields()
        .iter()
        .filter_map(|m| m.manager.clone())
        .collect();
    assert!(managers.contains(&"bob".to_string()), "{managers:?}");
}

#[tokio::test]
async fn merge_strategic_and_json_patches_apply() {
    let (client, ns) = client_in_fresh_namespace().await;
    let maps: Api<ConfigMap> = Api::namespaced(client, &ns);
    maps.create(
        &PostParams::default(),
        &config_map("patched", &[("a", "1")], &[("x", "1"), ("y", "2")]),
    )
    .await
    .expect("create");
    let pp = PatchParams::default();

    let merged = maps
        .patch(
            "patched",
            &pp,
            &Patch::Merge(json!({"data": {"x": null, "z": "3"}})),
        )
        .await
        .expect("merge patch");
    let keys: Vec<String> = merged.data.unwrap_or_default().into_keys().collect();
    assert_eq!(keys, ["y", "z"]);

    let strategic = maps
        .patch(
            "patched",
            &pp,
            &Patch::Strategic(json!({"metadata": {"labels": {"b": "2"}}})),
        )
        .await
        .expect("strategic patch");
    assert_eq!(strategic.labels().len(), 2);

    let ops: json_patch::Patch = serde_json::from_value(json!([
        {"op": "test", "path": "/data/y", "value": "2"},
        {"op": "replace", "path": "/data/y", "value": "20"},
        {"op": "add", "path": "/data/w", "value": "4"}
    ]))
    .expect("valid json patch");
    let patched = maps
        .patch("patched", &pp, &Patch::Json::<()>(ops))
        .await
        .expect("json patch");
    let data = patched.data.unwrap_or_default();
    assert_eq!(data["y"], "20");
    assert_eq!(data["w"], "4");

    let failing: json_patch::Patch = serde_json::from_value(json!([
        {"op": "test", "path": "/data/y", "value": "nope"}
    ]))
    .expect("valid json patch");
    let status = api_status(
        maps.patch("patched", &pp, &Patch::Json::<()>(failing))
            .await,
    );
    assert!(status.code == 422 || status.code == 500, "{status:?}");
}

#[tokio::test]
async fn dry_run_persists_nothing() {
    let (client, ns) = client_in_fresh_namespace().await;
    let maps: Api<ConfigMap> = Api::namespaced(client, &ns);
    let dry = PostParams {
        dry_run: true,
        ..PostParams::default()
    };
    let answered = maps
        .create(&dry, &config_map("ghost", &[], &[("k", "v")]))
        .await
        .expect("dry-run create");
    assert_eq!(answered.name_any(), "ghost");
    assert!(maps.get_opt("ghost").await.expect("get_opt").is_none());

    maps.create(
        &PostParams::default(),
        &config_map("real", &[], &[("k", "v")]),
    )
    .await
    .expect("create");
    let patched = maps
        .patch(
            "real",
            &PatchParams::default().dry_run(),
            &Patch::Merge(json!({"data": {"k": "changed"}})),
        )
        .await
        .expect("dry-run patch");
    assert_eq!(
        patched.data.as_ref().map(|d| d["k"].as_str()),
        Some("changed")
    );
    let stored = maps.get("real").await.expect("get");
    assert_eq!(stored.data.as_ref().map(|d| d["k"].as_str()), Some("v"));

    maps.delete("real", &DeleteParams::default().dry_run())
        .await
        .expect("dry-run delete");
    assert!(maps.get_opt("real").await.expect("get_opt").is_some());
}

#[tokio::test]
async fn pagination_walks_every_page() {
    let (client, ns) = client_in_fresh_namespace().await;
    let maps: Api<ConfigMap> = Api::namespaced(client, &ns);
    for i in 0..25 {
        maps.create(
            &PostParams::default(),
            &config_map(&format!("page-{i:02}"), &[("set", "paged")], &[]),
        )
        .await
        .expect("create");
    }
    let mut names = BTreeSet::new();
    let mut pages = 0;
    let mut lp = ListParams::default().labels("set=paged").limit(10);
    loop {
        let page = maps.list(&lp).await.expect("list page");
        pages += 1;
        assert!(page.items.len() <= 10);
        names.extend(page.items.iter().map(ResourceExt::name_any));
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => lp = lp.continue_token(&token),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(names.len(), 25);
    assert!(names.contains("page-00") && names.contains("page-24"));
}

#[tokio::test]
async fn label_and_field_selectors_filter_lists() {
    let (client, ns) = client_in_fresh_namespace().await;
    let maps: Api<ConfigMap> = Api::namespaced(client, &ns);
    for (name, tier) in [("web-1", "web"), ("web-2", "web"), ("db-1", "db")] {
        maps.create(
            &PostParams::default(),
            &config_map(name, &[("tier", tier)], &[]),
        )
        .await
        .expect("create");
    }
    let names = |list: kube_client::api::ObjectList<ConfigMap>| {
        let mut names: Vec<String> = list.iter().map(ResourceExt::name_any).collect();
        names.sort();
        names
    };
    let web = maps
        .list(&ListParams::default().labels("tier=web"))
        .await
        .expect("label list");
    assert_eq!(names(web), ["web-1", "web-2"]);
    let not_web = maps
        .list(&ListParams::default().labels("tier,tier!=web"))
        .await
        .expect("label list");
    assert_eq!(names(not_web), ["db-1"]);
    let by_field = maps
        .list(&ListParams::default().fields("metadata.name=web-2"))
        .await
        .expect("field list");
    assert_eq!(names(by_field), ["web-2"]);
    let bad = api_status(maps.list(&ListParams::default().fields("data.k=v")).await);
    assert_eq!(bad.code, 400, "{bad:?}");
}

#[tokio::test]
async fn metadata_only_reads_carry_labels_but_no_data() {
    let (client, ns) = client_in_fresh_namespace().await;
    let maps: Api<ConfigMap> = Api::namespaced(client, &ns);
    maps.create(
        &PostParams::default(),
        &config_map("meta", &[("app", "m")], &[("big", "data")]),
    )
    .await
    .expect("create");

    let meta = maps.get_metadata("meta").await.expect("get_metadata");
    assert_eq!(
        meta.metadata.labels.as_ref().map(|l| l["app"].as_str()),
        Some("m")
    );
    let types = meta.types.expect("type meta");
    assert_eq!(types.kind, "PartialObjectMetadata");
    assert!(
        maps.get_metadata_opt("absent")
            .await
            .expect("opt")
            .is_none()
    );

    let list = maps
        .list_metadata(&ListParams::default().labels("app=m"))
        .await
        .expect("list_metadata");
    assert_eq!(list.items.len(), 1);
    assert_eq!(list.types.kind, "PartialObjectMetadataList");
    assert_eq!(list.items[0].metadata.name.as_deref(), Some("meta"));

    let patched = maps
        .patch_metadata(
            "meta",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"annotations": {"seen": "yes"}}})),
        )
        .await
        .expect("patch_metadata");
    assert_eq!(
        patched
            .metadata
            .annotations
            .as_ref()
            .map(|a| a["seen"].as_str()),
        Some("yes")
    );
}

#[tokio::test]
async fn delete_collection_removes_only_the_selected_objects() {
    let (client, ns) = client_in_fresh_namespace().await;
    let maps: Api<ConfigMap> = Api::namespaced(client, &ns);
    for (name, group) in [
        ("a", "drop"),
        ("b", "drop"),
        ("c", "drop"),
        ("keep", "keep"),
    ] {
        maps.create(
            &PostParams::default(),
            &config_map(name, &[("group", group)], &[]),
        )
        .await
        .expect("create");
    }
    let deleted = maps
        .delete_collection(
            &DeleteParams::default(),
            &ListParams::default().labels("group=drop"),
        )
        .await
        .expect("delete_collection");
    match deleted {
        Either::Left(list) => {
            let mut names: Vec<String> = list.iter().map(ResourceExt::name_any).collect();
            names.sort();
            assert_eq!(names, ["a", "b", "c"]);
        }
        Either::Right(status) => assert!(status.is_success(), "{status:?}"),
    }
    let left: Vec<String> = maps
        .list(&ListParams::default())
        .await
        .expect("list")
        .iter()
        .map(ResourceExt::name_any)
        .filter(|n| n != "kube-root-ca.crt")
        .collect();
    assert_eq!(left, ["keep"]);
}

#[tokio::test]
async fn delete_returns_the_object_while_a_finalizer_holds_it() {
    let (client, ns) = client_in_fresh_namespace().await;
    let maps: Api<ConfigMap> = Api::namespaced(client, &ns);
    let mut held = config_map("held", &[], &[]);
    held.metadata.finalizers = Some(vec!["example.com/hold".to_string()]);
    maps.create(&PostParams::default(), &held)
        .await
        .expect("create");

    match maps
        .delete("held", &DeleteParams::default())
        .await
        .expect("delete")
    {
        Either::Left(cm) => {
            assert!(
                cm.metadata.deletion_timestamp.is_some(),
                "marked for deletion"
            );
            assert_eq!(cm.finalizers(), ["example.com/hold"]);
        }
        Either::Right(status) => panic!("the finalizer keeps the object, got {status:?}"),
    }
    assert!(maps.get_opt("held").await.expect("get_opt").is_some());

    maps.patch(
        "held",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": null}})),
    )
    .await
    .expect("remove the finalizer");
    assert!(maps.get_opt("held").await.expect("get_opt").is_none());

    let status = api_status(maps.delete("held", &DeleteParams::default()).await);
    assert!(status.is_not_found(), "{status:?}");
}

#[tokio::test]
async fn entry_inserts_modifies_and_refuses_a_conflicting_commit() {
    use kube_client::api::entry::{CommitError, Entry};

    let (client, ns) = client_in_fresh_namespace().await;
    let maps: Api<ConfigMap> = Api::namespaced(client, &ns);
    let pp = PostParams::default();

    let entry = maps.entry("settings").await.expect("entry");
    assert!(matches!(entry, Entry::Vacant(_)));
    let mut inserted = entry.or_insert(|| config_map("ignored-name-is-kept", &[], &[("v", "1")]));
    let validation = inserted.commit(&pp).await.expect_err("name mismatch");
    assert!(
        matches!(validation, CommitError::Validate(_)),
        "{validation}"
    );

    let mut inserted = maps
        .entry("settings")
        .await
        .expect("entry")
        .or_insert(ConfigMap::default)
        .and_modify(|cm| {
            cm.data = Some([("v".to_string(), "1".to_string())].into());
        });
    inserted.commit(&pp).await.expect("commit creates");
    assert!(inserted.get().uid().is_some(), "holds the stored object");

    let mut first = maps
        .entry("settings")
        .await
        .expect("entry")
        .or_insert(ConfigMap::default);
    let mut second = maps
        .entry("settings")
        .await
        .expect("entry")
        .or_insert(ConfigMap::default);
    first
        .get_mut()
        .data
        .get_or_insert_default()
        .insert("v".into(), "2".into());
    first.commit(&pp).await.expect("first commit replaces");
    second
        .get_mut()
        .data
        .get_or_insert_default()
        .insert("v".into(), "3".into());
    match second.commit(&pp).await {
        Err(CommitError::Save(kube_client::Error::Api(status))) => {
            assert!(status.is_conflict(), "{status:?}");
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    let stored = maps.get("settings").await.expect("get");
    assert_eq!(stored.data.map(|d| d["v"].clone()).as_deref(), Some("2"));

    // An unchanged entry commits without a request.
    let mut clean = maps
        .entry("settings")
        .await
        .expect("entry")
        .or_insert(ConfigMap::default);
    let before = clean.get().resource_version();
    clean.commit(&pp).await.expect("no-op commit");
    assert_eq!(clean.get().resource_version(), before);
}

#[tokio::test]
async fn an_entry_committed_as_a_dry_run_stays_pending_until_a_real_commit() {
    let (client, ns) = client_in_fresh_namespace().await;
    let maps: Api<ConfigMap> = Api::namespaced(client, &ns);
    let dry_run = PostParams {
        dry_run: true,
        ..PostParams::default()
    };
    let pp = PostParams::default();

    // A dry-run create stores nothing, and leaves the creation pending.
    let mut entry = maps
        .entry("pending")
        .await
        .expect("entry")
        .or_insert(|| config_map("pending", &[], &[("v", "1")]));
    entry.commit(&dry_run).await.expect("dry-run create");
    assert!(maps.get_opt("pending").await.expect("get_opt").is_none());
    entry.commit(&pp).await.expect("real create");
    let stored = maps.get("pending").await.expect("created");
    assert_eq!(stored.data.map(|d| d["v"].clone()).as_deref(), Some("1"));

    // A dry-run replace changes nothing, and leaves the change pending.
    let mut entry = maps
        .entry("pending")
        .await
        .expect("entry")
        .or_insert(ConfigMap::default)
        .and_modify(|cm| {
            cm.data
                .get_or_insert_default()
                .insert("v".into(), "2".into());
        });
    entry.commit(&dry_run).await.expect("dry-run replace");
    let unchanged = maps.get("pending").await.expect("get");
    assert_eq!(unchanged.data.map(|d| d["v"].clone()).as_deref(), Some("1"));
    entry.commit(&pp).await.expect("real replace");
    let replaced = maps.get("pending").await.expect("get");
    assert_eq!(replaced.data.map(|d| d["v"].clone()).as_deref(), Some("2"));
}
