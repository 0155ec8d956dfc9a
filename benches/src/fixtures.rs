//! The objects the local server hands out: realistic ConfigMaps and Pods as the
//! apiserver writes them (compact JSON, `managedFields` included), generated
//! deterministically so every process serves byte-identical input.

use serde_json::{Value, json};

/// The namespace every generated object lives in.
pub const NAMESPACE: &str = "bench";

/// A label selector matching every generated config map.
pub const BENCH_SELECTOR: &str = "app.kubernetes.io/name=web";

/// The resource version of every list; watch events count up from it.
pub const LIST_VERSION: u64 = 1_000_000;

/// The name of config map number `i`.
pub fn config_map_name(i: usize) -> String {
    format!("app-config-{i:06}")
}

/// A stable, unique-looking UID for object `i` of a kind.
fn uid(kind: u8, i: usize) -> String {
    let mixed = (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ u64::from(kind);
    format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        mixed >> 32,
        (mixed >> 16) & 0xffff,
        mixed & 0xfff,
        (mixed >> 20) & 0xfff,
        mixed & 0xffff_ffff_ffff
    )
}

/// Config map number `i` at resource version `version`: Helm-style labels and
/// annotations, two managers in `managedFields`, a small config file of data.
/// About 1 KiB as JSON.
pub fn config_map(i: usize, version: u64) -> Value {
    let name = config_map_name(i);
    json!({
        "kind": "ConfigMap",
        "apiVersion": "v1",
        "metadata": {
            "name": name,
            "namespace": NAMESPACE,
            "uid": uid(1, i),
            "resourceVersion": version.to_string(),
            "creationTimestamp": "2025-03-14T09:26:53Z",
            "labels": {
                "app.kubernetes.io/instance": format!("web-{}", i % 97),
                "app.kubernetes.io/managed-by": "Helm",
                "app.kubernetes.io/name": "web",
                "app.kubernetes.io/version": "1.27.3"
            },
            "annotations": {
                "meta.helm.sh/release-name": format!("web-{}", i % 97),
                "meta.helm.sh/release-namespace": NAMESPACE
            },
            "managedFields": [
                {
                    "manager": "helm",
                    "operation": "Update",
                    "apiVersion": "v1",
                    "time": "2025-03-14T09:26:53Z",
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {
                        "f:data": {".": {}, "f:app.yaml": {}, "f:LOG_LEVEL": {}},
                        "f:metadata": {
                            "f:annotations": {
                                ".": {},
                                "f:meta.helm.sh/release-name": {},
                                "f:meta.helm.sh/release-namespace": {}
                            },
                            "f:labels": {
                                ".": {},
                                "f:app.kubernetes.io/instance": {},
                                "f:app.kubernetes.io/managed-by": {},
                                "f:app.kubernetes.io/name": {},
                                "f:app.kubernetes.io/version": {}
                            }
                        }
                    }
                }
            ]
        },
        "data": {
            "LOG_LEVEL": "info",
            "app.yaml": format!(
                "server:\n  port: 8080\n  workers: {}\ncache:\n  ttl: 300s\n  size: 1024\nupstream:\n  url: http://backend-{}.{NAMESPACE}.svc.cluster.local:9000\n  timeout: 5s\n",
                i % 16 + 1,
                i % 13
            )
        }
    })
}

/// The node pod `i` runs on: one of 50.
pub fn node_name(i: usize) -> String {
    format!("node-{:03}", i % 50)
}

/// The IP of pod `i`: distinct for the first 62,500 pods.
pub fn pod_ip(i: usize) -> String {
    format!("10.{}.{}.{}", 244 + i % 8, (i / 250) % 250, i % 250 + 2)
}

/// Pod number `i` of a ReplicaSet: a container with probes, env and mounts,
/// the projected service account volume, default tolerations, a Running status
/// with conditions and container statuses, and three managers in
/// `managedFields`. About 4 KiB as JSON.
pub fn pod(i: usize, version: u64) -> Value {
    let suffix = format!("{:05x}", (i as u64).wrapping_mul(2_654_435_761) & 0xfffff);
    let name = format!("web-7c9f8d6b5-{suffix}");
    let node = node_name(i);
    let ip = pod_ip(i);
    json!({
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": {
            "name": name,
            "generateName": "web-7c9f8d6b5-",
            "namespace": NAMESPACE,
            "uid": uid(2, i),
            "resourceVersion": version.to_string(),
            "creationTimestamp": "2025-03-14T09:27:01Z",
            "labels": {
                "app.kubernetes.io/name": "web",
                "app.kubernetes.io/instance": "web",
                "pod-template-hash": "7c9f8d6b5"
            },
            "annotations": {
                "kubectl.kubernetes.io/restartedAt": "2025-03-14T09:26:58Z"
            },
            "ownerReferences": [{
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "name": "web-7c9f8d6b5",
                "uid": "6f1d2c3b-4a59-4e8d-9c7b-1a2b3c4d5e6f",
                "controller": true,
                "blockOwnerDeletion": true
            }],
            "managedFields": [
                {
                    "manager": "kube-controller-manager",
                    "operation": "Update",
                    "apiVersion": "v1",
                    "time": "2025-03-14T09:27:01Z",
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {
                        "f:metadata": {
                            "f:generateName": {},
                            "f:labels": {".": {}, "f:app.kubernetes.io/instance": {}, "f:app.kubernetes.io/name": {}, "f:pod-template-hash": {}},
                            "f:ownerReferences": {".": {}, "k:{\"uid\":\"6f1d2c3b-4a59-4e8d-9c7b-1a2b3c4d5e6f\"}": {}}
                        },
                        "f:spec": {
                            "f:containers": {
                                "k:{\"name\":\"app\"}": {".": {}, "f:env": {}, "f:image": {}, "f:livenessProbe": {}, "f:name": {}, "f:ports": {}, "f:resources": {}, "f:volumeMounts": {}}
                            },
                            "f:dnsPolicy": {}, "f:enableServiceLinks": {}, "f:restartPolicy": {}, "f:schedulerName": {},
                            "f:securityContext": {}, "f:terminationGracePeriodSeconds": {}, "f:volumes": {}
                        }
                    }
                },
                {
                    "manager": "kubelet",
                    "operation": "Update",
                    "apiVersion": "v1",
                    "time": "2025-03-14T09:27:09Z",
                    "fieldsType": "FieldsV1",
                    "subresource": "status",
                    "fieldsV1": {
                        "f:status": {
                            "f:conditions": {
                                "k:{\"type\":\"Ready\"}": {".": {}, "f:lastProbeTime": {}, "f:lastTransitionTime": {}, "f:status": {}, "f:type": {}}
                            },
                            "f:containerStatuses": {}, "f:hostIP": {}, "f:hostIPs": {}, "f:phase": {},
                            "f:podIP": {}, "f:podIPs": {".": {}, "k:{\"ip\":\"10.244.0.2\"}": {".": {}, "f:ip": {}}}, "f:startTime": {}
                        }
                    }
                }
            ]
        },
        "spec": {
            "volumes": [
                {"name": "config", "configMap": {"name": "web-config", "defaultMode": 420}},
                {"name": "kube-api-access-x7k2p", "projected": {"sources": [
                    {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                    {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}}
                ], "defaultMode": 420}}
            ],
            "containers": [
                {
                    "name": "app",
                    "image": "registry.example.com/web/app:1.27.3",
                    "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                    "env": [
                        {"name": "LOG_LEVEL", "value": "info"},
                        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}},
                        {"name": "POD_IP", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "status.podIP"}}},
                        {"name": "DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": "web-db", "key": "url"}}}
                    ],
                    "resources": {"limits": {"cpu": "1", "memory": "512Mi"}, "requests": {"cpu": "250m", "memory": "256Mi"}},
                    "volumeMounts": [
                        {"name": "config", "readOnly": true, "mountPath": "/etc/web"},
                        {"name": "kube-api-access-x7k2p", "readOnly": true, "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}
                    ],
                    "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTP"}, "initialDelaySeconds": 10, "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3},
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File",
                    "imagePullPolicy": "IfNotPresent"
                }
            ],
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst",
            "serviceAccountName": "default",
            "serviceAccount": "default",
            "nodeName": node,
            "securityContext": {"runAsNonRoot": true, "fsGroup": 2000},
            "schedulerName": "default-scheduler",
            "tolerations": [
                {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
            ],
            "priority": 0,
            "enableServiceLinks": true,
            "preemptionPolicy": "PreemptLowerPriority"
        },
        "status": {
            "phase": "Running",
            "conditions": [
                {"type": "Initialized", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2025-03-14T09:27:01Z"},
                {"type": "Ready", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2025-03-14T09:27:09Z"},
                {"type": "ContainersReady", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2025-03-14T09:27:09Z"},
                {"type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2025-03-14T09:27:01Z"}
            ],
            "hostIP": "192.168.10.21",
            "hostIPs": [{"ip": "192.168.10.21"}],
            "podIP": ip,
            "podIPs": [{"ip": ip}],
            "startTime": "2025-03-14T09:27:01Z",
            "containerStatuses": [
                {
                    "name": "app",
                    "state": {"running": {"startedAt": "2025-03-14T09:27:04Z"}},
                    "lastState": {},
                    "ready": true,
                    "restartCount": 0,
                    "image": "registry.example.com/web/app:1.27.3",
                    "imageID": "registry.example.com/web/app@sha256:3f1c0a7e9b5d2c4e6f8a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e",
                    "containerID": format!("containerd://{:064x}", (i as u128).wrapping_mul(0x2545_f491_4f6c_dd1d_9e37_79b9)),
                    "started": true
                }
            ],
            "qosClass": "Burstable"
        }
    })
}

/// One line of a watch response: `{"type":...,"object":...}` without the newline.
pub fn watch_line(kind: &str, object: &Value) -> Vec<u8> {
    let mut line = Vec::with_capacity(1024);
    line.extend_from_slice(b"{\"type\":\"");
    line.extend_from_slice(kind.as_bytes());
    line.extend_from_slice(b"\",\"object\":");
    // Serialising a Value into a Vec cannot fail.
    serde_json::to_writer(&mut line, object).unwrap_or_default();
    line.push(b'}');
    line
}

/// A list response of `items`, with a continue token when more pages follow.
pub fn list_page(kind: &str, items: &[Value], continue_token: Option<&str>) -> Vec<u8> {
    let mut metadata = json!({ "resourceVersion": LIST_VERSION.to_string() });
    if let Some(token) = continue_token {
        metadata["continue"] = json!(token);
        metadata["remainingItemCount"] = json!(0);
    }
    let list = json!({
        "kind": format!("{kind}List"),
        "apiVersion": "v1",
        "metadata": metadata,
        "items": items,
    });
    serde_json::to_vec(&list).unwrap_or_default()
}

/// The pages of a paginated list of `items`, `page_size` per page, with
/// continue tokens `page-1`, `page-2`, ...
pub fn list_pages(kind: &str, items: &[Value], page_size: usize) -> Vec<Vec<u8>> {
    let pages: Vec<_> = items.chunks(page_size.max(1)).collect();
    pages
        .iter()
        .enumerate()
        .map(|(n, page)| {
            let token = (n + 1 < pages.len()).then(|| format!("page-{}", n + 1));
            list_page(kind, page, token.as_deref())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{ConfigMap, Pod};
    use kube::core::{ObjectList, WatchEvent};

    #[test]
    fn config_maps_are_about_a_kibibyte_and_decode() {
        let line = watch_line("ADDED", &config_map(42, 7));
        assert!((900..1300).contains(&line.len()), "{} bytes", line.len());
        let event: WatchEvent<ConfigMap> = serde_json::from_slice(&line).expect("decodes");
        assert!(matches!(event, WatchEvent::Added(cm) if cm.metadata.managed_fields.is_some()));
    }

    #[test]
    fn pods_are_about_four_kibibytes_and_decode() {
        let json = serde_json::to_vec(&pod(42, 7)).expect("encodes");
        assert!((3500..4700).contains(&json.len()), "{} bytes", json.len());
        let pod: Pod = serde_json::from_slice(&json).expect("decodes");
        assert_eq!(pod.spec.map(|s| s.containers.len()), Some(1));
    }

    #[test]
    fn pages_chain_by_continue_tokens() {
        let items: Vec<_> = (0..5).map(|i| config_map(i, 1)).collect();
        let pages = list_pages("ConfigMap", &items, 2);
        assert_eq!(pages.len(), 3);
        let first: ObjectList<ConfigMap> = serde_json::from_slice(&pages[0]).expect("decodes");
        assert_eq!(first.metadata.continue_.as_deref(), Some("page-1"));
        let last: ObjectList<ConfigMap> = serde_json::from_slice(&pages[2]).expect("decodes");
        assert_eq!(last.metadata.continue_, None);
        assert_eq!(last.items.len(), 1);
    }
}
