use chrono::{TimeZone, Utc};

use super::*;

const CHILD: &str = "370811202011150023";
const SIBLING: &str = "370811201803040039";

fn reply(body: Option<&str>) -> Reply {
    Reply {
        received_at: Utc.with_ymd_and_hms(2027, 5, 6, 1, 0, 0).unwrap(),
        body: body.map(|b| b.as_bytes().to_vec()),
    }
}

const SCHOOLS: &str = r#"[
  {"id": "S014", "name": "太白路小学", "kind": "public", "stage": "primary", "county": "370811",
   "capacity": {"2027": 180, "2026": 175}, "location": {"lat": 35.4153, "lon": 116.5872}},
  {"id": "S031", "name": "育才民办小学", "kind": "private", "stage": "primary", "county": "370812",
   "capacity": {}, "location": {"lat": 35.40, "lon": 116.60}}
]"#;

#[test]
fn maps_the_catalogue_by_id() {
    let catalogue = catalogue_from_reply(&reply(Some(SCHOOLS))).unwrap();
    insta::assert_json_snapshot!(catalogue, @r#"
    {
      "S014": {
        "id": "S014",
        "name": "太白路小学",
        "kind": "public",
        "stage": "primary",
        "county": "370811",
        "capacity": {
          "2026": 175,
          "2027": 180
        },
        "location": {
          "lat": 35.4153,
          "lon": 116.5872
        }
      },
      "S031": {
        "id": "S031",
        "name": "育才民办小学",
        "kind": "private",
        "stage": "primary",
        "county": "370812",
        "capacity": {},
        "location": {
          "lat": 35.4,
          "lon": 116.6
        }
      }
    }
    "#);
    assert_eq!(catalogue[&SchoolId::new("S031")].capacity_in(2027), 0);
}

#[test]
fn bad_catalogues_are_refused() {
    let twice = SCHOOLS.replace("\"S031\"", "\"S014\"");
    let cases = [
        (twice, "school S014 is listed twice"),
        (SCHOOLS.replace("\"2026\"", "\"next\""), "\"next\" is not a year"),
        (
            SCHOOLS.replace("\"junior\"", "x").replace(
                "\"primary\", \"county\": \"370812\"",
                "\"senior\", \"county\": \"370812\"",
            ),
            "[1].stage",
        ),
        (SCHOOLS.replace("35.4153", "135.4"), "is not a place on Earth"),
        (SCHOOLS.replace("180", "-1"), "[0].capacity"),
    ];
    for (body, detail) in cases {
        let err = catalogue_from_reply(&reply(Some(&body))).unwrap_err();
        assert!(err.to_string().contains(detail), "{detail}: {err}");
        assert_eq!(err.record().to_string(), "zones:schools");
    }
    let err = catalogue_from_reply(&reply(None)).unwrap_err();
    assert!(matches!(err, ReadError::UnexpectedNotFound { .. }), "{err}");
}

#[test]
fn maps_a_building_and_its_absence() {
    let key = BuildingKey::parse("370811-012-00143").unwrap();
    let body = r#"{"building_key": "370811-012-00143", "schools": ["S014", "S015"], "location": {"lat": 35.41, "lon": 116.58}}"#;
    let fetched = building_from_reply(&key, &reply(Some(body))).unwrap();
    let zone = fetched.record.unwrap();
    assert_eq!(zone.schools, vec![SchoolId::new("S014"), SchoolId::new("S015")]);
    assert_eq!(fetched.source.to_string(), "zones:370811-012-00143");
    assert_eq!(building_from_reply(&key, &reply(None)).unwrap().record, None);

    let other = body.replace("00143", "00144");
    let err = building_from_reply(&key, &reply(Some(&other))).unwrap_err();
    assert!(matches!(err, ReadError::Contradictory { .. }), "{err}");
    // A school zoned twice is zoned once (registries.md, "Dirty records").
    let twice = body.replace("S015", "S014");
    let zone = building_from_reply(&key, &reply(Some(&twice))).unwrap().record.unwrap();
    assert_eq!(zone.schools, vec![SchoolId::new("S014")]);
}

#[test]
fn maps_address_matches_in_code_order() {
    let text = "太白中路 143号 2单元 501室";
    let body = r#"{"matches": [
        {"code": "370811-012-00143-02-0501", "text": "济宁市任城区古槐街道太白中路143号2单元501室"},
        {"code": "370812-003-00143-02-0501", "text": "济宁市兖州区某街道太白中路143号2单元501室"}]}"#;
    let fetched = address_matches_from_reply(text, &reply(Some(body))).unwrap();
    assert_eq!(fetched.record.as_ref().map(Vec::len), Some(2));
    assert_eq!(fetched.source, RecordRef::new(Registry::Zones, text));
    let none = address_matches_from_reply(text, &reply(Some(r#"{"matches": []}"#))).unwrap();
    assert_eq!(none.record, Some(vec![]));

    // Out of order: put in order (registries.md, "Dirty records").
    let swapped = body.replace("370811-012", "370899-012");
    let codes = address_matches_from_reply(text, &reply(Some(&swapped)))
        .unwrap()
        .record
        .unwrap();
    assert!(codes.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(codes.len(), 2);
    let bad = body.replace("370811-012-00143-02-0501", "370811-012-00143");
    let err = address_matches_from_reply(text, &reply(Some(&bad))).unwrap_err();
    assert!(err.to_string().contains("matches[0].code"), "{err}");
    let err = address_matches_from_reply(text, &reply(None)).unwrap_err();
    assert!(matches!(err, ReadError::UnexpectedNotFound { .. }), "{err}");
}

#[test]
fn maps_unit_uses() {
    let unit = UnitNo::new("370811012001GB00143F00020501");
    let body = format!(
        r#"{{"unit_no": "{}", "uses": [{{"year": 2023, "school_id": "S014", "child_id": "{SIBLING}"}}]}}"#,
        unit.as_str()
    );
    let fetched = unit_uses_from_reply(&unit, &reply(Some(&body))).unwrap();
    insta::assert_json_snapshot!(fetched, @r#"
    {
      "source": {
        "registry": "history",
        "record": "370811012001GB00143F00020501"
      },
      "fetched_at": "2027-05-06T01:00:00Z",
      "record": [
        {
          "year": 2023,
          "school_id": "S014",
          "child_id": "370811201803040039"
        }
      ]
    }
    "#);
    let other = body.replace("0501\"", "0502\"");
    let err = unit_uses_from_reply(&unit, &reply(Some(&other))).unwrap_err();
    assert!(matches!(err, ReadError::Contradictory { .. }), "{err}");
    let err = unit_uses_from_reply(&unit, &reply(None)).unwrap_err();
    assert!(matches!(err, ReadError::UnexpectedNotFound { .. }), "{err}");
}

#[test]
fn maps_a_current_place() {
    let child = NationalId::parse(CHILD).unwrap();
    let body = format!(r#"{{"child_id": "{CHILD}", "school_id": "S014", "grade": 3}}"#);
    let place = current_place_from_reply(&child, &reply(Some(&body)))
        .unwrap()
        .record
        .unwrap();
    assert_eq!((place.school_id.as_str(), place.grade), ("S014", 3));
    assert_eq!(current_place_from_reply(&child, &reply(None)).unwrap().record, None);
    let other = body.replace(CHILD, SIBLING);
    let err = current_place_from_reply(&child, &reply(Some(&other))).unwrap_err();
    assert!(err.to_string().contains(&format!("answered about {SIBLING}")), "{err}");
    let bad = body.replace("\"grade\": 3", "\"grade\": \"three\"");
    let err = current_place_from_reply(&child, &reply(Some(&bad))).unwrap_err();
    assert!(err.to_string().contains("at `grade`"), "{err}");
}

const BOTH_STAGES: &str = r#"[
  {"id": "J003", "name": "任城区第三中学", "kind": "public", "stage": "junior", "county": "370811",
   "capacity": {"2027": 400}, "location": {"lat": 35.42, "lon": 116.59}},
  {"id": "S014", "name": "太白路小学", "kind": "public", "stage": "primary", "county": "370811",
   "capacity": {"2027": 180}, "location": {"lat": 35.4153, "lon": 116.5872}, "feeds": ["J003", "J004"]},
  {"id": "S015", "name": "古槐路小学", "kind": "public", "stage": "primary", "county": "370811",
   "capacity": {"2027": 90}, "location": {"lat": 35.41, "lon": 116.59}, "feeds": []}
]"#;

#[test]
fn maps_feeder_pairs_and_their_absence() {
    let catalogue = catalogue_from_reply(&reply(Some(BOTH_STAGES))).unwrap();
    let feeds = |id: &str| catalogue[&SchoolId::new(id)].feeds.clone();
    assert_eq!(feeds("S014"), vec![SchoolId::new("J003"), SchoolId::new("J004")]);
    assert!(feeds("S015").is_empty(), "an empty list is none");
    assert!(feeds("J003").is_empty(), "absent is none");
    assert_eq!(catalogue[&SchoolId::new("J003")].stage, Stage::Junior);
    // A catalogue without feeds serialises as before (stored catalogues keep their bytes).
    let json = serde_json::to_string(&catalogue[&SchoolId::new("J003")]).unwrap();
    assert!(!json.contains("feeds"), "{json}");

    let twice = BOTH_STAGES.replace("\"J004\"", "\"J003\"");
    let err = catalogue_from_reply(&reply(Some(&twice))).unwrap_err();
    assert!(err.to_string().contains("feeds J003 twice"), "{err}");
    let blank = BOTH_STAGES.replace("\"J004\"", "\" \"");
    let err = catalogue_from_reply(&reply(Some(&blank))).unwrap_err();
    assert!(err.to_string().contains("[1].feeds[1]"), "{err}");
}

#[test]
fn a_building_keeps_the_schools_of_both_stages() {
    // The adapter maps the registry's answer whole; a round reads the schools of its
    // own stage (enrol-rules), so one evidence snapshot serves either round.
    let key = BuildingKey::parse("370811-012-00143").unwrap();
    let body = r#"{"building_key": "370811-012-00143", "schools": ["S014", "J003"], "location": {"lat": 35.41, "lon": 116.58}}"#;
    let zone = building_from_reply(&key, &reply(Some(body))).unwrap().record.unwrap();
    assert_eq!(zone.schools, vec![SchoolId::new("S014"), SchoolId::new("J003")]);
}
