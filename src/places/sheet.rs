//! A CSV file read whole, with its columns looked up by header, so that every value read from
//! it can be reported by file, row and column when it is wrong.

use super::error::PlacesError;

/// A CSV file's header and records, under the name used in error messages.
pub struct Sheet {
    pub name: String,
    headers: Vec<String>,
    records: Vec<csv::StringRecord>,
}

/// A column found by its header.
#[derive(Clone, Copy)]
pub struct Column<'s> {
    index: usize,
    name: &'s str,
}

/// One record, numbered as in a spreadsheet (header = row 1).
pub struct Row<'s> {
    sheet: &'s Sheet,
    pub number: u64,
    record: &'s csv::StringRecord,
}

impl Sheet {
    /// Parses `text` (already decoded; a leading byte-order mark is ignored). A record whose
    /// number of fields differs from the header's is an error.
    pub fn parse(name: &str, text: &str) -> Result<Sheet, PlacesError> {
        Sheet::read(name, text, false)
    }

    /// [`Sheet::parse`], but records of any length are kept, so that a caller reporting every
    /// mistake at once can flag each such row ([`Row::fields`]) and go on with the others.
    pub fn parse_flexible(name: &str, text: &str) -> Result<Sheet, PlacesError> {
        Sheet::read(name, text, true)
    }

    fn read(name: &str, text: &str, flexible: bool) -> Result<Sheet, PlacesError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(flexible)
            .from_reader(text.as_bytes());
        let headers = reader
            .headers()
            .map_err(|e| PlacesError::file(name, format!("cannot read the header: {e}")))?
            .iter()
            .map(|h| h.trim().to_string())
            .collect();
        let mut records = Vec::new();
        for (i, record) in reader.records().enumerate() {
            let record = record
                .map_err(|e| PlacesError::file(name, format!("row {}: {e}", i as u64 + 2)))?;
            records.push(record);
        }
        Ok(Sheet {
            name: name.to_string(),
            headers,
            records,
        })
    }

    /// The column headed `header`, or an error naming the file and the missing column.
    pub fn column<'s>(&'s self, header: &'s str) -> Result<Column<'s>, PlacesError> {
        match self.headers.iter().position(|h| h == header) {
            Some(index) => Ok(Column {
                index,
                name: header,
            }),
            None => Err(PlacesError::file(
                &self.name,
                format!("no column `{header}` in the header"),
            )),
        }
    }

    /// The column headed `header`, if there is one.
    pub fn find_column<'s>(&'s self, header: &'s str) -> Option<Column<'s>> {
        self.column(header).ok()
    }

    /// The header's cells, trimmed, in file order.
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// Fails unless the header is exactly `expected`, in order (for the committed tables,
    /// whose layout is fixed).
    pub fn expect_headers(&self, expected: &[&str]) -> Result<(), PlacesError> {
        if self
            .headers
            .iter()
            .map(String::as_str)
            .eq(expected.iter().copied())
        {
            Ok(())
        } else {
            Err(PlacesError::file(
                &self.name,
                format!(
                    "the header must be `{}`, found `{}`",
                    expected.join(","),
                    self.headers.join(",")
                ),
            ))
        }
    }

    pub fn rows(&self) -> impl Iterator<Item = Row<'_>> {
        self.records.iter().enumerate().map(|(i, record)| Row {
            sheet: self,
            number: i as u64 + 2,
            record,
        })
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }
}

impl Row<'_> {
    /// The cell's text, trimmed; a short record reads as empty cells.
    pub fn text(&self, column: Column) -> &str {
        self.record.get(column.index).unwrap_or("").trim()
    }

    /// How many fields the record has (it may differ from the header's under
    /// [`Sheet::parse_flexible`]).
    pub fn fields(&self) -> usize {
        self.record.len()
    }

    /// Whether every cell is empty (a blank line of commas, as spreadsheets leave).
    pub fn is_blank(&self) -> bool {
        self.record.iter().all(|cell| cell.trim().is_empty())
    }

    /// An error at this row and `column`.
    pub fn error(&self, column: Column, message: impl Into<String>) -> PlacesError {
        PlacesError::cell(&self.sheet.name, self.number, column.name, message)
    }

    /// A cell that must not be empty.
    pub fn required(&self, column: Column) -> Result<&str, PlacesError> {
        match self.text(column) {
            "" => Err(self.error(column, "is empty")),
            text => Ok(text),
        }
    }

    /// A finite number.
    pub fn number(&self, column: Column) -> Result<f64, PlacesError> {
        let text = self.required(column)?;
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(v),
            _ => Err(self.error(column, format!("`{text}` is not a number"))),
        }
    }

    /// A finite number that is zero or more.
    pub fn non_negative(&self, column: Column) -> Result<f64, PlacesError> {
        let v = self.number(column)?;
        if v < 0.0 {
            return Err(self.error(column, format!("{v} is negative")));
        }
        Ok(v)
    }

    /// An optional non-negative number: an empty cell is `None`.
    pub fn optional_non_negative(&self, column: Column) -> Result<Option<f64>, PlacesError> {
        if self.text(column).is_empty() {
            return Ok(None);
        }
        self.non_negative(column).map(Some)
    }
}
