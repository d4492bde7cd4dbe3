//! A malformed dataset is refused at start with the file, line and field at fault.

mod common;

use std::path::Path;

use enrol_registry_sim::{Dataset, DatasetError, SimConfig, serve_until};

const PERSON: &str = r#"{"id": "370811202011150023", "name": "李小雨", "sex": "F", "birth_date": "2020-11-15", "household_no": "370811012000345", "relation_to_head": "child", "registered_on": "2023-04-11", "region": "370811", "address": {"code": "370811-012-00143-02-0501", "text": "济宁市任城区古槐街道太白中路143号2单元501室"}}"#;
const UNIT: &str = r#"{"unit_no": "370811012001GB00143F00020501", "address": {"code": "370811-012-00143-02-0501", "text": "任城区太白中路143号2-501"}, "usage": "residential", "registered_on": "2019-06-30", "status": "normal", "owners": [{"id": "370811198803120042", "share_pct": 50}, {"id": "370811198705060015", "share_pct": 50}]}"#;

/// A dataset folder holding one file.
fn dataset_with(file: &str, text: &str) -> Result<Dataset, DatasetError> {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join(file), text).expect("write");
    Dataset::load(dir.path())
}

/// `(file name, line, field)` of the error, and its message with the folder left out.
fn fault(file: &str, text: &str) -> (String, usize, String, String) {
    let err = match dataset_with(file, text) {
        Ok(_) => panic!("{file} should be refused:\n{text}"),
        Err(e) => e,
    };
    let name = err
        .file()
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let message = err.to_string();
    let message = match message.find(file) {
        Some(i) => message[i..].to_owned(),
        None => message,
    };
    (
        name,
        err.line().unwrap_or(0),
        err.field().unwrap_or("").to_owned(),
        message,
    )
}

fn replace(line: &str, from: &str, to: &str) -> String {
    assert!(line.contains(from), "{from} not in {line}");
    line.replacen(from, to, 1)
}

#[test]
fn each_fault_names_file_line_and_field() {
    let person2 = PERSON.replace("370811202011150023", "370811198803120042");
    let cases: Vec<(&str, String)> = vec![
        (
            "persons.jsonl",
            format!(
                "{PERSON}\n{}\n",
                replace(&person2, "\"2020-11-15\"", "\"2020-02-30\"")
            ),
        ),
        (
            "persons.jsonl",
            format!("\n\n{}", replace(PERSON, "\"name\": \"李小雨\", ", "")),
        ),
        (
            "persons.jsonl",
            replace(PERSON, "\"sex\": \"F\"", "\"sex\": \"F\", \"nickname\": \"雨\""),
        ),
        (
            "persons.jsonl",
            replace(PERSON, "\"child\"", "\"daughter\""),
        ),
        (
            "persons.jsonl",
            replace(PERSON, "370811-012-00143-02-0501", "370811-12-00143-02-0501"),
        ),
        (
            "persons.jsonl",
            replace(
                PERSON,
                r#"{"code": "370811-012-00143-02-0501", "text": "济宁市任城区古槐街道太白中路143号2单元501室"}"#,
                r#"{"code": null, "text": null}"#,
            ),
        ),
        ("persons.jsonl", replace(PERSON, "\"370811\"", "\"3708\"")),
        ("persons.jsonl", format!("{PERSON}\n{PERSON}\n")),
        ("persons.jsonl", format!("{PERSON}\n{{\"id\": ")),
        ("persons.jsonl", format!("{PERSON} {{}}")),
        (
            "births.jsonl",
            r#"{"certificate_no": "Q1", "child_id": "370811202011150023", "child_name": "李小雨", "birth_date": "2020-11-15", "mother_id": "370811198803120043", "father_id": null}"#.to_owned(),
        ),
        (
            "properties.jsonl",
            replace(UNIT, "\"share_pct\": 50}, {", "\"share_pct\": 50.5}, {"),
        ),
        (
            "properties.jsonl",
            replace(UNIT, "\"share_pct\": 50}]", "\"share_pct\": 150}]"),
        ),
        (
            "properties.jsonl",
            replace(UNIT, "\"residential\"", "\"farmland\""),
        ),
        (
            "social_insurance.jsonl",
            r#"{"id": "411522198907070031", "months": ["2025-05", "2025-13"]}"#.to_owned(),
        ),
        (
            "schools.json",
            "[\n  {\"id\": \"S014\", \"name\": \"太白路小学\", \"kind\": \"public\", \"stage\": \"primary\",\n   \"county\": \"370811\", \"capacity\": {\"2027\": 180},\n   \"location\": {\"lat\": 35.4, \"lon\": 116.5}},\n  {\"id\": \"S015\", \"name\": \"古槐路小学\", \"kind\": \"public\", \"stage\": \"primary\",\n   \"county\": \"370811\", \"capacity\": {\"2027\": -3},\n   \"location\": {\"lat\": 35.4, \"lon\": 116.5}}\n]\n".to_owned(),
        ),
        (
            "schools.json",
            "[\n  {\"id\": \"S014\", \"name\": \"a\", \"kind\": \"public\", \"stage\": \"primary\", \"county\": \"370811\", \"capacity\": {}, \"location\": {\"lat\": 35.4, \"lon\": 116.5}},\n  {\"id\": \"S014\", \"name\": \"b\", \"kind\": \"public\", \"stage\": \"primary\", \"county\": \"370811\", \"capacity\": {}, \"location\": {\"lat\": 35.4, \"lon\": 116.5}}\n]".to_owned(),
        ),
        ("schools.json", "{\"id\": \"S014\"}".to_owned()),
        (
            "buildings.jsonl",
            r#"{"building_key": "370811-012-00143", "schools": ["S014"], "location": {"lat": 135.4, "lon": 116.5}, "city": "济宁市", "county": "任城区", "street": "古槐街道", "road": "太白中路", "number": 143}"#.to_owned(),
        ),
        (
            "buildings.jsonl",
            r#"{"building_key": "370811-012-00143", "schools": ["S014"], "location": {"lat": 35.4, "lon": 116.5}, "city": "济宁市", "county": "任城区", "street": "古槐街道", "road": "太白中路", "number": "143"}"#.to_owned(),
        ),
        (
            "enrolment_history.jsonl",
            r#"{"school_id": "S014", "grade": 3}"#.to_owned(),
        ),
        (
            "enrolment_history.jsonl",
            r#"{"unit_no": "U1", "uses": [{"year": 2023, "school_id": "S014", "child_id": "37081120190610009"}]}"#.to_owned(),
        ),
        (
            "enrolment_history.jsonl",
            r#"{"child_id": "370811201806050021", "school_id": "S014", "grade": 0}"#.to_owned(),
        ),
    ];
    let mut report = Vec::new();
    for (file, text) in &cases {
        let (name, line, field, message) = fault(file, text);
        assert_eq!(&name, file);
        report.push(format!("{name}:{line} [{field}] {message}"));
    }
    insta::assert_snapshot!(report.join("\n"));
}

#[test]
fn missing_files_are_empty_and_applications_are_not_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("applications.jsonl"), "not json at all\n").expect("write");
    let ds = Dataset::load(dir.path());
    let summary = match ds {
        Ok(ds) => ds.summary(),
        Err(e) => panic!("{e}"),
    };
    assert_eq!(summary.persons + summary.schools + summary.buildings, 0);
}

#[test]
fn bom_crlf_and_blank_lines_are_tolerated() {
    let text = format!("\u{feff}{PERSON}\r\n\r\n");
    assert!(dataset_with("persons.jsonl", &text).is_ok());
}

#[test]
fn not_utf8_names_the_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut bytes = format!("{PERSON}\n").into_bytes();
    bytes.extend_from_slice(b"{\"id\": \"\xff\"}\n");
    std::fs::write(dir.path().join("persons.jsonl"), bytes).expect("write");
    let err = Dataset::load(dir.path()).err();
    assert!(matches!(err, Some(DatasetError::NotUtf8 { line: 2, .. })), "{err:?}");
}

#[test]
fn a_missing_folder_is_refused() {
    let err = Dataset::load(Path::new("/no/such/dataset")).err();
    assert!(matches!(err, Some(DatasetError::Io { .. })), "{err:?}");
    let file = tempfile::NamedTempFile::new().expect("temp file");
    let err = Dataset::load(file.path()).err();
    assert!(matches!(err, Some(DatasetError::Io { .. })), "{err:?}");
}

#[test]
fn the_test_dataset_loads_whole() {
    let ds = common::dataset();
    insta::assert_snapshot!(ds.summary().to_string());
}

#[tokio::test]
async fn serve_refuses_a_malformed_dataset_before_listening() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("persons.jsonl"), "{}\n").expect("write");
    let result = serve_until(
        dir.path(),
        "127.0.0.1:0".parse().expect("addr"),
        SimConfig::default(),
        async { Ok(()) },
    )
    .await;
    let message = result.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        message.contains("persons.jsonl:1: field `id`: missing field `id`"),
        "{message}"
    );
    // A good dataset serves until told to stop.
    assert!(
        serve_until(
            common::data_dir(),
            "127.0.0.1:0".parse().expect("addr"),
            SimConfig::default(),
            async { Ok(()) },
        )
        .await
        .is_ok()
    );
}
