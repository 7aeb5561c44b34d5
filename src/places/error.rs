//! Errors in places data: every one names the file, and where it can the row and column, so
//! that a user with a broken or different file knows exactly where to look.

/// A problem with a places file (the committed tables or the raw NHS files).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum PlacesError {
    /// A bad value. Rows are numbered as in a spreadsheet: the header is row 1.
    #[error("{file}, row {row}, column `{column}`: {message}")]
    Cell {
        file: String,
        row: u64,
        column: String,
        message: String,
    },
    /// A problem with a whole row, such as its number of fields.
    #[error("{file}, row {row}: {message}")]
    Row {
        file: String,
        row: u64,
        message: String,
    },
    /// A problem with a whole file: missing, unreadable, wrong checksum, missing column.
    #[error("{file}: {message}")]
    File { file: String, message: String },
}

impl PlacesError {
    pub fn cell(file: &str, row: u64, column: &str, message: impl Into<String>) -> Self {
        PlacesError::Cell {
            file: file.to_string(),
            row,
            column: column.to_string(),
            message: message.into(),
        }
    }

    pub fn row(file: &str, row: u64, message: impl Into<String>) -> Self {
        PlacesError::Row {
            file: file.to_string(),
            row,
            message: message.into(),
        }
    }

    pub fn file(file: &str, message: impl Into<String>) -> Self {
        PlacesError::File {
            file: file.to_string(),
            message: message.into(),
        }
    }
}
