//! The committed places tables: their files and columns, and how they are read into [`Places`]
//! and written back. Writing is canonical (fixed column order, rows in table order, numbers in
//! Rust's shortest round-trip form, `\n` line ends), so a rebuild is byte-for-byte comparable.
//!
//! - `practices.csv`: one row per kept practice;
//! - `pcns.csv`: one row per PCN with a kept practice, with its link-worker FTE (empty =
//!   unknown);
//! - `icbs.csv`: one row per ICB with its region;
//! - `derivation.json`: what the raw files held and what was dropped.

use std::collections::BTreeMap;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::error::PlacesError;
use super::provenance::Derivation;
use super::sheet::{Row, Sheet};
use super::{Icb, Pcn, Places, Practice, Region, Rurality};

/// The files of the table, in the order their bytes enter [`TableFiles::sha256`].
pub const TABLE_FILES: [&str; 4] = ["practices.csv", "pcns.csv", "icbs.csv", "derivation.json"];

/// The file holding the tables' SHA-256, written beside them.
pub const SHA256_FILE: &str = "tables.sha256";

pub const PRACTICE_COLUMNS: [&str; 8] = [
    "practice_code",
    "practice_name",
    "pcn_code",
    "icb_code",
    "patients",
    "weighted_patients",
    "rurality",
    "imd_2019",
];
pub const PCN_COLUMNS: [&str; 4] = ["pcn_code", "pcn_name", "icb_code", "lw_fte"];
pub const ICB_COLUMNS: [&str; 4] = ["icb_code", "icb_name", "region_code", "region"];

/// The text of the four table files.
#[derive(Clone, Debug, PartialEq)]
pub struct TableFiles {
    pub practices: String,
    pub pcns: String,
    pub icbs: String,
    pub derivation: String,
}

impl TableFiles {
    /// The tables compiled into the binary.
    pub fn embedded() -> TableFiles {
        TableFiles {
            practices: include_str!("../../data/places/practices.csv").to_string(),
            pcns: include_str!("../../data/places/pcns.csv").to_string(),
            icbs: include_str!("../../data/places/icbs.csv").to_string(),
            derivation: super::provenance::DERIVATION_JSON.to_string(),
        }
    }

    /// `(file name, text)` in [`TABLE_FILES`] order.
    pub fn named(&self) -> [(&'static str, &str); 4] {
        [
            (TABLE_FILES[0], &self.practices),
            (TABLE_FILES[1], &self.pcns),
            (TABLE_FILES[2], &self.icbs),
            (TABLE_FILES[3], &self.derivation),
        ]
    }

    /// SHA-256 (hex) of the files concatenated in [`TABLE_FILES`] order: the data version.
    pub fn sha256(&self) -> String {
        let mut hasher = Sha256::new();
        for (_, text) in self.named() {
            hasher.update(text.as_bytes());
        }
        hex::encode(hasher.finalize())
    }

    /// Writes the files and [`SHA256_FILE`] into `dir` (created if needed).
    pub fn write_dir(&self, dir: &Path) -> Result<(), PlacesError> {
        let shown = dir.display().to_string();
        std::fs::create_dir_all(dir)
            .map_err(|e| PlacesError::file(&shown, format!("cannot create: {e}")))?;
        let sha = self.sha256();
        let files = self
            .named()
            .into_iter()
            .chain([(SHA256_FILE, sha.as_str())]);
        for (name, text) in files {
            let path = dir.join(name);
            std::fs::write(&path, text).map_err(|e| {
                PlacesError::file(&path.display().to_string(), format!("cannot write: {e}"))
            })?;
        }
        Ok(())
    }
}

/// Reads the tables into [`Places`], checking every cell and every link between tables.
pub fn read(files: &TableFiles) -> Result<Places, PlacesError> {
    let (icbs, regions) = read_icbs(&Sheet::parse("icbs.csv", &files.icbs)?)?;
    let icb_index = index_by_code(icbs.iter().map(|i| i.code.as_str()));
    let pcns = read_pcns(&Sheet::parse("pcns.csv", &files.pcns)?, &icb_index)?;
    let pcn_index = index_by_code(pcns.iter().map(|p| p.code.as_str()));
    let sheet = Sheet::parse("practices.csv", &files.practices)?;
    let practices = read_practices(&sheet, &pcn_index, &icb_index)?;
    let places = Places::new(practices, pcns, icbs, regions);
    if let Some(empty) = places.pcns.iter().find(|p| p.practices.is_empty()) {
        return Err(PlacesError::file(
            "pcns.csv",
            format!("PCN {} has no practice in practices.csv", empty.code),
        ));
    }
    Ok(places)
}

fn index_by_code<'a>(codes: impl Iterator<Item = &'a str>) -> BTreeMap<String, usize> {
    codes.enumerate().map(|(i, c)| (c.to_string(), i)).collect()
}

/// A code that must be new in its table.
fn unique_code(
    row: &Row,
    column: super::sheet::Column,
    seen: &mut BTreeMap<String, u64>,
) -> Result<String, PlacesError> {
    let code = row.required(column)?.to_string();
    if let Some(first) = seen.insert(code.clone(), row.number) {
        return Err(row.error(column, format!("`{code}` is also on row {first}")));
    }
    Ok(code)
}

/// A code that must name a row of another table.
fn reference(
    row: &Row,
    column: super::sheet::Column,
    index: &BTreeMap<String, usize>,
    table: &str,
) -> Result<usize, PlacesError> {
    let code = row.required(column)?;
    index
        .get(code)
        .copied()
        .ok_or_else(|| row.error(column, format!("`{code}` is not in {table}")))
}

fn read_icbs(sheet: &Sheet) -> Result<(Vec<Icb>, Vec<Region>), PlacesError> {
    sheet.expect_headers(&ICB_COLUMNS)?;
    let [code, name, region_code, region_name] = ICB_COLUMNS.map(|c| sheet.column(c));
    let (code, name, region_code, region_name) = (code?, name?, region_code?, region_name?);
    let mut seen = BTreeMap::new();
    let mut regions: Vec<Region> = Vec::new();
    let mut icbs = Vec::new();
    for row in sheet.rows() {
        let rcode = row.required(region_code)?;
        let rname = row.required(region_name)?;
        let region = match regions.iter().position(|r| r.code == rcode) {
            Some(i) if regions[i].name != rname => {
                return Err(row.error(
                    region_name,
                    format!("region {rcode} is `{}` on an earlier row", regions[i].name),
                ));
            }
            Some(i) => i,
            None => {
                regions.push(Region {
                    code: rcode.to_string(),
                    name: rname.to_string(),
                });
                regions.len() - 1
            }
        };
        icbs.push(Icb {
            code: unique_code(&row, code, &mut seen)?,
            name: row.required(name)?.to_string(),
            region,
        });
    }
    Ok((icbs, regions))
}

fn read_pcns(sheet: &Sheet, icbs: &BTreeMap<String, usize>) -> Result<Vec<Pcn>, PlacesError> {
    sheet.expect_headers(&PCN_COLUMNS)?;
    let [code, name, icb, lw_fte] = PCN_COLUMNS.map(|c| sheet.column(c));
    let (code, name, icb, lw_fte) = (code?, name?, icb?, lw_fte?);
    let mut seen = BTreeMap::new();
    let mut pcns = Vec::with_capacity(sheet.len());
    for row in sheet.rows() {
        pcns.push(Pcn {
            code: unique_code(&row, code, &mut seen)?,
            name: row.required(name)?.to_string(),
            icb: reference(&row, icb, icbs, "icbs.csv")?,
            lw_fte: row.optional_non_negative(lw_fte)?,
            practices: Vec::new(),
        });
    }
    Ok(pcns)
}

fn read_practices(
    sheet: &Sheet,
    pcns: &BTreeMap<String, usize>,
    icbs: &BTreeMap<String, usize>,
) -> Result<Vec<Practice>, PlacesError> {
    sheet.expect_headers(&PRACTICE_COLUMNS)?;
    let columns = PRACTICE_COLUMNS.map(|c| sheet.column(c));
    let [code, name, pcn, icb, patients, weighted, rurality, imd] = columns;
    let (code, name, pcn, icb) = (code?, name?, pcn?, icb?);
    let (patients, weighted, rurality, imd) = (patients?, weighted?, rurality?, imd?);
    let mut seen = BTreeMap::new();
    let mut practices = Vec::with_capacity(sheet.len());
    for row in sheet.rows() {
        let rural_text = row.required(rurality)?;
        practices.push(Practice {
            code: unique_code(&row, code, &mut seen)?,
            name: row.required(name)?.to_string(),
            pcn: reference(&row, pcn, pcns, "pcns.csv")?,
            icb: reference(&row, icb, icbs, "icbs.csv")?,
            patients: row.non_negative(patients)?,
            weighted_patients: row.non_negative(weighted)?,
            rurality: Rurality::parse(rural_text).ok_or_else(|| {
                row.error(
                    rurality,
                    format!("`{rural_text}` is neither `Urban` nor `Rural`"),
                )
            })?,
            imd_2019: row.optional_non_negative(imd)?,
        });
    }
    Ok(practices)
}

/// The tables for `places`, with `derivation` as its facts, in canonical form.
pub fn write(places: &Places, derivation: &Derivation) -> Result<TableFiles, PlacesError> {
    let mut json = serde_json::to_string_pretty(derivation)
        .map_err(|e| PlacesError::file("derivation.json", e.to_string()))?;
    json.push('\n');
    Ok(TableFiles {
        practices: write_practices(places)?,
        pcns: write_pcns(places)?,
        icbs: write_icbs(places)?,
        derivation: json,
    })
}

/// An optional number: empty when absent.
fn optional(v: Option<f64>) -> String {
    v.map_or(String::new(), |v| v.to_string())
}

fn write_practices(places: &Places) -> Result<String, PlacesError> {
    let rows = places.practices.iter().map(|p| {
        vec![
            p.code.clone(),
            p.name.clone(),
            places.pcns[p.pcn].code.clone(),
            places.icbs[p.icb].code.clone(),
            p.patients.to_string(),
            p.weighted_patients.to_string(),
            p.rurality.as_str().to_string(),
            optional(p.imd_2019),
        ]
    });
    csv_text("practices.csv", &PRACTICE_COLUMNS, rows)
}

fn write_pcns(places: &Places) -> Result<String, PlacesError> {
    let rows = places.pcns.iter().map(|p| {
        vec![
            p.code.clone(),
            p.name.clone(),
            places.icbs[p.icb].code.clone(),
            optional(p.lw_fte),
        ]
    });
    csv_text("pcns.csv", &PCN_COLUMNS, rows)
}

fn write_icbs(places: &Places) -> Result<String, PlacesError> {
    let rows = places.icbs.iter().map(|i| {
        let region = &places.regions[i.region];
        vec![
            i.code.clone(),
            i.name.clone(),
            region.code.clone(),
            region.name.clone(),
        ]
    });
    csv_text("icbs.csv", &ICB_COLUMNS, rows)
}

fn csv_text(
    file: &str,
    header: &[&str],
    rows: impl Iterator<Item = Vec<String>>,
) -> Result<String, PlacesError> {
    let fail = |e: csv::Error| PlacesError::file(file, e.to_string());
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    writer.write_record(header).map_err(fail)?;
    for row in rows {
        writer.write_record(&row).map_err(fail)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| PlacesError::file(file, e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| PlacesError::file(file, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> TableFiles {
        TableFiles {
            practices: "practice_code,practice_name,pcn_code,icb_code,patients,weighted_patients,rurality,imd_2019\n\
                        A1,\"ONE, SURGERY\",U1,Q1,100.25,110.5,Urban,30.5\n\
                        A2,TWO,U1,Q1,50,40,Rural,\n"
                .to_string(),
            pcns: "pcn_code,pcn_name,icb_code,lw_fte\nU1,ONE PCN,Q1,\n".to_string(),
            icbs: "icb_code,icb_name,region_code,region\nQ1,NHS One ICB,Y1,London\n".to_string(),
            derivation: String::new(),
        }
    }

    #[test]
    fn tables_read_and_write_back_unchanged() {
        let files = tiny();
        let places = read(&files).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(places.practices.len(), 2);
        assert_eq!(places.pcns[0].practices, [0, 1]);
        assert_eq!(places.pcns[0].lw_fte, None);
        assert_eq!(places.practices[1].imd_2019, None);
        let derivation = Derivation::embedded().unwrap_or_else(|e| panic!("{e}"));
        let written = write(&places, &derivation).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(written.practices, files.practices);
        assert_eq!(written.pcns, files.pcns);
        assert_eq!(written.icbs, files.icbs);
    }

    #[test]
    fn a_bad_cell_is_reported_by_file_row_and_column() {
        let mut files = tiny();
        files.practices = files.practices.replace("Rural", "Rurl");
        let err = read(&files).err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("practices.csv, row 3, column `rurality`: `Rurl` is neither `Urban` nor `Rural`")
        );
        let mut files = tiny();
        files.practices = files.practices.replace(",U1,Q1,50", ",U9,Q1,50");
        let err = read(&files).err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("practices.csv, row 3, column `pcn_code`: `U9` is not in pcns.csv")
        );
    }

    #[test]
    fn the_embedded_tables_are_canonical_and_match_their_version() {
        let files = TableFiles::embedded();
        assert_eq!(files.sha256(), crate::places::TABLES_SHA256);
        let places = read(&files).unwrap_or_else(|e| panic!("{e}"));
        let derivation = Derivation::parse(&files.derivation).unwrap_or_else(|e| panic!("{e}"));
        let written = write(&places, &derivation).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            written == files,
            "the embedded tables are not in canonical form"
        );
    }
}
