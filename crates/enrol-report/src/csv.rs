//! A small RFC 4180 reader that remembers where each record starts, so that
//! every error can name its line.

use crate::error::LineProblem;

/// One CSV record and the 1-based line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record {
    pub line: usize,
    pub fields: Vec<String>,
}

/// Splits `text` into records. A final line end is optional; `\r\n` is read
/// as a line end too (the round output writes `\n`, but a file that went
/// through a spreadsheet may not).
pub(crate) fn records(text: &str) -> Result<Vec<Record>, (usize, LineProblem)> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1;
    while chars.peek().is_some() {
        let start = line;
        let mut fields = Vec::new();
        let mut field = String::new();
        // Whether the current field was quoted (then only a separator or a
        // line end may follow its closing quote).
        let mut quoted = false;
        let mut at_field_start = true;
        loop {
            match chars.next() {
                None => {
                    fields.push(std::mem::take(&mut field));
                    break;
                }
                Some('"') if at_field_start => {
                    quoted = true;
                    at_field_start = false;
                    loop {
                        match chars.next() {
                            None => return Err((start, LineProblem::UnclosedQuote)),
                            Some('"') if chars.peek() == Some(&'"') => {
                                chars.next();
                                field.push('"');
                            }
                            Some('"') => break,
                            Some(c) => {
                                if c == '\n' {
                                    line += 1;
                                }
                                field.push(c);
                            }
                        }
                    }
                }
                Some(',') => {
                    fields.push(std::mem::take(&mut field));
                    quoted = false;
                    at_field_start = true;
                }
                Some('\n') => {
                    fields.push(std::mem::take(&mut field));
                    line += 1;
                    break;
                }
                Some('\r') if chars.peek() == Some(&'\n') => {
                    chars.next();
                    fields.push(std::mem::take(&mut field));
                    line += 1;
                    break;
                }
                Some(_) if quoted => return Err((line, LineProblem::TextAfterQuote)),
                Some('"') => return Err((line, LineProblem::StrayQuote)),
                Some(c) => {
                    at_field_start = false;
                    field.push(c);
                }
            }
        }
        out.push(Record { line: start, fields });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(text: &str) -> Vec<(usize, Vec<String>)> {
        records(text)
            .unwrap_or_else(|e| panic!("{e:?}"))
            .into_iter()
            .map(|r| (r.line, r.fields))
            .collect()
    }

    #[test]
    fn reads_plain_and_quoted_fields_with_their_lines() {
        let text = "a,b,c\n1,\"x,y\",\"say \"\"hi\"\"\"\n\"two\nlines\",,\n4,5,6";
        assert_eq!(
            fields(text),
            vec![
                (1, vec!["a".into(), "b".into(), "c".into()]),
                (2, vec!["1".into(), "x,y".into(), "say \"hi\"".into()]),
                (3, vec!["two\nlines".into(), String::new(), String::new()]),
                (5, vec!["4".into(), "5".into(), "6".into()]),
            ]
        );
    }

    #[test]
    fn accepts_crlf_and_a_missing_final_line_end() {
        assert_eq!(
            fields("a,b\r\n1,2"),
            vec![(1, vec!["a".into(), "b".into()]), (2, vec!["1".into(), "2".into()])]
        );
        assert_eq!(fields(""), vec![]);
    }

    fn encode(field: &str) -> String {
        if field.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", field.replace('"', "\"\""))
        } else {
            field.to_owned()
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        /// Whatever RFC 4180 writes, the reader gives back, with the right lines.
        #[test]
        fn reads_back_what_rfc4180_writes(rows in proptest::collection::vec(
            proptest::collection::vec("[a,\"\n 房]{0,6}", 1..4), 1..6)) {
            let text: String = rows.iter().map(|r| r.iter().map(|f| encode(f)).collect::<Vec<_>>().join(",") + "\n").collect();
            let read = records(&text).map_err(|e| proptest::test_runner::TestCaseError::fail(format!("{e:?}")))?;
            // A record of one empty field is an empty line: it reads back as such.
            let fields: Vec<Vec<String>> = read.iter().map(|r| r.fields.clone()).collect();
            proptest::prop_assert_eq!(&fields, &rows);
            let mut line = 1;
            for (record, row) in read.iter().zip(&rows) {
                proptest::prop_assert_eq!(record.line, line);
                line += 1 + row.iter().map(|f| f.matches('\n').count()).sum::<usize>();
            }
        }
    }

    #[test]
    fn names_the_line_of_a_broken_quote() {
        assert_eq!(records("a\n\"open"), Err((2, LineProblem::UnclosedQuote)));
        assert_eq!(records("a\nb\"c"), Err((2, LineProblem::StrayQuote)));
        assert_eq!(records("a\n\"b\"c"), Err((2, LineProblem::TextAfterQuote)));
    }
}
