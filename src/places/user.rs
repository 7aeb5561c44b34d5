//! A user's own places table (`[population] source = "my_pcns.csv"`): one CSV file, one row per
//! practice, under the column names of the committed tables, so that an analyst can start from
//! England's rows. Only `pcn_code` and `patients` are required. The columns describing a PCN may
//! be given on every row of the PCN or on one, and must agree; left out, a PCN has no ICB or
//! region (a placeholder, [`NO_NAME`]) and unknown link-worker FTE.
//!
//! The file is checked whole, and every mistake in it is reported at once by file, row (the
//! header is row 1) and column. IMD scores are ranked against England's practices
//! ([`Places::with_deprivation`]): MODEL.md's quintiles are national, and a handful of practices
//! cannot say where England's fifths fall. `docs/places.md` describes the format.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Display;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::error::PlacesError;
use super::sheet::{Column, Row, Sheet};
use super::{Icb, Pcn, Places, Practice, Region, Rurality};
use crate::params::nearest_name;

/// Every column a user's table may have, in the order `docs/places.md` lists them.
pub const USER_COLUMNS: [&str; 13] = [
    "practice_code",
    "practice_name",
    "pcn_code",
    "pcn_name",
    "icb_code",
    "icb_name",
    "region_code",
    "region",
    "patients",
    "weighted_patients",
    "rurality",
    "imd_2019",
    "lw_fte",
];

/// The columns a user's table must have.
pub const REQUIRED_COLUMNS: [&str; 2] = ["pcn_code", "patients"];

/// The name of the ICB and region standing in for those a table leaves out (their code is
/// empty), so that every PCN has an ICB and a region as the engine's outputs expect.
pub const NO_NAME: &str = "(none)";

/// The most registered patients a practice may have: the limit of synthetic practices, which
/// also catches a slipped digit before a run of hours.
pub const MAX_PATIENTS: f64 = 1_000_000.0;

/// A user's table read whole, with the SHA-256 of its bytes, so that a run names exactly the
/// table it ran.
#[derive(Clone, Debug, PartialEq)]
pub struct UserTable {
    pub places: Places,
    /// SHA-256 of the file's bytes, lowercase hex.
    pub sha256: String,
}

/// Reads the table at `path` (named in errors as given), placing its practices in `england`.
pub fn load(path: &Path, england: &Places) -> Result<UserTable, Vec<PlacesError>> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| {
        let hint = match e.kind() {
            std::io::ErrorKind::NotFound => " (its path is relative to the scenario file)",
            _ => "",
        };
        vec![PlacesError::file(
            &name,
            format!("cannot read the places table: {e}{hint}"),
        )]
    })?;
    let places = parse(&name, &bytes, england)?;
    Ok(UserTable {
        places,
        sha256: hex::encode(Sha256::digest(&bytes)),
    })
}

/// Parses a user's table (`name` names it in errors). `england` gives the national
/// deprivation model and the national link-worker rate; every mistake found is returned.
pub fn parse(name: &str, bytes: &[u8], england: &Places) -> Result<Places, Vec<PlacesError>> {
    let text = utf8(name, bytes).map_err(|e| vec![e])?;
    if text.trim_start_matches('\u{feff}').trim().is_empty() {
        return Err(vec![PlacesError::file(
            name,
            "is empty: expected a header row, then one row per practice",
        )]);
    }
    let sheet = Sheet::parse_flexible(name, text).map_err(|e| vec![e])?;
    let mut errors = check_header(&sheet);
    let columns = Columns::find(&sheet);
    let rows: Vec<PracticeRow> = sheet
        .rows()
        .filter(|row| !row.is_blank())
        .filter_map(|row| read_row(&row, &sheet, &columns, &mut errors))
        .collect();
    if sheet.rows().all(|row| row.is_blank()) {
        errors.push(PlacesError::file(
            name,
            "has no practice rows: expected one row per practice below the header",
        ));
    }
    let pcns = group_pcns(name, &rows, &mut errors);
    let icbs = group_icbs(name, &pcns, &mut errors);
    let region_names = group_regions(name, &pcns, &mut errors);
    check_unique_codes(name, &rows, &mut errors);
    if !errors.is_empty() {
        // In the order a user reads the file: whole-file problems, then by row (stable, so
        // a row's cells stay in column order).
        errors.sort_by_key(row_of);
        return Err(errors);
    }
    Ok(build(&rows, &pcns, &icbs, &region_names, england))
}

/// The row an error is at; 0 for the whole file.
fn row_of(error: &PlacesError) -> u64 {
    match error {
        PlacesError::Cell { row, .. } | PlacesError::Row { row, .. } => *row,
        PlacesError::File { .. } => 0,
    }
}

/// The text of a UTF-8 file; otherwise an error at the row of the first bad byte.
fn utf8<'b>(name: &str, bytes: &'b [u8]) -> Result<&'b str, PlacesError> {
    std::str::from_utf8(bytes).map_err(|e| {
        let at = e.valid_up_to();
        let row = bytes[..at].iter().filter(|&&b| b == b'\n').count() as u64 + 1;
        let byte = bytes.get(at).copied().unwrap_or(0);
        PlacesError::row(
            name,
            row,
            format!(
                "is not UTF-8 text (byte {} of the file is 0x{byte:02X}): save the table as \
                 \"CSV UTF-8\"",
                at + 1
            ),
        )
    })
}

/// Unknown, unnamed, repeated and missing columns, each at row 1.
fn check_header(sheet: &Sheet) -> Vec<PlacesError> {
    let name = &sheet.name;
    let mut errors = Vec::new();
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, header) in sheet.headers().iter().enumerate() {
        if header.is_empty() {
            errors.push(PlacesError::row(
                name,
                1,
                format!(
                    "column {} has no name: expected one of {}",
                    i + 1,
                    USER_COLUMNS.join(", ")
                ),
            ));
        } else if !USER_COLUMNS.contains(&header.as_str()) {
            let other_separator = [';', '\t'].into_iter().find(|&c| header.contains(c));
            let message = match (
                other_separator,
                nearest_name(header, USER_COLUMNS.iter().copied()),
            ) {
                // Spreadsheets in some locales save "CSV" separated by semicolons.
                (Some(separator), _) => format!(
                    "unknown column: the header looks separated by {separator:?}, but the \
                     table must be comma-separated"
                ),
                (None, Some(near)) => format!("unknown column, did you mean `{near}`?"),
                (None, None) => format!(
                    "unknown column: expected one of {}",
                    USER_COLUMNS.join(", ")
                ),
            };
            errors.push(PlacesError::cell(name, 1, header, message));
        } else if let Some(first) = seen.insert(header, i) {
            errors.push(PlacesError::cell(
                name,
                1,
                header,
                format!("is the header of columns {} and {}", first + 1, i + 1),
            ));
        }
    }
    for required in REQUIRED_COLUMNS {
        if !sheet.headers().iter().any(|h| h == required) {
            errors.push(PlacesError::cell(
                name,
                1,
                required,
                format!("missing from the header: {}", why_required(required)),
            ));
        }
    }
    errors
}

fn why_required(column: &str) -> &'static str {
    match column {
        "pcn_code" => "every practice belongs to a PCN, the unit sprx runs",
        _ => "every practice needs its registered patients",
    }
}

/// The columns of [`USER_COLUMNS`] found in the header; `None` where absent.
struct Columns<'s> {
    practice_code: Option<Column<'s>>,
    practice_name: Option<Column<'s>>,
    pcn_code: Option<Column<'s>>,
    pcn_name: Option<Column<'s>>,
    icb_code: Option<Column<'s>>,
    icb_name: Option<Column<'s>>,
    region_code: Option<Column<'s>>,
    region: Option<Column<'s>>,
    patients: Option<Column<'s>>,
    weighted_patients: Option<Column<'s>>,
    rurality: Option<Column<'s>>,
    imd_2019: Option<Column<'s>>,
    lw_fte: Option<Column<'s>>,
}

impl<'s> Columns<'s> {
    fn find(sheet: &'s Sheet) -> Columns<'s> {
        let [
            practice_code,
            practice_name,
            pcn_code,
            pcn_name,
            icb_code,
            icb_name,
            region_code,
            region,
            patients,
            weighted_patients,
            rurality,
            imd_2019,
            lw_fte,
        ] = USER_COLUMNS.map(|c| sheet.find_column(c));
        Columns {
            practice_code,
            practice_name,
            pcn_code,
            pcn_name,
            icb_code,
            icb_name,
            region_code,
            region,
            patients,
            weighted_patients,
            rurality,
            imd_2019,
            lw_fte,
        }
    }
}

/// One practice row, as far as its cells could be read (a bad cell is reported and read as
/// empty, so that the rest of the file is still checked).
struct PracticeRow {
    number: u64,
    code: Option<String>,
    name: Option<String>,
    pcn_code: String,
    pcn: PcnCells,
    patients: f64,
    weighted_patients: Option<f64>,
    rurality: Rurality,
    imd_2019: Option<f64>,
}

/// A row's cells describing its PCN; `None` where empty.
struct PcnCells {
    name: Option<String>,
    icb_code: Option<String>,
    icb_name: Option<String>,
    region_code: Option<String>,
    region: Option<String>,
    lw_fte: Option<f64>,
}

/// A cell's text, empty when its column is absent.
fn text<'r>(row: &'r Row, column: Option<Column>) -> &'r str {
    column.map_or("", |c| row.text(c))
}

/// A cell's text, `None` when empty or absent.
fn given(row: &Row, column: Option<Column>) -> Option<String> {
    Some(text(row, column))
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

/// Reads one row, adding its mistakes to `errors`; `None` for a row that cannot be placed in a
/// PCN (wrong number of fields, or no `pcn_code`).
fn read_row(
    row: &Row,
    sheet: &Sheet,
    columns: &Columns,
    errors: &mut Vec<PlacesError>,
) -> Option<PracticeRow> {
    let width = sheet.headers().len();
    if row.fields() != width {
        // Its cells cannot be matched to columns: which one is missing or extra is a guess.
        errors.push(PlacesError::row(
            &sheet.name,
            row.number,
            format!(
                "has {} fields, but the header has {width} columns",
                row.fields()
            ),
        ));
        return None;
    }
    let pcn_code = cell(row, columns.pcn_code, required_text, errors);
    let patients = cell(row, columns.patients, patients, errors);
    let weighted_patients = cell(
        row,
        columns.weighted_patients,
        |row, c| optional_amount(row, c, "the practice's weighted patients"),
        errors,
    );
    let rurality = cell(row, columns.rurality, rurality, errors);
    let imd_2019 = cell(
        row,
        columns.imd_2019,
        |row, c| optional_amount(row, c, "an IMD 2019 score"),
        errors,
    );
    let lw_fte = cell(
        row,
        columns.lw_fte,
        |row, c| optional_amount(row, c, "the PCN's link-worker FTE"),
        errors,
    );
    Some(PracticeRow {
        number: row.number,
        code: given(row, columns.practice_code),
        name: given(row, columns.practice_name),
        pcn_code: pcn_code?,
        pcn: PcnCells {
            name: given(row, columns.pcn_name),
            icb_code: given(row, columns.icb_code),
            icb_name: given(row, columns.icb_name),
            region_code: given(row, columns.region_code),
            region: given(row, columns.region),
            lw_fte: lw_fte.flatten(),
        },
        patients: patients.unwrap_or(0.0),
        weighted_patients: weighted_patients.flatten(),
        rurality: rurality.unwrap_or(Rurality::Urban),
        imd_2019: imd_2019.flatten(),
    })
}

/// The value `read` finds in `column` of `row`; `None` if the column is absent or the cell is
/// bad (which is reported).
fn cell<T>(
    row: &Row,
    column: Option<Column>,
    read: impl Fn(&Row, Column) -> Result<T, PlacesError>,
    errors: &mut Vec<PlacesError>,
) -> Option<T> {
    read(row, column?).map_err(|e| errors.push(e)).ok()
}

/// The PCN code, which every row needs.
fn required_text(row: &Row, column: Column) -> Result<String, PlacesError> {
    match row.text(column) {
        "" => Err(row.error(column, format!("is empty: {}", why_required("pcn_code")))),
        code => Ok(code.to_string()),
    }
}

/// Registered patients: a number from 1 to [`MAX_PATIENTS`].
fn patients(row: &Row, column: Column) -> Result<f64, PlacesError> {
    let text = row.text(column);
    if text.is_empty() {
        return Err(row.error(
            column,
            "is empty: every practice needs its registered patients",
        ));
    }
    let value = number(row, column, "the practice's registered patients, 1 or more")?;
    if value < 1.0 {
        return Err(row.error(
            column,
            format!(
                "{value} is less than 1: a practice needs at least one registered patient \
                 (leave out practices whose list is empty)"
            ),
        ));
    }
    if value > MAX_PATIENTS {
        return Err(row.error(
            column,
            format!("{value} is more than {MAX_PATIENTS} registered patients for one practice"),
        ));
    }
    Ok(value)
}

/// An optional number of 0 or more (`what` names it in errors); an empty cell is `None`,
/// unknown.
fn optional_amount(row: &Row, column: Column, what: &str) -> Result<Option<f64>, PlacesError> {
    if row.text(column).is_empty() {
        return Ok(None);
    }
    let expected = format!("{what}, 0 or more, or empty if unknown");
    number(row, column, &expected).map(Some)
}

/// A finite number of 0 or more; `expected` says what the cell should hold.
fn number(row: &Row, column: Column, expected: &str) -> Result<f64, PlacesError> {
    let text = row.text(column);
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        Ok(v) if v < 0.0 => {
            Err(row.error(column, format!("{text} is negative: expected {expected}")))
        }
        _ => Err(row.error(
            column,
            format!("`{text}` is not a number: expected {expected}"),
        )),
    }
}

/// `Urban` or `Rural` in any case; empty is `Urban`.
fn rurality(row: &Row, column: Column) -> Result<Rurality, PlacesError> {
    let text = row.text(column);
    if text.is_empty() || text.eq_ignore_ascii_case("urban") {
        Ok(Rurality::Urban)
    } else if text.eq_ignore_ascii_case("rural") {
        Ok(Rurality::Rural)
    } else {
        Err(row.error(
            column,
            format!("`{text}` is neither `Urban` nor `Rural` (empty means Urban)"),
        ))
    }
}

/// A value describing a PCN (or ICB), and the row it was first given on.
#[derive(Clone)]
struct Given<T> {
    value: T,
    row: u64,
}

/// A PCN as its rows describe it, the PCN-level values taken from whichever rows give them.
struct PcnDraft {
    code: String,
    /// Indices of its rows, in file order.
    rows: Vec<usize>,
    name: Option<Given<String>>,
    icb_code: Option<Given<String>>,
    icb_name: Option<Given<String>>,
    region_code: Option<Given<String>>,
    region: Option<Given<String>>,
    lw_fte: Option<Given<f64>>,
}

impl PcnDraft {
    fn new(code: &str) -> PcnDraft {
        PcnDraft {
            code: code.to_string(),
            rows: Vec::new(),
            name: None,
            icb_code: None,
            icb_name: None,
            region_code: None,
            region: None,
            lw_fte: None,
        }
    }

    /// The key of its ICB: the code, else the name; `None` for the placeholder ICB.
    fn icb_key(&self) -> Option<&str> {
        self.icb_code
            .as_ref()
            .or(self.icb_name.as_ref())
            .map(|g| g.value.as_str())
    }

    /// The key of its region: the code, else the name; `None` for the placeholder region.
    fn region_key(&self) -> Option<&str> {
        self.region_code
            .as_ref()
            .or(self.region.as_ref())
            .map(|g| g.value.as_str())
    }
}

/// Keeps the first value given for something described on several rows, and reports a later
/// row that gives another (`owner` says whose value it is, e.g. "PCN U1").
struct Agreement<'a> {
    file: &'a str,
    owner: String,
    errors: &'a mut Vec<PlacesError>,
}

impl Agreement<'_> {
    fn check<T: PartialEq + Display + Clone>(
        &mut self,
        kept: &mut Option<Given<T>>,
        value: Option<Given<T>>,
        column: &str,
    ) {
        let Some(value) = value else { return };
        match kept {
            None => *kept = Some(value),
            Some(first) if first.value != value.value => {
                self.errors.push(PlacesError::cell(
                    self.file,
                    value.row,
                    column,
                    format!(
                        "{}: `{}` here but `{}` on row {}: all its rows must give the same \
                         {column}, or leave it empty",
                        self.owner, value.value, first.value, first.row
                    ),
                ));
            }
            Some(_) => {}
        }
    }
}

/// The PCNs of the rows by code (sorted, as England's are), each with the values its rows
/// agree on; disagreements are reported.
fn group_pcns(file: &str, rows: &[PracticeRow], errors: &mut Vec<PlacesError>) -> Vec<PcnDraft> {
    let mut pcns: BTreeMap<&str, PcnDraft> = BTreeMap::new();
    let mut spellings: BTreeMap<String, (&str, u64)> = BTreeMap::new();
    for (i, row) in rows.iter().enumerate() {
        let code = row.pcn_code.as_str();
        check_spelling(file, row, &mut spellings, errors);
        let pcn = pcns.entry(code).or_insert_with(|| PcnDraft::new(code));
        pcn.rows.push(i);
        let at = |value: &Option<String>| {
            value.clone().map(|value| Given {
                value,
                row: row.number,
            })
        };
        let mut agreement = Agreement {
            file,
            owner: format!("PCN {code}"),
            errors,
        };
        agreement.check(&mut pcn.name, at(&row.pcn.name), "pcn_name");
        agreement.check(&mut pcn.icb_code, at(&row.pcn.icb_code), "icb_code");
        agreement.check(&mut pcn.icb_name, at(&row.pcn.icb_name), "icb_name");
        agreement.check(
            &mut pcn.region_code,
            at(&row.pcn.region_code),
            "region_code",
        );
        agreement.check(&mut pcn.region, at(&row.pcn.region), "region");
        let fte = row.pcn.lw_fte.map(|value| Given {
            value,
            row: row.number,
        });
        agreement.check(&mut pcn.lw_fte, fte, "lw_fte");
    }
    pcns.into_values().collect()
}

/// PCN codes name random streams without regard to case (`stream_label`), so two codes that
/// differ only in case would share draws: an error.
fn check_spelling<'r>(
    file: &str,
    row: &'r PracticeRow,
    spellings: &mut BTreeMap<String, (&'r str, u64)>,
    errors: &mut Vec<PlacesError>,
) {
    let code = row.pcn_code.as_str();
    let (first, first_row) = *spellings
        .entry(code.to_ascii_uppercase())
        .or_insert((code, row.number));
    if first != code {
        errors.push(PlacesError::cell(
            file,
            row.number,
            "pcn_code",
            format!(
                "`{code}` differs from `{first}` on row {first_row} only in case: PCN codes \
                 are compared without case, so write one PCN's code one way"
            ),
        ));
    }
}

/// An ICB's key: its code, else its name. PCNs naming no ICB share a placeholder ICB per
/// region (the second part, only then), so that leaving out ICBs keeps regions apart.
type IcbKey<'d> = (Option<&'d str>, Option<&'d str>);

fn icb_key(pcn: &PcnDraft) -> IcbKey<'_> {
    match pcn.icb_key() {
        Some(key) => (Some(key), None),
        None => (None, pcn.region_key()),
    }
}

/// An ICB as its PCNs describe it.
#[derive(Default)]
struct IcbDraft {
    code: Option<String>,
    name: Option<Given<String>>,
    region_code: Option<Given<String>>,
    region: Option<Given<String>>,
}

impl IcbDraft {
    fn region_key(&self) -> Option<&str> {
        self.region_code
            .as_ref()
            .or(self.region.as_ref())
            .map(|g| g.value.as_str())
    }
}

/// The ICBs the PCNs name, by key: an ICB named by several PCNs must have one name and one
/// region; disagreements are reported.
fn group_icbs<'d>(
    file: &str,
    pcns: &'d [PcnDraft],
    errors: &mut Vec<PlacesError>,
) -> BTreeMap<IcbKey<'d>, IcbDraft> {
    let mut icbs: BTreeMap<IcbKey, IcbDraft> = BTreeMap::new();
    for pcn in pcns {
        let key = icb_key(pcn);
        let icb = icbs.entry(key).or_insert_with(|| IcbDraft {
            code: pcn.icb_code.as_ref().map(|g| g.value.clone()),
            ..IcbDraft::default()
        });
        let owner = match key.0 {
            Some(key) => format!("ICB {key}"),
            None => format!("the PCNs without an ICB (PCN {})", pcn.code),
        };
        let mut agreement = Agreement {
            file,
            owner,
            errors,
        };
        agreement.check(&mut icb.name, pcn.icb_name.clone(), "icb_name");
        agreement.check(&mut icb.region_code, pcn.region_code.clone(), "region_code");
        agreement.check(&mut icb.region, pcn.region.clone(), "region");
    }
    icbs
}

/// Each region code's name, as the PCNs give it; one code with two names is reported.
fn group_regions<'d>(
    file: &str,
    pcns: &'d [PcnDraft],
    errors: &mut Vec<PlacesError>,
) -> BTreeMap<&'d str, Option<Given<String>>> {
    let mut names: BTreeMap<&str, Option<Given<String>>> = BTreeMap::new();
    for pcn in pcns {
        let Some(code) = pcn.region_code.as_ref() else {
            continue;
        };
        let mut agreement = Agreement {
            file,
            owner: format!("region {}", code.value),
            errors,
        };
        let kept = names.entry(code.value.as_str()).or_default();
        agreement.check(kept, pcn.region.clone(), "region");
    }
    names
}

/// Practice codes given must be unique.
fn check_unique_codes(file: &str, rows: &[PracticeRow], errors: &mut Vec<PlacesError>) {
    let mut seen: BTreeMap<&str, u64> = BTreeMap::new();
    for row in rows {
        let Some(code) = row.code.as_deref() else {
            continue;
        };
        if let Some(first) = seen.insert(code, row.number) {
            errors.push(PlacesError::cell(
                file,
                row.number,
                "practice_code",
                format!("`{code}` is also on row {first}: practice codes must be unique"),
            ));
            seen.insert(code, first);
        }
    }
}

/// The places of a table found free of mistakes. PCNs are in code order and practices in
/// practice-code order, as in England's table, so the same rows give the same run in any order.
fn build(
    rows: &[PracticeRow],
    drafts: &[PcnDraft],
    icb_drafts: &BTreeMap<IcbKey, IcbDraft>,
    region_names: &BTreeMap<&str, Option<Given<String>>>,
    england: &Places,
) -> Places {
    let (icbs, regions) = icbs_and_regions(icb_drafts, region_names);
    let icb_index: BTreeMap<&IcbKey, usize> =
        icb_drafts.keys().enumerate().map(|(i, k)| (k, i)).collect();
    let icb_of_pcn: Vec<usize> = drafts
        .iter()
        .map(|d| icb_index.get(&icb_key(d)).copied().unwrap_or_default())
        .collect();
    let pcns: Vec<Pcn> = drafts
        .iter()
        .zip(&icb_of_pcn)
        .map(|(draft, &icb)| Pcn {
            code: draft.code.clone(),
            name: draft
                .name
                .as_ref()
                .map_or_else(|| draft.code.clone(), |g| g.value.clone()),
            icb,
            lw_fte: draft.lw_fte.as_ref().map(|g| g.value),
            practices: Vec::new(),
        })
        .collect();
    let codes = practice_codes(rows, drafts);
    let mut practices: Vec<Practice> = drafts
        .iter()
        .enumerate()
        .flat_map(|(pcn, draft)| draft.rows.iter().map(move |&row| (pcn, row)))
        .map(|(pcn, i)| {
            let row = &rows[i];
            let code = codes[i].clone();
            Practice {
                name: row.name.clone().unwrap_or_else(|| code.clone()),
                code,
                pcn,
                icb: icb_of_pcn[pcn],
                patients: row.patients,
                weighted_patients: row.weighted_patients.unwrap_or(row.patients),
                rurality: row.rurality,
                imd_2019: row.imd_2019,
            }
        })
        .collect();
    practices.sort_by(|a, b| a.code.cmp(&b.code));
    Places::with_deprivation(
        practices,
        pcns,
        icbs,
        regions,
        england.deprivation().clone(),
    )
    .with_fallback_lw_fte_per_patient(england.lw_fte_per_patient())
}

/// Each row's practice code: its own, or `<pcn_code>-<n>` counting the PCN's rows without a
/// code from 1 (skipping any code a row already has).
fn practice_codes(rows: &[PracticeRow], drafts: &[PcnDraft]) -> Vec<String> {
    let taken: BTreeSet<&str> = rows.iter().filter_map(|r| r.code.as_deref()).collect();
    let mut codes: Vec<String> = rows
        .iter()
        .map(|r| r.code.clone().unwrap_or_default())
        .collect();
    for draft in drafts {
        let mut n = 0;
        for &i in &draft.rows {
            if rows[i].code.is_some() {
                continue;
            }
            codes[i] = loop {
                n += 1;
                let candidate = format!("{}-{n}", draft.code);
                if !taken.contains(candidate.as_str()) {
                    break candidate;
                }
            };
        }
    }
    codes
}

/// The ICBs in key order, and the regions they name in key order (the placeholder
/// [`NO_NAME`], with an empty code, for those naming none).
fn icbs_and_regions(
    icb_drafts: &BTreeMap<IcbKey, IcbDraft>,
    region_names: &BTreeMap<&str, Option<Given<String>>>,
) -> (Vec<Icb>, Vec<Region>) {
    let value = |g: &Option<Given<String>>| g.as_ref().map(|g| g.value.clone());
    let mut regions: BTreeMap<Option<&str>, Region> = BTreeMap::new();
    for draft in icb_drafts.values() {
        regions.entry(draft.region_key()).or_insert_with(|| {
            let code = value(&draft.region_code);
            let named = code
                .as_deref()
                .and_then(|c| region_names.get(c))
                .and_then(value);
            Region {
                name: value(&draft.region)
                    .or(named)
                    .or_else(|| code.clone())
                    .unwrap_or_else(|| NO_NAME.to_string()),
                code: code.unwrap_or_default(),
            }
        });
    }
    let region_index: BTreeMap<Option<&str>, usize> =
        regions.keys().enumerate().map(|(i, k)| (*k, i)).collect();
    let icbs = icb_drafts
        .values()
        .map(|draft| Icb {
            code: draft.code.clone().unwrap_or_default(),
            name: value(&draft.name)
                .or_else(|| draft.code.clone())
                .unwrap_or_else(|| NO_NAME.to_string()),
            region: region_index
                .get(&draft.region_key())
                .copied()
                .unwrap_or_default(),
        })
        .collect();
    (icbs, regions.into_values().collect())
}

#[cfg(test)]
mod tests;
