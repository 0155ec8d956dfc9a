//! The demo's scripted tour, start to end.

use examples::{
    demo::{self, Printer},
    output::Style,
};

use crate::common::client;

#[tokio::test]
async fn the_demo_creates_changes_and_deletes_generators_and_reports_it() {
    let client = client().await;
    let mut out = Printer::new(Vec::new(), Style::plain());
    let report = demo::run(&client, &mut out).await.expect("the demo runs");
    let text = String::from_utf8(out.into_inner()).expect("UTF-8 output");

    assert_eq!(
        report.config_maps,
        [
            vec![
                "fanout-0",
                "fanout-1",
                "fanout-2",
                "greeting-0",
                "settings-0",
                "settings-1"
            ],
            vec!["fanout-0", "greeting-0", "settings-0", "settings-1"],
            vec!["fanout-0", "greeting-0"],
        ]
        .map(|names| names.into_iter().map(String::from).collect::<Vec<_>>())
    );
    let mut events = report.events.clone();
    events.sort();
    assert_eq!(
        events,
        [
            (
                "fanout",
                "Created",
                "created ConfigMaps fanout-0, fanout-1, fanout-2"
            ),
            ("fanout", "Deleted", "deleted ConfigMaps fanout-1, fanout-2"),
            ("fanout", "Updated", "updated ConfigMap fanout-0"),
            ("greeting", "Created", "created ConfigMap greeting-0"),
            (
                "settings",
                "Created",
                "created ConfigMaps settings-0, settings-1"
            ),
        ]
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    );
    assert_eq!(
        report.reconciles.keys().collect::<Vec<_>>(),
        ["fanout", "greeting", "settings"]
    );
    assert!(report.reconciles.values().all(|n| *n >= 1));

    for expected in [
        "▸ 1. Create three generators",
        "the operator updated fanout-0, deleted fanout-1 and fanout-2",
        "the garbage collector deleted settings-0 and settings-1",
        "ConfigMapGenerator/fanout (uid ",
        r#"controller_runtime_reconcile_total{controller="configmapgenerator",result="requeue_after"}"#,
        "deleted namespace configmapgen-demo-",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
    assert!(!text.contains('\x1b'), "plain output has no escape codes");
}
