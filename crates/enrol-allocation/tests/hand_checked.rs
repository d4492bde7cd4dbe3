//! Small instances whose results were worked out by hand, and the published
//! result JSON of a few of them (insta snapshots).

use enrol_allocation::{Allocation, Instance, InstanceError, Subject, allocate, allocate_json, parse_instance};
use serde_json::{Value, json};

fn instance(value: Value) -> Instance {
    serde_json::from_value(value).expect("test instance follows formats.md")
}

fn seats(value: Value) -> Vec<(String, Option<String>)> {
    allocate(&instance(value))
        .expect("valid instance")
        .assignments
        .into_iter()
        .collect()
}

fn seat(id: &str, school: Option<&str>) -> (String, Option<String>) {
    (id.to_owned(), school.map(str::to_owned))
}

fn lot(n: u64) -> String {
    format!("{n:016x}")
}

/// X and Y have one seat each. A and B both want X most, where B's key is
/// better; A's key beats C's at Y. DA moves A on to Y and leaves C out; IA lets
/// C keep Y from round 1, so A (rejected at X) finds Y full in round 2.
fn contrast(mechanism: &str) -> Value {
    json!({
        "mechanism": mechanism,
        "schools": [{"id": "X", "capacity": 1}, {"id": "Y", "capacity": 1}],
        "applicants": [
            {"id": "A", "lottery": lot(1), "choices": [{"school": "X", "key": [2]}, {"school": "Y", "key": [1]}]},
            {"id": "B", "lottery": lot(2), "choices": [{"school": "X", "key": [1]}, {"school": "Y", "key": [1]}]},
            {"id": "C", "lottery": lot(3), "choices": [{"school": "Y", "key": [2]}]}
        ]
    })
}

#[test]
fn deferred_acceptance_moves_the_rejected_applicant_on() {
    assert_eq!(
        seats(contrast("deferred-acceptance")),
        vec![seat("A", Some("Y")), seat("B", Some("X")), seat("C", None)]
    );
}

#[test]
fn immediate_acceptance_keeps_first_round_seats_for_good() {
    assert_eq!(
        seats(contrast("immediate-acceptance")),
        vec![seat("A", None), seat("B", Some("X")), seat("C", Some("Y"))]
    );
}

#[test]
fn equal_keys_go_to_the_lower_lottery_number() {
    // 0x0fff.. < 0xf000.. as numbers; both strings are canonical, so byte order agrees.
    let result = seats(json!({
        "mechanism": "deferred-acceptance",
        "schools": [{"id": "S", "capacity": 1}],
        "applicants": [
            {"id": "A", "lottery": "f000000000000000", "choices": [{"school": "S", "key": [1, 1]}]},
            {"id": "B", "lottery": "0fffffffffffffff", "choices": [{"school": "S", "key": [1, 1]}]}
        ]
    }));
    assert_eq!(result, vec![seat("A", None), seat("B", Some("S"))]);
}

#[test]
fn equal_keys_and_lotteries_go_to_the_lower_id_in_byte_order() {
    // "A10" < "A9" byte by byte.
    for mechanism in ["deferred-acceptance", "immediate-acceptance"] {
        let result = seats(json!({
            "mechanism": mechanism,
            "schools": [{"id": "S", "capacity": 1}],
            "applicants": [
                {"id": "A9", "lottery": lot(7), "choices": [{"school": "S", "key": [0, 1]}]},
                {"id": "A10", "lottery": lot(7), "choices": [{"school": "S", "key": [0, 1]}]}
            ]
        }));
        assert_eq!(result, vec![seat("A10", Some("S")), seat("A9", None)], "{mechanism}");
    }
}

#[test]
fn a_key_that_is_a_prefix_comes_first_and_keys_compare_left_to_right() {
    // Order at S: E [] < P [0] < Q [0, 1] < R [0, 2] < T [1] (lotteries say the opposite).
    let applicant =
        |id: &str, n: u64, key: Value| json!({"id": id, "lottery": lot(n), "choices": [{"school": "S", "key": key}]});
    let value = |capacity: u32| {
        json!({
            "mechanism": "deferred-acceptance",
            "schools": [{"id": "S", "capacity": capacity}],
            "applicants": [
                applicant("T", 1, json!([1])),
                applicant("R", 2, json!([0, 2])),
                applicant("Q", 3, json!([0, 1])),
                applicant("P", 4, json!([0])),
                applicant("E", 5, json!([]))
            ]
        })
    };
    let placed = |capacity| {
        seats(value(capacity))
            .into_iter()
            .filter_map(|(id, school)| school.map(|_| id))
            .collect::<Vec<_>>()
    };
    assert_eq!(placed(1), ["E"]);
    assert_eq!(placed(2), ["E", "P"]);
    assert_eq!(placed(3), ["E", "P", "Q"]);
    assert_eq!(placed(4), ["E", "P", "Q", "R"]);
    // Negative values (tier-4 points) are lower, hence better.
    let result = seats(json!({
        "mechanism": "deferred-acceptance",
        "schools": [{"id": "S", "capacity": 1}],
        "applicants": [
            applicant("A", 1, json!([4, 1, -30])),
            applicant("B", 2, json!([4, 1, -95]))
        ]
    }));
    assert_eq!(result, vec![seat("A", None), seat("B", Some("S"))]);
}

#[test]
fn a_school_without_seats_takes_nobody_and_an_applicant_without_choices_stays_out() {
    let result = seats(json!({
        "mechanism": "deferred-acceptance",
        "schools": [{"id": "Z", "capacity": 0}, {"id": "S", "capacity": 5}],
        "applicants": [
            {"id": "A", "lottery": lot(1), "choices": [{"school": "Z", "key": [0]}, {"school": "S", "key": [3]}]},
            {"id": "B", "lottery": lot(2), "choices": []},
            {"id": "C", "lottery": lot(3)}
        ]
    }));
    assert_eq!(result, vec![seat("A", Some("S")), seat("B", None), seat("C", None)]);
}

/// Jining-like coordinates. County 370811 has P1 (near the homes) and P2 (far);
/// county 370812 has P3, nearer to H than P2 is. R is private and roomy.
fn overflow_city(applicants: Value) -> Value {
    json!({
        "mechanism": "deferred-acceptance",
        "overflow": true,
        "schools": [
            {"id": "P2", "capacity": 2, "public": true, "county": "370811", "location": {"lat": 35.50, "lon": 116.70}},
            {"id": "P1", "capacity": 1, "public": true, "county": "370811", "location": {"lat": 35.41, "lon": 116.58}},
            {"id": "P3", "capacity": 1, "public": true, "county": "370812", "location": {"lat": 35.42, "lon": 116.55}},
            {"id": "R", "capacity": 50, "public": false}
        ],
        "applicants": applicants
    })
}

#[test]
fn overflow_seats_in_county_first_nearest_then_anywhere_by_tier_then_lottery() {
    let home = json!({"county": "370811", "lat": 35.40, "lon": 116.56});
    let result = allocate(&instance(overflow_city(json!([
        // Without a tier, so last although its lottery is lowest.
        {"id": "n", "lottery": lot(1), "home": home, "choices": []},
        {"id": "t2", "lottery": lot(9), "best_tier": 2, "home": home, "choices": []},
        {"id": "t1b", "lottery": lot(8), "best_tier": 1, "home": home, "choices": []},
        {"id": "t1a", "lottery": lot(7), "best_tier": 1, "home": home, "choices": []},
        {"id": "t3", "lottery": lot(2), "best_tier": 3, "home": home, "choices": []}
    ]))))
    .unwrap();
    // t1a: P1 (nearest in county); t1b, t2: P2 (P3 is nearer but in another county);
    // t3: county full, nearest anywhere is P3; n: no public seat left.
    assert_eq!(
        result,
        Allocation {
            assignments: [
                seat("n", None),
                seat("t1a", Some("P1")),
                seat("t1b", Some("P2")),
                seat("t2", Some("P2")),
                seat("t3", Some("P3")),
            ]
            .into_iter()
            .collect(),
            overflow: vec!["t1a".into(), "t1b".into(), "t2".into(), "t3".into()],
        }
    );
}

#[test]
fn overflow_without_a_location_takes_the_most_free_seats_in_county_then_anywhere() {
    let result = allocate(&instance(overflow_city(json!([
        // County known, no location: P2 (2 free) over P1 (1 free), both in 370811.
        {"id": "a", "lottery": lot(1), "home": {"county": "370811"}, "choices": []},
        // Now P1 and P2 have 1 free each: the lower id, P1.
        {"id": "b", "lottery": lot(2), "home": {"county": "370811"}, "choices": []},
        // No home at all: most free anywhere; P2 and P3 have 1 each, P2 is the lower id.
        {"id": "c", "lottery": lot(3), "choices": []},
        // A county without public schools counts as none free there: anywhere, P3.
        {"id": "d", "lottery": lot(4), "home": {"county": "999999"}, "choices": []}
    ]))))
    .unwrap();
    let expected: Vec<_> = vec![
        seat("a", Some("P2")),
        seat("b", Some("P1")),
        seat("c", Some("P2")),
        seat("d", Some("P3")),
    ];
    assert_eq!(result.assignments.into_iter().collect::<Vec<_>>(), expected);
}

#[test]
fn overflow_counts_seats_taken_by_the_mechanism_and_leaves_placed_applicants_alone() {
    let result = allocate(&instance(overflow_city(json!([
        {"id": "m", "lottery": lot(5), "home": {"county": "370811", "lat": 35.40, "lon": 116.56},
         "choices": [{"school": "P1", "key": [1, 1, 20230101]}]},
        {"id": "o", "lottery": lot(1), "best_tier": 1, "home": {"county": "370811", "lat": 35.40, "lon": 116.56},
         "choices": []}
    ]))))
    .unwrap();
    assert_eq!(result.assignments["m"].as_deref(), Some("P1"));
    assert_eq!(result.assignments["o"].as_deref(), Some("P2"));
    assert_eq!(result.overflow, vec!["o".to_owned()]);
}

#[test]
fn overflow_ties_in_distance_go_to_the_lower_school_id() {
    let result = allocate(&instance(json!({
        "mechanism": "immediate-acceptance",
        "overflow": true,
        "schools": [
            {"id": "B", "capacity": 1, "public": true, "county": "1", "location": {"lat": 1.0, "lon": 0.0}},
            {"id": "A", "capacity": 1, "public": true, "county": "1", "location": {"lat": -1.0, "lon": 0.0}}
        ],
        "applicants": [{"id": "x", "lottery": lot(1), "home": {"county": "1", "lat": 0.0, "lon": 0.0}}]
    })))
    .unwrap();
    assert_eq!(result.assignments["x"].as_deref(), Some("A"));
}

#[test]
fn result_json_of_the_contrast_instance_under_both_mechanisms() {
    insta::assert_snapshot!(
        "deferred_acceptance",
        allocate_json(&contrast("deferred-acceptance").to_string()).unwrap()
    );
    insta::assert_snapshot!(
        "immediate_acceptance",
        allocate_json(&contrast("immediate-acceptance").to_string()).unwrap()
    );
}

#[test]
fn result_json_with_overflow() {
    let home = json!({"county": "370811", "lat": 35.40, "lon": 116.56});
    let input = overflow_city(json!([
        {"id": "0b6f3c1e-0000-4000-8000-000000000003", "lottery": "9f2c4e1a07b3d658", "best_tier": 2, "home": home,
         "choices": [{"school": "P1", "key": [2, 1, 20230411]}]},
        {"id": "0b6f3c1e-0000-4000-8000-000000000001", "lottery": "1f2c4e1a07b3d658", "best_tier": 1, "home": home,
         "choices": [{"school": "P1", "key": [1, 1, 20230411]}]},
        {"id": "0b6f3c1e-0000-4000-8000-000000000002", "lottery": "0000000000000000", "home": {"county": "370812"},
         "choices": [{"school": "R", "key": [0, 1]}]},
        {"id": "0b6f3c1e-0000-4000-8000-000000000004", "lottery": "ffffffffffffffff", "choices": []},
        {"id": "0b6f3c1e-0000-4000-8000-000000000005", "lottery": "fffffffffffffffe", "choices": []}
    ]));
    insta::assert_snapshot!(allocate_json(&input.to_string()).unwrap());
}

#[test]
fn the_formats_md_example_parses_and_allocates() {
    // The example of formats.md, with the school S031 it lists added.
    let input = r#"{"mechanism": "deferred-acceptance",
 "overflow": true,
 "schools": [{"id": "S014", "capacity": 180, "public": true, "county": "370811",
              "location": {"lat": 35.4153, "lon": 116.5872}},
             {"id": "S031", "capacity": 0, "public": false}],
 "applicants": [{"id": "0b6f3c1e-…", "lottery": "9f2c4e1a07b3d658",
                 "best_tier": 1, "home": {"county": "370811", "lat": 35.41, "lon": 116.58},
                 "choices": [{"school": "S031", "key": [0, 1]},
                             {"school": "S014", "key": [1, 1, 20230411]}]}]}"#;
    assert_eq!(
        allocate_json(input).unwrap(),
        "{\n  \"assignments\": {\n    \"0b6f3c1e-…\": \"S014\"\n  },\n  \"overflow\": []\n}\n"
    );
}

/// Each malformed instance, the error's subject, and its message (snapshot).
#[test]
fn malformed_instances_are_refused_naming_the_entry_at_fault() {
    let base = || {
        json!({
            "mechanism": "deferred-acceptance",
            "overflow": true,
            "schools": [
                {"id": "S1", "capacity": 1, "public": true, "county": "370811", "location": {"lat": 35.4, "lon": 116.5}},
                {"id": "S2", "capacity": 1, "public": false}
            ],
            "applicants": [
                {"id": "A1", "lottery": lot(1), "choices": [{"school": "S1", "key": [1]}]},
                {"id": "A2", "lottery": lot(2), "home": {"county": "370811", "lat": 35.4, "lon": 116.5},
                 "choices": [{"school": "S2", "key": [0, 1]}]}
            ]
        })
    };
    type Edit = fn(&mut Value);
    let cases: Vec<(&str, Edit)> = vec![
        ("unknown school", |v| {
            v["applicants"][1]["choices"][0]["school"] = json!("S9")
        }),
        ("school listed twice by one applicant", |v| {
            v["applicants"][0]["choices"] = json!([{"school": "S1", "key": [1]}, {"school": "S1", "key": [2]}])
        }),
        ("duplicate applicant", |v| v["applicants"][1]["id"] = json!("A1")),
        ("duplicate school", |v| v["schools"][1]["id"] = json!("S1")),
        ("upper-case lottery", |v| {
            v["applicants"][1]["lottery"] = json!("9F2C4E1A07B3D658")
        }),
        ("short lottery", |v| v["applicants"][0]["lottery"] = json!("9f2c")),
        ("lottery as a number", |v| v["applicants"][1]["lottery"] = json!(12)),
        ("empty applicant id", |v| v["applicants"][1]["id"] = json!("")),
        ("empty school id", |v| v["schools"][0]["id"] = json!("")),
        ("overflow without public", |v| {
            v["schools"][1].as_object_mut().unwrap().remove("public");
        }),
        ("public school without county", |v| {
            v["schools"][0].as_object_mut().unwrap().remove("county");
        }),
        ("public school without location", |v| {
            v["schools"][0].as_object_mut().unwrap().remove("location");
        }),
        ("school off the globe", |v| {
            v["schools"][0]["location"]["lat"] = json!(91.0)
        }),
        ("home without county", |v| {
            v["applicants"][1]["home"] = json!({"lat": 35.4, "lon": 116.5})
        }),
        ("home with lat only", |v| {
            v["applicants"][1]["home"] = json!({"county": "370811", "lat": 35.4})
        }),
        ("home off the globe", |v| {
            v["applicants"][1]["home"]["lon"] = json!(200.0)
        }),
        ("tier zero", |v| v["applicants"][0]["best_tier"] = json!(0)),
        ("key with a fraction", |v| {
            v["applicants"][1]["choices"][0]["key"] = json!([0, 1.5])
        }),
        ("negative capacity", |v| v["schools"][1]["capacity"] = json!(-3)),
        ("choice without key", |v| {
            v["applicants"][0]["choices"][0].as_object_mut().unwrap().remove("key");
        }),
        ("missing mechanism", |v| {
            v.as_object_mut().unwrap().remove("mechanism");
        }),
    ];
    assert!(allocate(&instance(base())).is_ok());
    let mut report = String::new();
    for (name, edit) in cases {
        let mut value = base();
        edit(&mut value);
        let err = allocate_json(&serde_json::to_string_pretty(&value).unwrap()).unwrap_err();
        let subject = match err.subject() {
            Some(Subject::School(id)) => format!("school {id}"),
            Some(Subject::Applicant(id)) => format!("applicant {id}"),
            None => "-".to_owned(),
        };
        report.push_str(&format!("{name}\n  subject: {subject}\n  message: {err}\n"));
    }
    insta::assert_snapshot!(report);
}

#[test]
fn fields_only_overflow_needs_may_be_absent_or_odd_without_overflow() {
    let result = allocate(&instance(json!({
        "mechanism": "deferred-acceptance",
        "schools": [{"id": "S", "capacity": 1}],
        "applicants": [{"id": "A", "lottery": lot(1), "best_tier": 0, "home": {"lat": 1.0},
                        "choices": [{"school": "S", "key": [1]}]}]
    })))
    .unwrap();
    assert_eq!(result.assignments["A"].as_deref(), Some("S"));
    assert!(result.overflow.is_empty());
}

#[test]
fn an_instance_round_trips_through_its_json() {
    let original = instance(overflow_city(json!([
        {"id": "a", "lottery": lot(1), "best_tier": 2, "home": {"county": "370811"}, "choices": [{"school": "R", "key": [0, 1]}]}
    ])));
    let text = serde_json::to_string(&original).unwrap();
    assert_eq!(parse_instance(&text).unwrap(), original);
    assert!(matches!(parse_instance("[]"), Err(InstanceError::Shape { .. })));
}
