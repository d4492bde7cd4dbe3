use chrono::{TimeZone, Utc};

use super::*;

const MOTHER: &str = "370811198803120042";
const FATHER: &str = "370811198705060015";
const STRANGER: &str = "370811199001010014";

fn id(s: &str) -> NationalId {
    NationalId::parse(s).unwrap()
}

fn ym(s: &str) -> YearMonth {
    YearMonth::parse(s).unwrap()
}

fn reply(body: Option<&str>) -> Reply {
    Reply {
        received_at: Utc.with_ymd_and_hms(2027, 5, 6, 1, 0, 0).unwrap(),
        body: body.map(|b| b.as_bytes().to_vec()),
    }
}

fn unit(unit_no: &str, owners: &[(&str, u32)]) -> String {
    let owners: Vec<String> = owners
        .iter()
        .map(|(id, pct)| format!(r#"{{"id": "{id}", "share_pct": {pct}}}"#))
        .collect();
    format!(
        r#"{{"unit_no": "{unit_no}",
            "address": {{"code": "370811-012-00143-02-0501", "text": "任城区太白中路143号2-501"}},
            "usage": "residential", "registered_on": "2019-06-30", "status": "normal",
            "owners": [{}]}}"#,
        owners.join(", ")
    )
}

fn holdings(units: &[String]) -> String {
    format!(r#"{{"holdings": [{}]}}"#, units.join(", "))
}

#[test]
fn maps_holdings() {
    let body = holdings(&[
        unit("370811012001GB00143F00020501", &[(MOTHER, 50), (FATHER, 50)]),
        unit("370811012001GB00143F00020502", &[(MOTHER, 100)]),
    ]);
    let fetched = holdings_from_reply(&id(MOTHER), &reply(Some(&body))).unwrap();
    insta::assert_json_snapshot!(fetched, @r#"
    {
      "source": {
        "registry": "property",
        "record": "370811198803120042"
      },
      "fetched_at": "2027-05-06T01:00:00Z",
      "record": [
        {
          "unit_no": "370811012001GB00143F00020501",
          "address": {
            "code": "370811-012-00143-02-0501",
            "text": "任城区太白中路143号2-501"
          },
          "usage": "residential",
          "registered_on": "2019-06-30",
          "status": "normal",
          "owners": [
            {
              "id": "370811198803120042",
              "share_pct": 50
            },
            {
              "id": "370811198705060015",
              "share_pct": 50
            }
          ]
        },
        {
          "unit_no": "370811012001GB00143F00020502",
          "address": {
            "code": "370811-012-00143-02-0501",
            "text": "任城区太白中路143号2-501"
          },
          "usage": "residential",
          "registered_on": "2019-06-30",
          "status": "normal",
          "owners": [
            {
              "id": "370811198803120042",
              "share_pct": 100
            }
          ]
        }
      ]
    }
    "#);
}

#[test]
fn no_holdings_is_an_empty_list_and_404_is_a_fault() {
    let fetched = holdings_from_reply(&id(MOTHER), &reply(Some(r#"{"holdings": []}"#))).unwrap();
    assert_eq!(fetched.record, Some(vec![]));
    let err = holdings_from_reply(&id(MOTHER), &reply(None)).unwrap_err();
    assert!(matches!(err, ReadError::UnexpectedNotFound { .. }), "{err}");
    assert_eq!(err.record().to_string(), format!("property:{MOTHER}"));
}

/// registries.md, "Dirty records": well-formed holdings are read as they
/// stand; each clause uses the fields it names.
#[test]
fn odd_holdings_are_read_as_they_stand() {
    let read = |body: String| {
        holdings_from_reply(&id(MOTHER), &reply(Some(&body)))
            .unwrap()
            .record
            .unwrap()
    };
    // Owners that omit the owner asked about: the unit gives her no share.
    let units = read(holdings(&[unit("U1", &[(FATHER, 50), (STRANGER, 50)])]));
    assert_eq!(units[0].owners.len(), 2);
    // Shares past 100% in total, and a unit without owners.
    let units = read(holdings(&[unit("U1", &[(MOTHER, 60), (FATHER, 50)]), unit("U2", &[])]));
    assert_eq!(units[0].owners.iter().map(|o| o.share_pct).sum::<u32>(), 110);
    assert!(units[1].owners.is_empty());
    // An owner listed twice alike is one owner; listed twice differently, both stand.
    let units = read(holdings(&[unit("U1", &[(MOTHER, 50), (MOTHER, 50)])]));
    assert_eq!(units[0].owners.len(), 1);
    let units = read(holdings(&[unit("U1", &[(MOTHER, 50), (MOTHER, 30)])]));
    assert_eq!(units[0].owners.len(), 2);
    // Units out of order are put in order; the same unit twice alike is one unit.
    let units = read(holdings(&[unit("U2", &[(MOTHER, 50)]), unit("U1", &[(MOTHER, 50)])]));
    assert_eq!(
        units.iter().map(|u| u.unit_no.as_str()).collect::<Vec<_>>(),
        ["U1", "U2"]
    );
    let units = read(holdings(&[unit("U1", &[(MOTHER, 50)]), unit("U1", &[(MOTHER, 50)])]));
    assert_eq!(units.len(), 1);
}

#[test]
fn unusable_holdings_are_refused() {
    let cases = [
        (
            holdings(&[unit("U1", &[(MOTHER, 50)]), unit("U1", &[(MOTHER, 40)])]),
            "unit U1 is listed twice, with different contents",
        ),
        (
            holdings(&[unit("U1", &[(MOTHER, 50)]).replace("50}", "50.5}")]),
            "holdings[0].owners[0].share_pct",
        ),
        (
            holdings(&[unit("U1", &[(MOTHER, 50)]).replace("residential", "farm")]),
            "holdings[0].usage",
        ),
        (
            holdings(&[unit("U1", &[(MOTHER, 50)]).replace("normal", "frozen")]),
            "holdings[0].status",
        ),
        (holdings(&[unit("", &[(MOTHER, 50)])]), "unit_no` is empty"),
        (r#"{"units": []}"#.to_owned(), "missing field `holdings`"),
    ];
    for (body, detail) in cases {
        let err = holdings_from_reply(&id(MOTHER), &reply(Some(&body))).unwrap_err();
        assert!(err.to_string().contains(detail), "{detail}: {err}");
        assert!(!err.is_unavailable());
        assert!(err.is_unusable(), "{err}");
    }
}

#[test]
fn a_unit_is_the_unit_asked_for() {
    let asked = UnitNo::new("370811012001GB00143F00020501");
    let body = unit(asked.as_str(), &[(MOTHER, 100)]);
    let fetched = unit_from_reply(&asked, &reply(Some(&body))).unwrap();
    assert_eq!(fetched.record.unwrap().unit_no, asked);
    assert_eq!(unit_from_reply(&asked, &reply(None)).unwrap().record, None);
    let other = unit("370811012001GB00143F00020502", &[(MOTHER, 100)]);
    let err = unit_from_reply(&asked, &reply(Some(&other))).unwrap_err();
    assert!(matches!(err, ReadError::Contradictory { .. }), "{err}");
    let nobody = unit(asked.as_str(), &[]);
    let fetched = unit_from_reply(&asked, &reply(Some(&nobody))).unwrap();
    assert_eq!(fetched.record.unwrap().owners, vec![]);
}

fn permit(holder: &str, issued: &str, until: &str) -> String {
    format!(
        r#"{{"permit_no": "JZ370800001", "holder_id": "{holder}",
            "address": {{"code": null, "text": "太白中路 143号 2单元 501室"}},
            "issued_on": "{issued}", "valid_until": "{until}"}}"#
    )
}

#[test]
fn maps_a_permit() {
    let fetched = permit_from_reply(&id(MOTHER), &reply(Some(&permit(MOTHER, "2024-03-02", "2028-03-01")))).unwrap();
    insta::assert_json_snapshot!(fetched, @r#"
    {
      "source": {
        "registry": "residence",
        "record": "370811198803120042"
      },
      "fetched_at": "2027-05-06T01:00:00Z",
      "record": {
        "permit_no": "JZ370800001",
        "holder_id": "370811198803120042",
        "address": {
          "code": null,
          "text": "太白中路 143号 2单元 501室"
        },
        "issued_on": "2024-03-02",
        "valid_until": "2028-03-01"
      }
    }
    "#);
    assert_eq!(permit_from_reply(&id(MOTHER), &reply(None)).unwrap().record, None);
}

#[test]
fn a_permit_is_read_as_it_stands_unless_it_is_someone_elses() {
    let err = permit_from_reply(&id(MOTHER), &reply(Some(&permit(FATHER, "2024-03-02", "2028-03-01")))).unwrap_err();
    assert!(
        err.to_string().contains("answered with that of 370811198705060015"),
        "{err}"
    );
    assert!(err.is_unusable());
    // Valid until before it was issued: read as it stands (registries.md, "Dirty records").
    let inverted = permit_from_reply(&id(MOTHER), &reply(Some(&permit(MOTHER, "2024-03-02", "2024-03-01"))))
        .unwrap()
        .record
        .unwrap();
    assert!(inverted.valid_until < inverted.issued_on);
}

/// Dates are `YYYY-MM-DD` exactly (registries.md): what chrono alone would
/// also read as a date makes the answer unusable, naming the field.
#[test]
fn a_permit_date_out_of_format_is_unusable() {
    for (issued, until, field) in [
        ("2024-3-02", "2028-03-01", "issued_on"),
        ("2024-03-02", " 2028-03-01", "valid_until"),
        ("+2024-03-02", "2028-03-01", "issued_on"),
        ("2024-03-02", "2028-02-30", "valid_until"),
    ] {
        let err = permit_from_reply(&id(MOTHER), &reply(Some(&permit(MOTHER, issued, until)))).unwrap_err();
        assert!(err.is_unusable(), "{issued} {until}: {err}");
        assert!(err.to_string().contains(field), "{field}: {err}");
    }
}

fn months(id: &str, months: &[&str]) -> String {
    let m: Vec<String> = months.iter().map(|m| format!("\"{m}\"")).collect();
    format!(r#"{{"id": "{id}", "months": [{}]}}"#, m.join(", "))
}

#[test]
fn maps_insurance_months() {
    let (from, to) = (ym("2025-05"), ym("2027-04"));
    let body = months(MOTHER, &["2025-05", "2025-07", "2027-04"]);
    let fetched = insurance_months_from_reply(&id(MOTHER), from, to, &reply(Some(&body))).unwrap();
    assert_eq!(fetched.record, Some(vec![ym("2025-05"), ym("2025-07"), ym("2027-04")]));
    assert_eq!(fetched.source.to_string(), format!("insurance:{MOTHER}"));
    let none = insurance_months_from_reply(&id(MOTHER), from, to, &reply(Some(&months(MOTHER, &[])))).unwrap();
    assert_eq!(none.record, Some(vec![]));
    let err = insurance_months_from_reply(&id(MOTHER), from, to, &reply(None)).unwrap_err();
    assert!(matches!(err, ReadError::UnexpectedNotFound { .. }), "{err}");
}

/// Read as it stands: the months paid in the asked window, each once, ascending.
#[test]
fn odd_insurance_months_are_read_as_they_stand() {
    let (from, to) = (ym("2025-05"), ym("2027-04"));
    let read = |body: String| {
        insurance_months_from_reply(&id(MOTHER), from, to, &reply(Some(&body)))
            .unwrap()
            .record
            .unwrap()
    };
    assert_eq!(read(months(MOTHER, &["2025-04", "2025-05"])), vec![ym("2025-05")]);
    assert_eq!(read(months(MOTHER, &["2027-05"])), vec![]);
    assert_eq!(
        read(months(MOTHER, &["2025-07", "2025-06"])),
        vec![ym("2025-06"), ym("2025-07")]
    );
    assert_eq!(read(months(MOTHER, &["2025-07", "2025-07"])), vec![ym("2025-07")]);
}

#[test]
fn unusable_insurance_months_are_refused() {
    let (from, to) = (ym("2025-05"), ym("2027-04"));
    let cases = [
        (months(FATHER, &[]), "answered with those of 370811198705060015"),
        (months(MOTHER, &["2025-7"]), "months[0]"),
    ];
    for (body, detail) in cases {
        let err = insurance_months_from_reply(&id(MOTHER), from, to, &reply(Some(&body))).unwrap_err();
        assert!(err.to_string().contains(detail), "{detail}: {err}");
        assert_eq!(err.record(), &RecordRef::new(Registry::Insurance, MOTHER));
        assert!(err.is_unusable());
    }
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    fn window() -> (YearMonth, YearMonth) {
        (ym("2025-05"), ym("2027-04"))
    }

    /// The 24 months of the window, in order.
    fn months_of_window() -> Vec<YearMonth> {
        let (from, _) = window();
        (0..24)
            .map(|i| {
                let index = from.year() * 12 + from.month() as i32 - 1 + i;
                YearMonth::new(index / 12, (index % 12 + 1) as u32).unwrap()
            })
            .collect()
    }

    fn body(ms: &[YearMonth]) -> String {
        let texts: Vec<String> = ms.iter().map(|m| m.to_string()).collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        months(MOTHER, &refs)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Any ascending subset of the window is taken as it is.
        #[test]
        fn ascending_months_in_the_window_are_kept(mask in proptest::collection::vec(any::<bool>(), 24)) {
            let chosen: Vec<YearMonth> = months_of_window().into_iter().zip(&mask).filter(|(_, k)| **k).map(|(m, _)| m).collect();
            let (from, to) = window();
            let fetched = insurance_months_from_reply(&id(MOTHER), from, to, &reply(Some(&body(&chosen)))).unwrap();
            prop_assert_eq!(fetched.record, Some(chosen));
        }

        /// Any months at all, in any order, repeated or outside the window,
        /// read as the ascending set of those inside the window.
        #[test]
        fn any_months_read_as_the_set_inside_the_window(
            picks in proptest::collection::vec((0i32..60, any::<bool>()), 0..40),
        ) {
            let (from, to) = window();
            let all: Vec<YearMonth> = picks
                .iter()
                .map(|(i, _)| {
                    let index = 2024 * 12 + i;
                    YearMonth::new(index / 12, (index % 12 + 1) as u32).unwrap()
                })
                .collect();
            let fetched = insurance_months_from_reply(&id(MOTHER), from, to, &reply(Some(&body(&all)))).unwrap();
            let expected: Vec<YearMonth> = all
                .iter()
                .copied()
                .filter(|m| (from..=to).contains(m))
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            prop_assert_eq!(fetched.record, Some(expected));
        }
    }
}
