use chrono::{TimeZone, Utc};

use super::*;

const CHILD: &str = "370811202011150023";
const MOTHER: &str = "370811198803120042";
const FATHER: &str = "370811198705060015";

fn id(s: &str) -> NationalId {
    NationalId::parse(s).unwrap()
}

fn reply(body: Option<&str>) -> Reply {
    Reply {
        received_at: Utc.with_ymd_and_hms(2027, 5, 6, 1, 0, 0).unwrap(),
        body: body.map(|b| b.as_bytes().to_vec()),
    }
}

fn person(id: &str) -> String {
    format!(
        r#"{{"id": "{id}", "name": "李小雨", "sex": "F", "birth_date": "2020-11-15",
            "household_no": "370811012000345", "relation_to_head": "child",
            "registered_on": "2023-04-11", "region": "370811",
            "address": {{"code": "370811-012-00143-02-0501", "text": "济宁市任城区古槐街道太白中路143号2单元501室"}}}}"#
    )
}

fn certificate(child: &str, mother: &str, father: &str) -> String {
    format!(
        r#"{{"certificate_no": "Q370812345", "child_id": "{child}", "child_name": "李小雨",
            "birth_date": "2020-11-15", "mother_id": {mother}, "father_id": {father}}}"#
    )
}

#[test]
fn maps_a_household_record_without_name_or_sex() {
    let fetched = household_record_from_reply(&id(CHILD), &reply(Some(&person(CHILD)))).unwrap();
    insta::assert_json_snapshot!(fetched, @r#"
    {
      "source": {
        "registry": "hukou",
        "record": "370811202011150023"
      },
      "fetched_at": "2027-05-06T01:00:00Z",
      "record": {
        "id": "370811202011150023",
        "birth_date": "2020-11-15",
        "household_no": "370811012000345",
        "relation_to_head": "child",
        "registered_on": "2023-04-11",
        "region": "370811",
        "address": {
          "code": "370811-012-00143-02-0501",
          "text": "济宁市任城区古槐街道太白中路143号2单元501室"
        }
      }
    }
    "#);
}

#[test]
fn not_found_is_an_answer() {
    let fetched = household_record_from_reply(&id(CHILD), &reply(None)).unwrap();
    assert_eq!(fetched.record, None);
    assert_eq!(fetched.source.to_string(), format!("hukou:{CHILD}"));
    let fetched = birth_certificate_from_reply(&id(CHILD), &reply(None)).unwrap();
    assert_eq!(fetched.record, None);
    assert_eq!(fetched.source.to_string(), format!("birth:{CHILD}"));
}

#[test]
fn a_record_about_someone_else_is_contradictory() {
    let err = household_record_from_reply(&id(CHILD), &reply(Some(&person(MOTHER)))).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "hukou:{CHILD}: self-contradictory answer from the hukou registry: asked for {CHILD}, answered about {MOTHER}"
        )
    );
}

#[test]
fn malformed_household_records_name_the_field() {
    let cases = [
        (person(CHILD).replace("\"child\"", "\"cousin\""), "relation_to_head"),
        (person(CHILD).replace("\"370811\"", "\"3708\""), "region"),
        (person(CHILD).replace("2023-04-11", "2023/04/11"), "registered_on"),
        // chrono alone would read each of these as a date: the format is
        // YYYY-MM-DD exactly (registries.md).
        (person(CHILD).replace("2023-04-11", "2023-4-11"), "registered_on"),
        (person(CHILD).replace("2023-04-11", " 2023-04-11"), "registered_on"),
        (person(CHILD).replace("2023-04-11", "+2023-04-11"), "registered_on"),
        (person(CHILD).replace("2020-11-15", "2020-11-5"), "birth_date"),
        (person(CHILD).replace("2023-04-11", "2023-02-30"), "registered_on"),
        (
            person(CHILD).replace("370811-012-00143-02-0501", "370811-012-143"),
            "address.code",
        ),
        (person(CHILD).replace("\"370811012000345\"", "\"\""), "household_no"),
        (person(CHILD).replace(CHILD, "370811202011150024"), "id"),
        ("\"hello\"".to_owned(), "invalid type"),
    ];
    for (body, field) in cases {
        let err = household_record_from_reply(&id(CHILD), &reply(Some(&body))).unwrap_err();
        assert!(matches!(err, ReadError::Malformed { .. }), "{err}");
        assert!(err.to_string().contains(field), "{field}: {err}");
        assert!(err.to_string().starts_with(&format!("hukou:{CHILD}: ")), "{err}");
    }
}

#[test]
fn text_only_address_is_kept_for_resolution() {
    let body = person(CHILD).replace("\"code\": \"370811-012-00143-02-0501\"", "\"code\": null");
    let fetched = household_record_from_reply(&id(CHILD), &reply(Some(&body))).unwrap();
    let address = fetched.record.unwrap().address;
    assert_eq!(address.code, None);
    assert_eq!(address.text, "济宁市任城区古槐街道太白中路143号2单元501室");
}

#[test]
fn maps_a_certificate_with_or_without_father() {
    let body = certificate(CHILD, &format!("\"{MOTHER}\""), "null");
    let fetched = birth_certificate_from_reply(&id(CHILD), &reply(Some(&body))).unwrap();
    insta::assert_json_snapshot!(fetched, @r#"
    {
      "source": {
        "registry": "birth",
        "record": "370811202011150023"
      },
      "fetched_at": "2027-05-06T01:00:00Z",
      "record": {
        "certificate_no": "Q370812345",
        "child_id": "370811202011150023",
        "birth_date": "2020-11-15",
        "mother_id": "370811198803120042",
        "father_id": null,
        "child_name_masked": "李*雨"
      }
    }
    "#);
    let body = certificate(CHILD, &format!("\"{MOTHER}\""), &format!("\"{FATHER}\""));
    let cert = birth_certificate_from_reply(&id(CHILD), &reply(Some(&body)))
        .unwrap()
        .record
        .unwrap();
    assert!(cert.names_parent(&id(FATHER)) && cert.names_parent(&id(MOTHER)));
}

#[test]
fn a_certificate_about_another_child_is_unusable() {
    let q = |s: &str| format!("\"{s}\"");
    let body = certificate(MOTHER, &q(FATHER), "null");
    let err = birth_certificate_from_reply(&id(CHILD), &reply(Some(&body))).unwrap_err();
    assert!(matches!(err, ReadError::Contradictory { .. }), "{err}");
    assert!(err.is_unusable());
    assert!(
        err.to_string().contains("answered with that of 370811198803120042"),
        "{err}"
    );
    assert_eq!(err.record(), &RecordRef::new(Registry::Birth, CHILD));
}

/// registries.md, "Dirty records": a well-formed certificate is read as it
/// stands, however odd; the rules find such a slot proves no guardian a parent.
#[test]
fn odd_certificates_are_read_as_they_stand() {
    let q = |s: &str| format!("\"{s}\"");
    let cases = [
        (certificate(CHILD, &q(CHILD), "null"), Some(id(CHILD)), None),
        (
            certificate(CHILD, &q(MOTHER), &q(CHILD)),
            Some(id(MOTHER)),
            Some(id(CHILD)),
        ),
        (
            certificate(CHILD, &q(MOTHER), &q(MOTHER)),
            Some(id(MOTHER)),
            Some(id(MOTHER)),
        ),
    ];
    for (body, mother, father) in cases {
        let c = birth_certificate_from_reply(&id(CHILD), &reply(Some(&body)))
            .unwrap()
            .record
            .unwrap();
        assert_eq!((c.mother_id, c.father_id), (mother, father), "{body}");
    }
}

#[test]
fn lower_case_check_character_is_the_same_person() {
    // 11010519491231002X answered as ...002x is the person asked for.
    let asked = id("11010519491231002X");
    let body = person("11010519491231002x");
    let fetched = household_record_from_reply(&asked, &reply(Some(&body))).unwrap();
    assert_eq!(fetched.record.unwrap().id, asked);
}
