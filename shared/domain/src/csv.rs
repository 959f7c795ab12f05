//! The one CSV writer of the product (RFC 4180, CRLF line ends): every CSV the API answers is
//! written here, so that none can be opened in a spreadsheet as formulas (CSV injection).
//!
//! - Every text cell is quoted (quotes doubled), so that `,`, quotes and line breaks stay inside
//!   it for a reader that splits on `,`.
//! - A spreadsheet that splits on `;` (the list separator of many locales) or on tabs does not
//!   share that quoting: past the first cell of a row it is out of step with it, and starts a
//!   new cell after every `;` (or tab) and a new row after every line break *inside* a cell.
//!   So a cell is neutralised segment by segment: at its start and after each `;`, tab, CR and
//!   LF it holds, a `'` is put before a segment whose first character, after Unicode
//!   compatibility normalisation (NFKC: `＝` is `=`) and leading blanks and quotes (which
//!   spreadsheets drop), is `=`, `+`, `-`, `@`, a tab or a CR (OWASP's CSV injection list).
//!   `x;=HYPERLINK(..)` becomes `x;'=HYPERLINK(..)`, `＝1+1` becomes `'＝1+1`; the `'` makes
//!   spreadsheets read the rest as text, and nothing else of the text changes.
//! - Numbers the product computes (counts, scores) are integers written bare, so spreadsheets
//!   sum them. A negative one keeps its `-`: its text is only ever `-` and digits, made by the
//!   integer formatter, never text a user wrote, and a spreadsheet reads it as a number.
//!
//! The work is linear in the text: each character is normalised and looked at by at most one
//! segment's scan (a scan stops at the first character that is not blank, and every segment
//! boundary is such a character).

use unicode_normalization::UnicodeNormalization;

/// What makes a spreadsheet run a cell as a formula when it comes first (OWASP).
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Where some reader of the file starts a new cell or row inside a cell's text: `;` and tab
/// separators, and line breaks (seen as row ends by a reader out of step with the quoting).
const SEGMENT_BREAKS: [char; 4] = [';', '\t', '\r', '\n'];

/// Characters a spreadsheet drops before it looks for a formula: blanks (not the breaks, which
/// start segments of their own, nor tab and CR, which are formula starts) and quotes (a reader
/// out of step takes a quote at a cell's start as an opening quote).
fn skipped(c: char) -> bool {
    c == '"' || (c.is_whitespace() && !SEGMENT_BREAKS.contains(&c))
}

/// Whether a spreadsheet would read `segment`, as the start of a cell, as a formula.
fn starts_formula(segment: &str) -> bool {
    segment
        .nfkc()
        .find(|&c| !skipped(c))
        .is_some_and(|c| FORMULA_STARTS.contains(&c))
}

/// `text` as one quoted, neutralised cell (see the module's documentation).
fn push_text(out: &mut String, text: &str) {
    out.push('"');
    let mut rest = text;
    loop {
        if starts_formula(rest) {
            out.push('\'');
        }
        // Every break is one byte (ASCII), so `at + 1` is the next segment's start.
        let (segment, next) = match rest.find(SEGMENT_BREAKS) {
            Some(at) => (&rest[..=at], Some(&rest[at + 1..])),
            None => (rest, None),
        };
        for (i, part) in segment.split('"').enumerate() {
            if i > 0 {
                out.push_str("\"\"");
            }
            out.push_str(part);
        }
        match next {
            Some(next) => rest = next,
            None => break,
        }
    }
    out.push('"');
}

/// A CSV document, written row by row: `text`, `number` and `empty` add cells to the current
/// row, `end_row` closes it.
#[derive(Debug, Default)]
pub struct CsvWriter {
    out: String,
    /// Whether the current row has a cell (the next one is preceded by a comma).
    in_row: bool,
}

impl CsvWriter {
    pub fn new() -> Self {
        Self::default()
    }

    /// A writer whose buffer starts with room for `bytes`.
    pub fn with_capacity(bytes: usize) -> Self {
        CsvWriter {
            out: String::with_capacity(bytes),
            in_row: false,
        }
    }

    fn separate(&mut self) {
        if self.in_row {
            self.out.push(',');
        }
        self.in_row = true;
    }

    /// A text cell: quoted, and neutralised where a spreadsheet would see a formula.
    pub fn text(&mut self, text: &str) -> &mut Self {
        self.separate();
        push_text(&mut self.out, text);
        self
    }

    /// A text cell, or an empty one for `None`.
    pub fn optional_text(&mut self, text: Option<&str>) -> &mut Self {
        match text {
            Some(text) => self.text(text),
            None => self.empty(),
        }
    }

    /// A number cell, bare (see the module's documentation for negative numbers).
    pub fn number(&mut self, n: impl Into<i64>) -> &mut Self {
        self.separate();
        self.out.push_str(&n.into().to_string());
        self
    }

    /// A number cell, or an empty one for `None`.
    pub fn optional_number<N: Into<i64>>(&mut self, n: Option<N>) -> &mut Self {
        match n {
            Some(n) => self.number(n),
            None => self.empty(),
        }
    }

    /// A cell with nothing in it (a value that does not apply).
    pub fn empty(&mut self) -> &mut Self {
        self.separate();
        self
    }

    /// Ends the current row (CRLF, as RFC 4180 says).
    pub fn end_row(&mut self) -> &mut Self {
        self.out.push_str("\r\n");
        self.in_row = false;
        self
    }

    /// A whole row of text cells (a header row).
    pub fn text_row<'a>(&mut self, cells: impl IntoIterator<Item = &'a str>) -> &mut Self {
        for cell in cells {
            self.text(cell);
        }
        self.end_row()
    }

    /// The document.
    pub fn finish(self) -> String {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(text: &str) -> String {
        let mut w = CsvWriter::new();
        w.text(text);
        w.finish()
    }

    #[test]
    fn every_text_cell_is_quoted_with_quotes_doubled() {
        assert_eq!(cell("plain"), "\"plain\"");
        assert_eq!(cell(""), "\"\"");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("two\nlines"), "\"two\nlines\"");
        assert_eq!(cell("2026-01-02T03:04:05Z"), "\"2026-01-02T03:04:05Z\"");
    }

    #[test]
    fn a_formula_at_the_start_gets_a_quote_mark() {
        for (text, written) in [
            ("=1+1", "\"'=1+1\""),
            ("+1", "\"'+1\""),
            ("-2+3", "\"'-2+3\""),
            ("@SUM(A1:A2)", "\"'@SUM(A1:A2)\""),
            ("\t=1", "\"'\t'=1\""),
            ("\tx", "\"'\tx\""),
            ("\rx", "\"'\rx\""),
            (" =1", "\"' =1\""),
            ("\u{3000}=1", "\"'\u{3000}=1\""),
            ("\u{a0}@x", "\"'\u{a0}@x\""),
            ("\"=1\"", "\"'\"\"=1\"\"\""),
        ] {
            assert_eq!(cell(text), written, "{text:?}");
        }
    }

    #[test]
    fn compatibility_forms_are_normalised_before_the_check() {
        // Full-width and small forms of = + - @, and ⩵ (NFKC: "==").
        for (text, written) in [
            ("\u{ff1d}1+1", "\"'\u{ff1d}1+1\""),
            ("\u{ff0b}1", "\"'\u{ff0b}1\""),
            ("\u{ff0d}1", "\"'\u{ff0d}1\""),
            ("\u{ff20}SUM(1)", "\"'\u{ff20}SUM(1)\""),
            ("\u{fe66}1", "\"'\u{fe66}1\""),
            ("\u{2a75}1", "\"'\u{2a75}1\""),
            (" \u{ff1d}1", "\"' \u{ff1d}1\""),
        ] {
            assert_eq!(cell(text), written, "{text:?}");
        }
    }

    #[test]
    fn a_formula_after_a_semicolon_tab_or_line_break_gets_a_quote_mark() {
        for (text, written) in [
            (
                "x;=HYPERLINK(\"http://evil\",\"c\")",
                "\"x;'=HYPERLINK(\"\"http://evil\"\",\"\"c\"\")\"",
            ),
            ("a; =1", "\"a;' =1\""),
            ("a;\"=2", "\"a;'\"\"=2\""),
            ("a;\u{ff0b}1", "\"a;'\u{ff0b}1\""),
            ("line\n=1+1", "\"line\n'=1+1\""),
            ("line\r\n-1", "\"line\r\n'-1\""),
            ("a\t@x", "\"a\t'@x\""),
            ("a;;=1", "\"a;;'=1\""),
        ] {
            assert_eq!(cell(text), written, "{text:?}");
        }
    }

    #[test]
    fn text_that_is_no_formula_is_left_alone() {
        for text in [
            "x=1",
            "a, -b, +c, @d",
            "1-2",
            "Change Management",
            "'=already quoted",
            "a;b",
            "a;",
            "\u{200b}x",
            "ü=",
        ] {
            let written = cell(text);
            assert_eq!(
                written,
                format!("\"{}\"", text.replace('"', "\"\"")),
                "{text:?}"
            );
        }
    }

    #[test]
    fn numbers_are_bare_and_rows_end_with_crlf() {
        let mut w = CsvWriter::new();
        w.text_row(["name", "count"]);
        w.text("a")
            .number(3u32)
            .empty()
            .optional_number(None::<u32>);
        w.end_row();
        w.optional_text(None)
            .number(-4i64)
            .optional_text(Some("-4"));
        w.end_row();
        assert_eq!(
            w.finish(),
            "\"name\",\"count\"\r\n\"a\",3,,\r\n,-4,\"'-4\"\r\n"
        );
    }

    /// A reader as Python's `csv` module (the usual spreadsheet rules) reads a file with
    /// `delimiter`: quotes are special only at a cell's start, and a line break outside quotes
    /// ends the row.
    fn read(text: &str, delimiter: char) -> Vec<Vec<String>> {
        #[derive(PartialEq)]
        enum State {
            Start,
            Field,
            Quoted,
            QuoteInQuoted,
            Newline,
        }
        let (mut rows, mut row, mut field) = (Vec::new(), Vec::new(), String::new());
        let mut state = State::Start;
        for c in text.chars() {
            let newline = c == '\r' || c == '\n';
            match state {
                State::Newline if newline => {}
                State::Start | State::Newline if c == '"' => state = State::Quoted,
                State::Start | State::Newline | State::Field | State::QuoteInQuoted
                    if c == delimiter =>
                {
                    row.push(std::mem::take(&mut field));
                    state = State::Start;
                }
                State::Start | State::Field | State::QuoteInQuoted if newline => {
                    row.push(std::mem::take(&mut field));
                    rows.push(std::mem::take(&mut row));
                    state = State::Newline;
                }
                State::Quoted if c == '"' => state = State::QuoteInQuoted,
                State::Quoted => field.push(c),
                State::QuoteInQuoted if c == '"' => {
                    field.push('"');
                    state = State::Quoted;
                }
                _ => {
                    field.push(c);
                    state = State::Field;
                }
            }
        }
        if state != State::Newline && (state != State::Start || !row.is_empty()) {
            row.push(field);
            rows.push(row);
        }
        rows
    }

    fn formula(cell: &str) -> bool {
        cell.nfkc()
            .find(|&c| !(c.is_whitespace() || c == '"'))
            .is_some_and(|c| ['=', '+', '-', '@'].contains(&c))
    }

    #[test]
    fn the_reader_model_reads_as_python_does() {
        // The shapes of the product's rows as Python's csv module reads them with `;`.
        let line = "\"k\",\"x;=H(\"\"a\"\")\",1\r\n\"k\",\"l\n=1\"\r\n";
        assert_eq!(
            read(line, ','),
            [vec!["k", "x;=H(\"a\")", "1"], vec!["k", "l\n=1"]]
        );
        assert_eq!(
            read(line, ';'),
            [
                vec!["k,\"x", "=H(\"\"a\"\")\",1"],
                vec!["k,\"l"],
                vec!["=1\""]
            ]
        );
    }

    proptest::proptest! {
        /// Whatever the text, read with `,` each cell is the text (only `'` added), and read with
        /// `,`, `;` or a tab no cell is a formula.
        #[test]
        fn no_reader_sees_a_formula(
            cells in proptest::collection::vec(
                proptest::string::string_regex(
                    "[ab ;,\"\t\r\n=+@'\\-\u{ff1d}\u{ff0b}\u{3000}\u{a0}]{0,12}"
                ).unwrap(),
                1..5,
            )
        ) {
            let mut w = CsvWriter::new();
            w.text("first");
            for cell in &cells {
                w.text(cell).number(-1i64);
            }
            w.end_row();
            let text = w.finish();
            let rows = read(&text, ',');
            proptest::prop_assert_eq!(rows.len(), 1);
            proptest::prop_assert_eq!(rows[0].len(), 1 + 2 * cells.len());
            for (read, cell) in rows[0][1..].iter().step_by(2).zip(&cells) {
                proptest::prop_assert_eq!(read.replace('\'', ""), cell.replace('\'', ""));
                proptest::prop_assert!(!formula(read), "{read:?} in {text:?}");
            }
            for delimiter in [';', '\t'] {
                for row in read(&text, delimiter) {
                    for cell in row {
                        proptest::prop_assert!(!formula(&cell), "{delimiter:?} {cell:?} in {text:?}");
                    }
                }
            }
        }
    }
}
