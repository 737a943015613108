//! The script's client encoding: which encoding the bytes of a script are
//! in, as psql's `client_encoding` says (`SET client_encoding`, `SET NAMES`,
//! `\encoding`, `PGCLIENTENCODING`), and converting them to UTF-8.
//!
//! psql sends the file's bytes as they are and the server converts them
//! from the session's `client_encoding`. The `postgres` client speaks UTF-8
//! only (it decodes every result as UTF-8), so the runner keeps the wire in
//! UTF-8 and converts the script's bytes here instead: the server stores
//! the same text psql's would.
//!
//! Not for encodings whose multibyte characters may contain ASCII bytes
//! (SJIS, BIG5, GBK, UHC, GB18030, JOHAB): splitting their bytes needs an
//! encoding-aware lexer; those, and the EUC and MULE encodings, are refused.

use encoding_rs::Encoding as Rs;

/// A client encoding the runner can convert from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientEncoding {
    /// PostgreSQL's name for it (`SHOW client_encoding`): `UTF8`, `LATIN1`.
    pub name: &'static str,
    kind: Kind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// UTF8, and SQL_ASCII on a UTF-8 server (no conversion; the server
    /// only validates the bytes as UTF-8).
    Utf8,
    /// ISO 8859-1: each byte is the code point of the same number.
    Latin1,
    /// A single-byte table from encoding_rs (WHATWG), exact for these.
    Table(&'static Rs),
    /// ISO 8859-9 (LATIN5): windows-1254 except that 0x80-0x9F are the C1
    /// controls, as in PostgreSQL's table (WHATWG maps the label to 1254).
    C1Then(&'static Rs),
}

impl ClientEncoding {
    pub const UTF8: ClientEncoding = ClientEncoding {
        name: "UTF8",
        kind: Kind::Utf8,
    };

    /// PostgreSQL's canonical name (as `SHOW client_encoding` prints it) to
    /// an encoding; `Err` names what is not supported and why.
    pub fn from_pg_name(name: &str) -> Result<ClientEncoding, String> {
        use encoding_rs as e;
        let upper = name.to_ascii_uppercase();
        let (name, kind): (&'static str, Kind) = match upper.as_str() {
            "UTF8" | "UNICODE" => ("UTF8", Kind::Utf8),
            "SQL_ASCII" => ("SQL_ASCII", Kind::Utf8),
            "LATIN1" => ("LATIN1", Kind::Latin1),
            "LATIN2" => ("LATIN2", Kind::Table(e::ISO_8859_2)),
            "LATIN3" => ("LATIN3", Kind::Table(e::ISO_8859_3)),
            "LATIN4" => ("LATIN4", Kind::Table(e::ISO_8859_4)),
            "LATIN5" => ("LATIN5", Kind::C1Then(e::WINDOWS_1254)),
            "LATIN6" => ("LATIN6", Kind::Table(e::ISO_8859_10)),
            "LATIN7" => ("LATIN7", Kind::Table(e::ISO_8859_13)),
            "LATIN8" => ("LATIN8", Kind::Table(e::ISO_8859_14)),
            "LATIN9" => ("LATIN9", Kind::Table(e::ISO_8859_15)),
            "LATIN10" => ("LATIN10", Kind::Table(e::ISO_8859_16)),
            "ISO_8859_5" => ("ISO_8859_5", Kind::Table(e::ISO_8859_5)),
            "ISO_8859_6" => ("ISO_8859_6", Kind::Table(e::ISO_8859_6)),
            "ISO_8859_7" => ("ISO_8859_7", Kind::Table(e::ISO_8859_7)),
            "ISO_8859_8" => ("ISO_8859_8", Kind::Table(e::ISO_8859_8)),
            "WIN1250" => ("WIN1250", Kind::Table(e::WINDOWS_1250)),
            "WIN1251" => ("WIN1251", Kind::Table(e::WINDOWS_1251)),
            "WIN1252" => ("WIN1252", Kind::Table(e::WINDOWS_1252)),
            "WIN1253" => ("WIN1253", Kind::Table(e::WINDOWS_1253)),
            "WIN1254" => ("WIN1254", Kind::Table(e::WINDOWS_1254)),
            "WIN1255" => ("WIN1255", Kind::Table(e::WINDOWS_1255)),
            "WIN1256" => ("WIN1256", Kind::Table(e::WINDOWS_1256)),
            "WIN1257" => ("WIN1257", Kind::Table(e::WINDOWS_1257)),
            "WIN1258" => ("WIN1258", Kind::Table(e::WINDOWS_1258)),
            "WIN866" => ("WIN866", Kind::Table(e::IBM866)),
            "WIN874" => ("WIN874", Kind::Table(e::WINDOWS_874)),
            "KOI8R" => ("KOI8R", Kind::Table(e::KOI8_R)),
            "KOI8U" => ("KOI8U", Kind::Table(e::KOI8_U)),
            _ => {
                return Err(format!(
                    "client encoding {name} is not supported by uis (supported: UTF8, SQL_ASCII, LATIN1-LATIN10, ISO_8859_5-8, WIN866, WIN874, WIN1250-WIN1258, KOI8R, KOI8U)"
                ));
            }
        };
        Ok(ClientEncoding { name, kind })
    }

    pub fn is_utf8(&self) -> bool {
        self.kind == Kind::Utf8
    }

    /// The script's bytes as UTF-8 text; `None` when a byte has no
    /// character in this encoding (or, for UTF-8, the bytes are invalid).
    pub fn decode(&self, bytes: &[u8]) -> Option<String> {
        match self.kind {
            Kind::Utf8 => std::str::from_utf8(bytes).ok().map(str::to_owned),
            Kind::Latin1 => Some(bytes.iter().map(|&b| b as char).collect()),
            Kind::Table(rs) => {
                let s = table_decode(rs, bytes)?;
                // WHATWG's windows-* tables fill their holes with the C1
                // controls; PostgreSQL's (Unicode's CP125x) leave them
                // unmapped: an error there.
                let holes = self.name.starts_with("WIN") && self.name != "WIN866";
                if holes && s.chars().any(|c| ('\u{80}'..'\u{a0}').contains(&c)) {
                    return None;
                }
                Some(s)
            }
            Kind::C1Then(rs) => {
                let mut s = String::with_capacity(bytes.len());
                let mut from = 0;
                for (i, &b) in bytes.iter().enumerate() {
                    if (0x80..0xA0).contains(&b) {
                        s.push_str(&table_decode(rs, &bytes[from..i])?);
                        s.push(b as char);
                        from = i + 1;
                    }
                }
                s.push_str(&table_decode(rs, &bytes[from..])?);
                Some(s)
            }
        }
    }

    /// UTF-8 text (a variable's value) as bytes of this encoding, to lex it
    /// with the script's bytes; characters it lacks become `?`.
    pub fn encode(&self, text: &str) -> Vec<u8> {
        match self.kind {
            Kind::Utf8 => text.as_bytes().to_vec(),
            Kind::Latin1 => text
                .chars()
                .map(|c| if (c as u32) < 256 { c as u8 } else { b'?' })
                .collect(),
            Kind::Table(rs) | Kind::C1Then(rs) => {
                let mut out = Vec::with_capacity(text.len());
                for c in text.chars() {
                    let mut b = [0u8; 4];
                    let s = c.encode_utf8(&mut b);
                    match (self.kind, c as u32) {
                        (Kind::C1Then(_), 0x80..0xA0) => out.push(c as u32 as u8),
                        _ => {
                            let (bytes, _, bad) = rs.encode(s);
                            if bad {
                                out.push(b'?')
                            } else {
                                out.extend_from_slice(&bytes)
                            }
                        }
                    }
                }
                out
            }
        }
    }
}

fn table_decode(rs: &'static Rs, bytes: &[u8]) -> Option<String> {
    rs.decode_without_bom_handling_and_without_replacement(bytes)
        .map(|c| c.into_owned())
}

/// Decode `bytes` segment by segment (`map`: byte offset in `bytes`, any
/// value), returning the text and the map with offsets moved to the text.
/// Exact for the single-byte encodings (no state crosses a boundary).
pub(crate) fn decode_mapped<T: Copy>(
    enc: ClientEncoding,
    bytes: &[u8],
    map: &[(usize, T)],
) -> Option<(String, Vec<(usize, T)>)> {
    if enc.is_utf8() {
        let text = std::str::from_utf8(bytes).ok()?.to_owned();
        return Some((text, map.to_vec()));
    }
    let mut text = String::with_capacity(bytes.len() + bytes.len() / 8);
    let mut out = Vec::with_capacity(map.len());
    let mut from = 0;
    for &(at, v) in map {
        let at = at.min(bytes.len());
        if at > from {
            text.push_str(&enc.decode(&bytes[from..at])?);
            from = at;
        }
        out.push((text.len(), v));
    }
    text.push_str(&enc.decode(&bytes[from..])?);
    Some((text, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin_encodings_decode_as_postgresql_does() {
        let l1 = ClientEncoding::from_pg_name("LATIN1").unwrap();
        assert_eq!(l1.decode(b"caf\xe9 \x85").unwrap(), "café \u{85}");
        let l9 = ClientEncoding::from_pg_name("latin9").unwrap();
        assert_eq!(l9.decode(b"\xa4").unwrap(), "€");
        let l5 = ClientEncoding::from_pg_name("LATIN5").unwrap();
        assert_eq!(l5.decode(b"\x80\xfd").unwrap(), "\u{80}ı");
        let w = ClientEncoding::from_pg_name("WIN1252").unwrap();
        assert_eq!(w.decode(b"\x80").unwrap(), "€");
        assert_eq!(w.decode(b"\x81"), None, "unmapped in CP1252");
        let l3 = ClientEncoding::from_pg_name("LATIN3").unwrap();
        assert_eq!(l3.decode(b"\xa5"), None, "unassigned in ISO 8859-3");
        assert!(ClientEncoding::from_pg_name("SJIS").is_err());
        assert_eq!(ClientEncoding::UTF8.decode(b"\xe9"), None);
        assert_eq!(l1.encode("café€"), b"caf\xe9?");
        let (t, m) = decode_mapped(l1, b"a\xe9\nb\xe9", &[(0, 1), (3, 2)]).unwrap();
        assert_eq!((t.as_str(), m), ("aé\nbé", vec![(0, 1), (4, 2)]));
    }
}
