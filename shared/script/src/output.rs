//! Printing query results: psql's default aligned table, NDJSON, or CSV.
//!
//! Not a general table printer (see the `output` module for the CLIs'
//! own tables). The simple query protocol gives column names but no types;
//! the runner adds types when it could describe the statement (a single
//! row-returning statement). With types, numbers align right as in psql and
//! JSON has numbers, booleans and embedded json/jsonb; without, every value
//! is text.

use postgres::types::Type;
use std::io::{self, Write};

/// How query results are written to the output writer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// psql's default aligned format with the `(N rows)` footer.
    #[default]
    Table,
    /// One JSON object per row per line; values are strings or null.
    Json,
    /// A header line then the rows, RFC 4180 quoting; NULL is empty.
    Csv,
}

/// One result set.
pub(crate) struct ResultSet {
    pub columns: Vec<String>,
    /// Column types, when known (same length as `columns`).
    pub types: Option<Vec<Type>>,
    pub rows: Vec<Vec<Option<String>>>,
}

impl ResultSet {
    fn ty(&self, i: usize) -> Option<&Type> {
        self.types.as_ref().and_then(|t| t.get(i))
    }
}

/// psql right-aligns these (its `column_type_alignment`).
fn numeric(t: &Type) -> bool {
    matches!(
        *t,
        Type::INT2
            | Type::INT4
            | Type::INT8
            | Type::FLOAT4
            | Type::FLOAT8
            | Type::NUMERIC
            | Type::OID
            | Type::XID
            | Type::CID
            | Type::MONEY
    )
}

/// psql's printing settings that `\pset`, `\x`, `\t`, `\a` and `\gx`
/// change (the ones the runner supports).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Print {
    /// `\pset null`: how NULL shows (not in JSON).
    pub null: String,
    /// `\x`: one record per block of `name | value` lines.
    pub expanded: bool,
    /// `\t`: rows only, no header nor footer.
    pub tuples_only: bool,
    /// `\pset footer`: the `(N rows)` line.
    pub footer: bool,
    /// `\a`, `\pset format unaligned`: `|`-separated (Table format only).
    pub unaligned: bool,
}

impl Default for Print {
    fn default() -> Self {
        Print {
            null: String::new(),
            expanded: false,
            tuples_only: false,
            footer: true,
            unaligned: false,
        }
    }
}

pub(crate) fn write(
    format: Format,
    p: &Print,
    out: &mut dyn Write,
    rs: &ResultSet,
) -> io::Result<()> {
    match format {
        Format::Table if p.unaligned && p.expanded => unaligned_expanded(out, rs, p, "|", true),
        Format::Table if p.unaligned => unaligned(out, rs, p),
        Format::Table if p.expanded => expanded(out, rs, p),
        Format::Table => table(out, rs, p),
        Format::Json => json(out, rs),
        Format::Csv if p.expanded => unaligned_expanded(out, rs, p, ",", false),
        Format::Csv => csv(out, rs, p),
    }
}

fn footer(out: &mut dyn Write, rs: &ResultSet, p: &Print) -> io::Result<()> {
    if p.footer && !p.tuples_only {
        let count = rs.rows.len();
        writeln!(out, "({count} {})", if count == 1 { "row" } else { "rows" })?;
    }
    Ok(())
}

/// psql's unaligned format: `|` between fields, header and footer.
fn unaligned(out: &mut dyn Write, rs: &ResultSet, p: &Print) -> io::Result<()> {
    if !p.tuples_only {
        writeln!(out, "{}", rs.columns.join("|"))?;
    }
    for row in &rs.rows {
        let fields: Vec<&str> = row
            .iter()
            .map(|v| v.as_deref().unwrap_or(&p.null))
            .collect();
        writeln!(out, "{}", fields.join("|"))?;
    }
    footer(out, rs, p)
}

/// Unaligned (or CSV) expanded: `name|value` lines; unaligned records are
/// separated by a blank line.
fn unaligned_expanded(
    out: &mut dyn Write,
    rs: &ResultSet,
    p: &Print,
    sep: &str,
    blank_between: bool,
) -> io::Result<()> {
    for (i, row) in rs.rows.iter().enumerate() {
        if i > 0 && blank_between {
            writeln!(out)?;
        }
        for (c, v) in rs.columns.iter().zip(row) {
            let v = v.as_deref().unwrap_or(&p.null);
            if sep == "," {
                writeln!(out, "{},{}", csv_field(c), csv_field(v))?;
            } else {
                writeln!(out, "{c}{sep}{v}")?;
            }
        }
    }
    Ok(())
}

/// psql's aligned expanded format (`\x`, `\gx`), border 1.
fn expanded(out: &mut dyn Write, rs: &ResultSet, p: &Print) -> io::Result<()> {
    if rs.rows.is_empty() {
        if !p.tuples_only {
            writeln!(out, "(0 rows)")?;
            writeln!(out)?;
        }
        return Ok(());
    }
    let names: Vec<Vec<String>> = rs.columns.iter().map(|c| display_lines(c)).collect();
    let hwidth = names
        .iter()
        .flat_map(|n| n.iter().map(|l| width(l)))
        .max()
        .unwrap_or(0);
    let rows: Vec<Vec<Vec<String>>> = rs
        .rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|v| display_lines(v.as_deref().unwrap_or(&p.null)))
                .collect()
        })
        .collect();
    let dwidth = rows
        .iter()
        .flat_map(|r| r.iter().flat_map(|c| c.iter().map(|l| width(l))))
        .max()
        .unwrap_or(0);
    for (i, row) in rows.iter().enumerate() {
        // print.c's print_aligned_vertical_line, border 1.
        let mut line = String::from("-");
        let mut reclen: i64 = 0;
        if !p.tuples_only {
            let rec = format!("[ RECORD {} ]", i + 1);
            reclen = rec.len() as i64;
            line.push_str(&rec);
        } else if i == 0 {
            line.clear();
        }
        if !p.tuples_only || i > 0 {
            reclen += 1;
            for _ in reclen.max(0)..hwidth as i64 {
                line.push('-');
            }
            reclen -= hwidth as i64;
            for ch in ['-', '+', '-'] {
                if reclen <= 0 {
                    line.push(ch);
                }
                reclen -= 1;
            }
            for _ in reclen.max(0)..dwidth as i64 {
                line.push('-');
            }
            writeln!(out, "{line}")?;
        }
        for (name, cell) in names.iter().zip(row) {
            let height = name.len().max(cell.len()).max(1);
            for l in 0..height {
                let mut line = String::new();
                let n = name.get(l).map(String::as_str).unwrap_or("");
                pad(&mut line, n, hwidth, Align::Left);
                line.push_str(if l + 1 < name.len() { "+" } else { " " });
                line.push_str("| ");
                if let Some(v) = cell.get(l) {
                    line.push_str(v);
                    if l + 1 < cell.len() {
                        pad(&mut line, "", dwidth - width(v), Align::Left);
                        line.push('+');
                    }
                }
                writeln!(out, "{line}")?;
            }
        }
    }
    writeln!(out)
}

fn width(s: &str) -> usize {
    s.chars().count()
}

/// A value as psql's aligned format shows it: one entry per line, tabs
/// expanded to 8-column stops, other control characters escaped.
fn display_lines(v: &str) -> Vec<String> {
    v.split('\n')
        .map(|line| {
            let mut s = String::new();
            let mut w = 0;
            for c in line.chars() {
                match c {
                    '\t' => loop {
                        s.push(' ');
                        w += 1;
                        if w % 8 == 0 {
                            break;
                        }
                    },
                    '\r' => {
                        s.push_str("\\r");
                        w += 2;
                    }
                    c if (c as u32) < 0x20 || c == '\u{7f}' => {
                        s.push_str(&format!("\\x{:02X}", c as u32));
                        w += 4;
                    }
                    c => {
                        s.push(c);
                        w += 1;
                    }
                }
            }
            s
        })
        .collect()
}

#[derive(Clone, Copy, PartialEq)]
enum Align {
    Left,
    Right,
    Center,
}

fn pad(line: &mut String, text: &str, width: usize, align: Align) {
    let extra = width.saturating_sub(self::width(text));
    let (l, r) = match align {
        Align::Left => (0, extra),
        Align::Right => (extra, 0),
        Align::Center => (extra / 2, extra - extra / 2),
    };
    line.extend(std::iter::repeat_n(' ', l));
    line.push_str(text);
    line.extend(std::iter::repeat_n(' ', r));
}

/// One logical row (header or data) as psql prints it: a `+` marks a
/// cell that continues on the next physical line.
fn write_row(
    out: &mut dyn Write,
    cells: &[Vec<String>],
    w: &[usize],
    aligns: &[Align],
    header: bool,
) -> io::Result<()> {
    let height = cells.iter().map(Vec::len).max().unwrap_or(1).max(1);
    let last = cells.len().saturating_sub(1);
    for l in 0..height {
        let mut line = String::from(" ");
        for (c, cell) in cells.iter().enumerate() {
            let text = cell.get(l).map(String::as_str);
            let cont = l + 1 < cell.len();
            let mark = if cont { '+' } else { ' ' };
            if c < last {
                pad(&mut line, text.unwrap_or(""), w[c], aligns[c]);
                line.push(mark);
                line.push_str("| ");
            } else if header {
                pad(&mut line, text.unwrap_or(""), w[c], Align::Center);
                line.push(mark);
            } else if let Some(text) = text {
                if aligns[c] == Align::Right || cont {
                    pad(&mut line, text, w[c], aligns[c]);
                } else {
                    // No trailing blanks after the last column, as psql.
                    line.push_str(text);
                }
                if cont {
                    line.push('+');
                }
            }
        }
        writeln!(out, "{line}")?;
    }
    Ok(())
}

fn table(out: &mut dyn Write, rs: &ResultSet, p: &Print) -> io::Result<()> {
    let header: Vec<Vec<String>> = rs.columns.iter().map(|c| display_lines(c)).collect();
    let rows: Vec<Vec<Vec<String>>> = rs
        .rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|v| display_lines(v.as_deref().unwrap_or(&p.null)))
                .collect()
        })
        .collect();
    let mut w: Vec<usize> = header
        .iter()
        .map(|h| h.iter().map(|l| width(l)).max().unwrap_or(0))
        .collect();
    for row in &rows {
        for (i, cell) in row.iter().enumerate() {
            w[i] = w[i].max(cell.iter().map(|l| width(l)).max().unwrap_or(0));
        }
    }
    let aligns: Vec<Align> = (0..rs.columns.len())
        .map(|i| {
            if rs.ty(i).is_some_and(numeric) {
                Align::Right
            } else {
                Align::Left
            }
        })
        .collect();
    let centered = vec![Align::Center; aligns.len()];
    if !p.tuples_only {
        write_row(out, &header, &w, &centered, true)?;
        let dashes: Vec<String> = w.iter().map(|&x| "-".repeat(x + 2)).collect();
        writeln!(out, "{}", dashes.join("+"))?;
    }
    for row in &rows {
        write_row(out, row, &w, &aligns, false)?;
    }
    footer(out, rs, p)?;
    writeln!(out)
}

fn json(out: &mut dyn Write, rs: &ResultSet) -> io::Result<()> {
    for row in &rs.rows {
        let mut line = String::from("{");
        for (i, (c, v)) in rs.columns.iter().zip(row).enumerate() {
            if i > 0 {
                line.push(',');
            }
            line.push_str(&serde_json::to_string(c).map_err(io::Error::other)?);
            line.push(':');
            match (v, rs.ty(i)) {
                (None, _) => line.push_str("null"),
                (Some(v), Some(t))
                    if numeric(t)
                        && *t != Type::MONEY
                        && serde_json::from_str::<serde_json::Number>(v).is_ok() =>
                {
                    line.push_str(v)
                }
                (Some(v), Some(&Type::BOOL)) => {
                    line.push_str(if v == "t" { "true" } else { "false" })
                }
                (Some(v), Some(&Type::JSON | &Type::JSONB))
                    if serde_json::from_str::<serde_json::Value>(v).is_ok() =>
                {
                    line.push_str(v)
                }
                (Some(v), _) => line.push_str(&serde_json::to_string(v).map_err(io::Error::other)?),
            }
        }
        line.push('}');
        writeln!(out, "{line}")?;
    }
    Ok(())
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn csv(out: &mut dyn Write, rs: &ResultSet, p: &Print) -> io::Result<()> {
    if !p.tuples_only {
        let header: Vec<String> = rs.columns.iter().map(|c| csv_field(c)).collect();
        writeln!(out, "{}", header.join(","))?;
    }
    for row in &rs.rows {
        let fields: Vec<String> = row
            .iter()
            .map(|v| {
                v.as_deref()
                    .map(csv_field)
                    .unwrap_or_else(|| p.null.clone())
            })
            .collect();
        writeln!(out, "{}", fields.join(","))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rs() -> ResultSet {
        ResultSet {
            columns: vec!["id".into(), "name".into()],
            types: None,
            rows: vec![
                vec![Some("1".into()), Some("a,\"b\"".into())],
                vec![Some("22".into()), None],
            ],
        }
    }

    fn render(f: Format) -> String {
        let mut v = Vec::new();
        write(f, &Print::default(), &mut v, &rs()).unwrap();
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn table_like_psql() {
        assert_eq!(
            render(Format::Table),
            " id | name  \n----+-------\n 1  | a,\"b\"\n 22 | \n(2 rows)\n\n"
        );
    }

    #[test]
    fn typed_numbers_align_right_and_become_json_numbers() {
        let mut r = rs();
        r.types = Some(vec![Type::INT4, Type::TEXT]);
        let mut v = Vec::new();
        write(Format::Table, &Print::default(), &mut v, &r).unwrap();
        assert_eq!(
            String::from_utf8(v).unwrap(),
            " id | name  \n----+-------\n  1 | a,\"b\"\n 22 | \n(2 rows)\n\n"
        );
        r.types = Some(vec![Type::NUMERIC, Type::JSONB]);
        r.rows = vec![
            vec![Some("NaN".into()), Some("{\"a\": [1]}".into())],
            vec![Some("1.50".into()), Some("t".into())],
        ];
        let mut v = Vec::new();
        write(Format::Json, &Print::default(), &mut v, &r).unwrap();
        assert_eq!(
            String::from_utf8(v).unwrap(),
            "{\"id\":\"NaN\",\"name\":{\"a\": [1]}}\n{\"id\":1.50,\"name\":\"t\"}\n"
        );
    }

    #[test]
    fn multi_line_values_tabs_and_controls_as_psql() {
        let r = ResultSet {
            columns: vec!["id".into(), "label".into(), "x".into()],
            types: Some(vec![Type::INT4, Type::TEXT, Type::NUMERIC]),
            rows: vec![
                vec![
                    Some("1".into()),
                    Some("multi\nline, \"q\"".into()),
                    Some("1.5".into()),
                ],
                vec![Some("22".into()), Some("tab\there".into()), None],
                vec![
                    Some("3".into()),
                    Some("a\nbb\nccc".into()),
                    Some("2".into()),
                ],
            ],
        };
        let mut v = Vec::new();
        write(Format::Table, &Print::default(), &mut v, &r).unwrap();
        // Captured from psql 15 (`psql -X -q`), with the same values.
        let psql = "·id·|····label·····|··x··\n----+--------------+-----\n··1·|·multi·······+|·1.5\n····|·line,·\"q\"····|·\n·22·|·tab·····here·|····\n··3·|·a···········+|···2\n····|·bb··········+|·\n····|·ccc··········|·\n(3·rows)\n\n";
        assert_eq!(String::from_utf8(v).unwrap(), psql.replace('·', " "));
        let r = ResultSet {
            columns: vec!["b".into(), "a".into()],
            types: None,
            rows: vec![vec![Some("z".into()), Some("x\ny".into())]],
        };
        let mut v = Vec::new();
        write(Format::Table, &Print::default(), &mut v, &r).unwrap();
        assert_eq!(
            String::from_utf8(v).unwrap(),
            " b | a \n---+---\n z | x+\n   | y\n(1 row)\n\n"
        );
        assert_eq!(display_lines("a\tb\u{1}c\rd"), ["a       b\\x01c\\rd"]);
    }

    #[test]
    fn ndjson_rows() {
        assert_eq!(
            render(Format::Json),
            "{\"id\":\"1\",\"name\":\"a,\\\"b\\\"\"}\n{\"id\":\"22\",\"name\":null}\n"
        );
    }

    #[test]
    fn csv_rfc4180() {
        assert_eq!(render(Format::Csv), "id,name\n1,\"a,\"\"b\"\"\"\n22,\n");
    }
}
