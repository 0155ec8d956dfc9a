use super::*;

fn at(second: i64) -> Time {
    Time(Timestamp::from_second(second).expect("a valid timestamp"))
}

fn condition(type_: &str, status: &str, reason: &str, second: i64) -> Condition {
    Condition {
        last_transition_time: at(second),
        ..new(type_, status, reason, "")
    }
}

#[test]
fn a_new_type_is_appended_with_its_own_time() {
    let mut list = vec![condition("Ready", TRUE, "Up", 1)];
    assert!(set(&mut list, condition("Degraded", FALSE, "Fine", 5)));
    assert_eq!(list.len(), 2);
    assert_eq!(list[1].type_, "Degraded");
    assert_eq!(list[1].last_transition_time, at(5));
}

#[test]
fn the_transition_time_moves_only_when_the_status_changes() {
    let mut list = vec![condition("Ready", FALSE, "Starting", 1)];

    let mut update = condition("Ready", FALSE, "StillStarting", 9);
    update.message = "2 of 3".into();
    update.observed_generation = Some(4);
    assert!(
        set(&mut list, update),
        "reason, message and generation changed"
    );
    assert_eq!(list[0].reason, "StillStarting");
    assert_eq!(list[0].message, "2 of 3");
    assert_eq!(list[0].observed_generation, Some(4));
    assert_eq!(
        list[0].last_transition_time,
        at(1),
        "same status, same time"
    );

    let mut up = condition("Ready", TRUE, "StillStarting", 20);
    up.message = "2 of 3".into();
    up.observed_generation = Some(4);
    assert!(set(&mut list, up), "the status changed");
    assert_eq!(list[0].status, TRUE);
    assert_eq!(list[0].last_transition_time, at(20));
}

#[test]
fn setting_what_is_already_there_changes_nothing() {
    let mut list = vec![condition("Ready", TRUE, "Up", 1)];
    assert!(!set(&mut list, condition("Ready", TRUE, "Up", 50)));
    assert_eq!(list, [condition("Ready", TRUE, "Up", 1)]);
}

#[test]
fn the_observed_generation_is_taken_from_the_new_condition_even_when_cleared() {
    let mut list = vec![Condition {
        observed_generation: Some(3),
        ..condition("Ready", TRUE, "Up", 1)
    }];
    assert!(set(&mut list, condition("Ready", TRUE, "Up", 1)));
    assert_eq!(list[0].observed_generation, None);
}

#[test]
fn remove_drops_only_that_type_and_keeps_the_order() {
    let mut list = vec![
        condition("A", TRUE, "r", 1),
        condition("B", TRUE, "r", 1),
        condition("C", TRUE, "r", 1),
    ];
    assert!(remove(&mut list, "B"));
    assert!(!remove(&mut list, "B"), "already gone");
    let types: Vec<&str> = list.iter().map(|c| c.type_.as_str()).collect();
    assert_eq!(types, ["A", "C"]);
    assert!(!remove(&mut Vec::new(), "A"));
}

#[test]
fn find_and_find_mut_locate_a_condition_by_type() {
    let mut list = vec![condition("A", TRUE, "r", 1), condition("B", FALSE, "r", 1)];
    assert_eq!(find(&list, "B").map(|c| c.status.as_str()), Some(FALSE));
    assert!(find(&list, "Z").is_none());
    if let Some(b) = find_mut(&mut list, "B") {
        b.message = "edited".into();
    }
    assert_eq!(list[1].message, "edited");
}

#[test]
fn true_false_and_unknown_partition_every_type() {
    let list = vec![
        condition("Up", TRUE, "r", 1),
        condition("Down", FALSE, "r", 1),
        condition("Unsure", UNKNOWN, "r", 1),
        condition("Odd", "Maybe", "r", 1),
    ];
    for (type_, expected) in [
        ("Up", (true, false, false)),
        ("Down", (false, true, false)),
        ("Unsure", (false, false, true)),
        ("Odd", (false, false, true)),
        ("Absent", (false, false, true)),
    ] {
        let seen = (
            is_true(&list, type_),
            is_false(&list, type_),
            is_unknown(&list, type_),
        );
        assert_eq!(seen, expected, "{type_}");
    }
    assert!(has_status(&list, "Unsure", UNKNOWN));
    assert!(
        !has_status(&list, "Absent", UNKNOWN),
        "has_status wants the condition present"
    );
}

#[test]
fn new_stamps_the_current_time() {
    let before = Timestamp::now();
    let fresh = new("Ready", TRUE, "Up", "all good");
    assert!(fresh.last_transition_time.0 >= before);
    assert_eq!(
        (
            fresh.type_.as_str(),
            fresh.reason.as_str(),
            fresh.message.as_str()
        ),
        ("Ready", "Up", "all good")
    );
    assert_eq!(fresh.observed_generation, None);
}

#[cfg(feature = "schema")]
#[test]
fn the_schema_is_a_list_map_keyed_by_type_whose_key_is_required() {
    #[derive(schemars::JsonSchema)]
    #[allow(dead_code)]
    struct Status {
        #[schemars(schema_with = "crate::conditions::schema")]
        conditions: Vec<Condition>,
    }
    let schema = crate::schema::structural_schema_for::<Status>();
    let conditions = &schema.as_value()["properties"]["conditions"];
    assert_eq!(conditions["type"], "array");
    assert_eq!(conditions["x-kubernetes-list-type"], "map");
    assert_eq!(
        conditions["x-kubernetes-list-map-keys"],
        serde_json::json!(["type"])
    );
    let items = &conditions["items"];
    assert_eq!(items["properties"]["type"]["type"], "string");
    let required = items["required"].as_array().expect("required fields");
    assert!(
        required.contains(&"type".into()),
        "the apiserver wants a list map's key required: {required:?}"
    );
}
