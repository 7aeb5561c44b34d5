//! The three raw files: checked against `SHA256SUMS`, decoded (one is Windows-1252), and read
//! into the few fields the derivation uses. Every bad value is reported by file, row and column.

use std::collections::BTreeMap;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::places::error::PlacesError;
use crate::places::provenance::{IMD, PAYMENTS, SOURCES, Source, WORKFORCE};
use crate::places::sheet::Sheet;

/// The payments file's PCN code for practices outside any PCN.
pub const NO_PCN: &str = "Unknown or no PCN";

/// The workforce role counted as a social prescribing link worker.
pub const LINK_WORKER_ROLE: &str = "Social Prescribing Link Worker";

/// The IMD edition used: Fingertips also holds 2010 and 2015 scores.
pub const IMD_YEAR: &str = "2019";

/// A practice row of the payments file.
pub struct PaymentsPractice {
    pub row: u64,
    pub region_code: String,
    /// The ICB name as the payments file spells it (upper case).
    pub icb_name: String,
    /// `(code, name)`, or `None` for [`NO_PCN`].
    pub pcn: Option<(String, String)>,
    pub code: String,
    pub name: String,
    pub closed: bool,
    pub rurality: String,
    pub patients: f64,
    pub weighted_patients: f64,
}

/// An ICB as the workforce file names it.
pub struct WorkforceIcb {
    pub code: String,
    pub name: String,
    pub region_code: String,
}

/// What the workforce file says, per PCN and in total.
#[derive(Default)]
pub struct WorkforceReturn {
    /// Link-worker FTE for every PCN with any row (0 when it reported no link worker).
    pub lw_fte: BTreeMap<String, f64>,
    pub lw_rows: u64,
    /// ICBs keyed by their name in lower case (the payments file spells them in upper case).
    pub icbs: BTreeMap<String, WorkforceIcb>,
    /// Region code → NHS England's short name ("London").
    pub regions: BTreeMap<String, String>,
}

/// The raw files, read.
pub struct Raw {
    pub practices: Vec<PaymentsPractice>,
    pub workforce: WorkforceReturn,
    /// Practice code → IMD 2019 score.
    pub imd: BTreeMap<String, f64>,
}

/// Reads the raw files from `dir` after checking each against `dir/SHA256SUMS` and against the
/// edition this derivation was written for.
pub fn read(dir: &Path) -> Result<Raw, PlacesError> {
    let sums = read_sums(dir)?;
    let [payments, workforce, imd] = SOURCES.map(|source| verified(dir, &sums, source));
    Ok(Raw {
        practices: read_payments(&Sheet::parse(PAYMENTS.file, &utf8(PAYMENTS, payments?)?)?)?,
        workforce: read_workforce(&Sheet::parse(WORKFORCE.file, &windows_1252(&workforce?))?)?,
        imd: read_imd(&Sheet::parse(IMD.file, &utf8(IMD, imd?)?)?)?,
    })
}

/// `SHA256SUMS`: file name → hex digest, from `sha256sum` lines (`HEX  NAME` or `HEX *NAME`).
fn read_sums(dir: &Path) -> Result<BTreeMap<String, String>, PlacesError> {
    let path = dir.join("SHA256SUMS");
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(&path)
        .map_err(|e| PlacesError::file(&shown, format!("cannot read: {e}")))?;
    let mut sums = BTreeMap::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let Some((hex, name)) = line.split_once(char::is_whitespace) else {
            return Err(PlacesError::file(
                &shown,
                format!("line {}: expected `SHA256  FILE`", i + 1),
            ));
        };
        let name = name.trim_start().trim_start_matches('*');
        sums.insert(name.to_string(), hex.to_ascii_lowercase());
    }
    Ok(sums)
}

/// The bytes of `source` in `dir`, if their SHA-256 is the one `SHA256SUMS` lists and the one
/// the derivation expects.
fn verified(
    dir: &Path,
    sums: &BTreeMap<String, String>,
    source: Source,
) -> Result<Vec<u8>, PlacesError> {
    let path = dir.join(source.file);
    let shown = path.display().to_string();
    let bytes =
        std::fs::read(&path).map_err(|e| PlacesError::file(&shown, format!("cannot read: {e}")))?;
    let actual = hex::encode(Sha256::digest(&bytes));
    let listed = sums.get(source.file).ok_or_else(|| {
        PlacesError::file(&shown, "not listed in SHA256SUMS, so it cannot be verified")
    })?;
    if &actual != listed {
        return Err(PlacesError::file(
            &shown,
            format!("SHA-256 is {actual}, but SHA256SUMS lists {listed}: the file is damaged"),
        ));
    }
    if actual != source.sha256 {
        return Err(PlacesError::file(
            &shown,
            format!(
                "SHA-256 is {actual}, not {} ({}): a different edition from the one this \
                 derivation was written and checked for",
                source.sha256, source.title
            ),
        ));
    }
    Ok(bytes)
}

fn utf8(source: Source, bytes: Vec<u8>) -> Result<String, PlacesError> {
    String::from_utf8(bytes).map_err(|e| {
        PlacesError::file(
            source.file,
            format!(
                "not UTF-8 (byte {}): this file is published in UTF-8",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

/// The workforce file is Windows-1252 (its dashes in `Clinical Director – Medical` are byte
/// 0x96); every byte decodes.
fn windows_1252(bytes: &[u8]) -> String {
    encoding_rs::WINDOWS_1252
        .decode_without_bom_handling(bytes)
        .0
        .into_owned()
}

fn read_payments(sheet: &Sheet) -> Result<Vec<PaymentsPractice>, PlacesError> {
    let region = sheet.column("NHS England (Region) code")?;
    let sub_icb_code = sheet.column("CCG Code")?;
    let sub_icb_name = sheet.column("Sub ICB NAME")?;
    // The PCN's code and name sit under these headers, despite their names.
    let pcn_code = sheet.column("Code")?;
    let pcn_name = sheet.column("CCG NAME")?;
    let code = sheet.column("Practice Code")?;
    let name = sheet.column("Practice Name")?;
    let close_date = sheet.column("Practice Close Date")?;
    let rurality = sheet.column("Practice Rurality")?;
    let patients = sheet.column("Number of Registered Patients (Last Known Figure)")?;
    let weighted = sheet.column("Number of Weighted Patients (Last Known Figure)")?;
    let mut practices = Vec::with_capacity(sheet.len());
    for row in sheet.rows() {
        // `NHS DEVON ICB - 15N`: the sub-ICB location is its ICB plus a code.
        let sub_icb = row.required(sub_icb_name)?;
        let suffix = format!(" - {}", row.text(sub_icb_code));
        let icb_name = sub_icb.strip_suffix(&suffix).ok_or_else(|| {
            row.error(
                sub_icb_name,
                format!("`{sub_icb}` does not end with `{suffix}`"),
            )
        })?;
        let pcn = match row.required(pcn_code)? {
            NO_PCN => None,
            pcn => Some((pcn.to_string(), row.required(pcn_name)?.to_string())),
        };
        practices.push(PaymentsPractice {
            row: row.number,
            region_code: row.required(region)?.to_string(),
            icb_name: icb_name.to_string(),
            pcn,
            code: row.required(code)?.to_string(),
            name: row.required(name)?.to_string(),
            closed: !row.text(close_date).is_empty(),
            rurality: row.required(rurality)?.to_string(),
            patients: row.non_negative(patients)?,
            weighted_patients: row.non_negative(weighted)?,
        });
    }
    Ok(practices)
}

fn read_workforce(sheet: &Sheet) -> Result<WorkforceReturn, PlacesError> {
    let pcn = sheet.column("PCN_CODE")?;
    let icb_code = sheet.column("ICB_CODE")?;
    let icb_name = sheet.column("ICB_NAME")?;
    let region_code = sheet.column("COMM_REGION_CODE")?;
    let region_name = sheet.column("COMM_REGION_NAME")?;
    let role = sheet.column("DETAILED_STAFF_ROLE")?;
    let fte = sheet.column("FTE")?;
    let mut found = WorkforceReturn::default();
    for row in sheet.rows() {
        let region = row.required(region_code)?;
        let short_name = row.required(region_name)?;
        let known = found
            .regions
            .entry(region.to_string())
            .or_insert_with(|| short_name.to_string());
        if known != short_name {
            return Err(row.error(
                region_name,
                format!("region {region} is `{known}` on an earlier row"),
            ));
        }
        let name = row.required(icb_name)?;
        let icb = found
            .icbs
            .entry(name.to_lowercase())
            .or_insert_with(|| WorkforceIcb {
                code: row.text(icb_code).to_string(),
                name: name.to_string(),
                region_code: region.to_string(),
            });
        if icb.code != row.required(icb_code)? || icb.region_code != region {
            return Err(row.error(
                icb_code,
                format!("ICB `{name}` has another code or region on an earlier row"),
            ));
        }
        let pcn_fte = found
            .lw_fte
            .entry(row.required(pcn)?.to_string())
            .or_insert(0.0);
        if row.text(role) == LINK_WORKER_ROLE {
            *pcn_fte += row.non_negative(fte)?;
            found.lw_rows += 1;
        }
    }
    Ok(found)
}

fn read_imd(sheet: &Sheet) -> Result<BTreeMap<String, f64>, PlacesError> {
    let year = sheet.column("Year")?;
    let code = sheet.column("AreaCode")?;
    let value = sheet.column("Value")?;
    let mut scores = BTreeMap::new();
    let mut rows = BTreeMap::new();
    for row in sheet.rows().filter(|r| r.text(year) == IMD_YEAR) {
        // A practice without a published value has no score: it is reported as unmatched.
        if row.text(value).is_empty() {
            continue;
        }
        let practice = row.required(code)?.to_string();
        if let Some(first) = rows.insert(practice.clone(), row.number) {
            return Err(row.error(
                code,
                format!("`{practice}` has a {IMD_YEAR} score on row {first} too"),
            ));
        }
        scores.insert(practice, row.non_negative(value)?);
    }
    Ok(scores)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_1252_dashes_decode() {
        assert_eq!(
            windows_1252(b"Clinical Director \x96 Medical"),
            "Clinical Director \u{2013} Medical"
        );
    }

    #[test]
    fn sha256sums_lines_read_in_either_mode() {
        let dir = std::env::temp_dir().join(format!("sprx-sums-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let written = std::fs::write(dir.join("SHA256SUMS"), "AB12  a.csv\ncd34 *b.csv\n\n");
        assert!(written.is_ok());
        let sums = read_sums(&dir);
        let _ = std::fs::remove_dir_all(&dir);
        let sums = sums.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(sums.get("a.csv").map(String::as_str), Some("ab12"));
        assert_eq!(sums.get("b.csv").map(String::as_str), Some("cd34"));
    }
}
