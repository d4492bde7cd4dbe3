//! The targets. Each must never panic; a panic (or a broken assertion) is a
//! finding.

use chrono::{TimeZone, Utc};
use enrol_domain::{AddressCode, BuildingKey, NationalId, UnitNo};
use enrol_registry_client::Reply;

/// The application JSON through the API's parsing and validation
/// (`POST /v1/applications` before it touches the store). When accepted, the
/// application keeps the caps, and its canonical JSON parses back to itself.
pub fn application_json(data: &[u8]) {
    let Ok(app) = enrol_api::parse_application(data) else {
        return;
    };
    assert!(app.guardians().len() <= enrol_api::MAX_GUARDIAN_IDS + 1);
    assert!(app.siblings().len() <= enrol_api::MAX_SIBLING_IDS);
    assert!(!app.consent_id.as_str().is_empty() && app.consent_id.as_str().len() <= enrol_api::MAX_CONSENT_ID_LEN);
    let canonical = serde_json::to_vec(&app).expect("an application serialises");
    let again = enrol_api::parse_application(&canonical).expect("the canonical form parses");
    assert_eq!(again, app, "canonical JSON round trip");
}

/// National IDs (GB 11643-1999) as the API and the adapters read them: an
/// accepted ID prints in canonical form and parses back to itself, and its
/// birth date and region are there to read.
pub fn national_id(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(id) = NationalId::parse(text) {
        let shown = id.to_string();
        assert_eq!(shown.len(), 18);
        assert_eq!(NationalId::parse(&shown).expect("canonical form parses"), id);
        let _ = (id.birth_date(), id.region_code(), id.is_male());
        let json = serde_json::to_string(&id).expect("serialises");
        assert_eq!(serde_json::from_str::<NationalId>(&json).expect("JSON round trip"), id);
    }
    if text.len() >= 17
        && let Some(prefix) = text.get(..17)
        && let Some(id) = NationalId::from_prefix(prefix)
    {
        assert_eq!(NationalId::parse(id.as_str()).expect("a completed prefix is valid"), id);
    }
}

/// Address text and codes: the zone registry's text grammar (the simulator's
/// parser, the other side of the wire) and the engine's own room-level codes.
pub fn address_text(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(parsed) = enrol_registry_sim::address::parse(text) {
        assert!(!parsed.head.is_empty());
        assert!(parsed.unit <= 99 && parsed.room <= 9999);
    }
    if let Ok(code) = AddressCode::parse(text) {
        let shown = code.as_str().to_owned();
        assert_eq!(AddressCode::parse(&shown).expect("canonical code parses"), code);
        let building = code.building_key();
        assert!(shown.starts_with(building.as_str()), "{shown} in {building:?}");
        let _ = code.county();
    }
    if let Ok(key) = BuildingKey::parse(text) {
        assert_eq!(BuildingKey::parse(key.as_str()).expect("canonical key parses"), key);
    }
}

/// A policy file: refused with a typed error naming its key and line, or
/// accepted; never a panic.
pub fn policy_toml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match enrol_rules::Policy::from_toml_str(text) {
        Ok(policy) => {
            let _ = policy.round_id().to_string();
        }
        Err(err) => {
            let _ = err.to_string();
        }
    }
}

/// A registry's answer through the adapters: the first byte picks the
/// answer's kind, the rest is the body of a `200`. Every adapter either maps
/// it or refuses it with an error naming the record; never a panic.
pub fn registry_answer(data: &[u8]) {
    let Some((&kind, body)) = data.split_first() else {
        return;
    };
    let reply = Reply {
        received_at: Utc
            .with_ymd_and_hms(2027, 5, 6, 9, 0, 0)
            .single()
            .expect("a valid time"),
        body: Some(body.to_vec()),
    };
    let person = NationalId::parse("370811202011150023").expect("a valid ID");
    let unit = UnitNo::new("370811001001GB00010F00010101");
    let building = BuildingKey::parse("370811-001-00010").expect("a valid building key");
    let describe = |r: Result<String, String>| match r {
        Ok(shown) | Err(shown) => assert!(!shown.is_empty()),
    };
    use enrol_adapter_household as household;
    use enrol_adapter_residence as residence;
    use enrol_adapter_school_zone as zone;
    let shown = |value: &dyn std::fmt::Debug| format!("{value:?}");
    let outcome: Result<String, String> = match kind % 10 {
        0 => household::household_record_from_reply(&person, &reply)
            .map(|v| shown(&v))
            .map_err(|e| e.to_string()),
        1 => household::birth_certificate_from_reply(&person, &reply)
            .map(|v| shown(&v))
            .map_err(|e| e.to_string()),
        2 => residence::holdings_from_reply(&person, &reply)
            .map(|v| shown(&v))
            .map_err(|e| e.to_string()),
        3 => residence::unit_from_reply(&unit, &reply)
            .map(|v| shown(&v))
            .map_err(|e| e.to_string()),
        4 => residence::permit_from_reply(&person, &reply)
            .map(|v| shown(&v))
            .map_err(|e| e.to_string()),
        5 => zone::catalogue_from_reply(&reply)
            .map(|v| shown(&v))
            .map_err(|e| e.to_string()),
        6 => zone::building_from_reply(&building, &reply)
            .map(|v| shown(&v))
            .map_err(|e| e.to_string()),
        7 => zone::address_matches_from_reply("济宁市任城区太白中路143号2单元501室", &reply)
            .map(|v| shown(&v))
            .map_err(|e| e.to_string()),
        8 => zone::unit_uses_from_reply(&unit, &reply)
            .map(|v| shown(&v))
            .map_err(|e| e.to_string()),
        _ => zone::current_place_from_reply(&person, &reply)
            .map(|v| shown(&v))
            .map_err(|e| e.to_string()),
    };
    describe(outcome);
}

/// A fuzz target: bytes in, a panic on a finding.
pub type Target = fn(&[u8]);

/// The targets by name, as the corpus folders are named.
pub const ALL: [(&str, Target); 5] = [
    ("application_json", application_json),
    ("national_id", national_id),
    ("address_text", address_text),
    ("policy_toml", policy_toml),
    ("registry_answer", registry_answer),
];
