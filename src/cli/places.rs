//! `sprx places`: England's regions, ICBs and PCNs from the embedded places table, so that a
//! user can find their PCN; `--summary` for totals and what could not be matched; the hidden
//! `sprx places build` re-derives the table from the raw NHS files.

use std::collections::BTreeSet;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use sprx::params::{QUINTILE_NAMES, nearest_name};
use sprx::places::derive::DROP_REASONS;
use sprx::places::stats::{self, Totals};
use sprx::places::{ATTRIBUTION, Derivation, Places, PlacesError, SOURCES, TABLES_SHA256};

use super::BadInput;

/// List England's regions, ICBs and PCNs (codes, patients, IMD, link-worker FTE) to find yours.
#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct PlacesArgs {
    #[command(subcommand)]
    command: Option<PlacesCommand>,
    /// Show only places whose code or name contains TEXT (any case): regions, ICBs, PCNs and
    /// practices (a practice shows its PCN).
    #[arg(long, value_name = "TEXT")]
    search: Option<String>,
    /// Only this ICB: its code (QHM), name, or name without "NHS" and "ICB".
    #[arg(long, value_name = "ICB")]
    icb: Option<String>,
    /// Only this NHS England region: its short name ("London") or code (Y56).
    #[arg(long, value_name = "REGION")]
    region: Option<String>,
    /// Totals for the selection and what the data could not match, instead of the list.
    #[arg(long)]
    summary: bool,
}

#[derive(Subcommand)]
enum PlacesCommand {
    /// Derive the places tables from the raw NHS files (checked against their SHA256SUMS).
    #[command(hide = true)]
    Build {
        /// The folder holding the three raw files and SHA256SUMS.
        #[arg(long, value_name = "DIR")]
        from: PathBuf,
        /// Where to write the tables (`data/places` in the repository).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

pub fn run(args: PlacesArgs) -> anyhow::Result<()> {
    if let Some(PlacesCommand::Build { from, out }) = args.command {
        return build(&from, &out);
    }
    let places = Places::england().map_err(|e| anyhow::anyhow!("the embedded table: {e}"))?;
    let selection = select(places, &args)?;
    let text = if args.summary {
        let derivation =
            Derivation::embedded().map_err(|e| anyhow::anyhow!("the embedded table: {e}"))?;
        summary(places, &derivation, &selection, filtered(&args))
    } else {
        listing(places, &selection)
    };
    super::print(&text)
}

fn build(from: &std::path::Path, out: &std::path::Path) -> anyhow::Result<()> {
    let bad = |e: PlacesError| BadInput(e.to_string());
    let files = sprx::places::derive::from_dir(from).map_err(bad)?;
    let places = sprx::places::table::read(&files).map_err(bad)?;
    files.write_dir(out).map_err(bad)?;
    super::print(&format!(
        "wrote {}: {} practices, {} PCNs, {} ICBs; tables SHA-256 {}\n",
        out.display(),
        places.practices.len(),
        places.pcns.len(),
        places.icbs.len(),
        files.sha256()
    ))
}

fn filtered(args: &PlacesArgs) -> bool {
    args.search.is_some() || args.icb.is_some() || args.region.is_some()
}

/// The PCNs a command line selects, and the practices its search found by their own code or
/// name (shown under their PCN).
struct Selection {
    pcns: Vec<usize>,
    practices: BTreeSet<usize>,
}

fn select(places: &Places, args: &PlacesArgs) -> Result<Selection, BadInput> {
    let region = args
        .region
        .as_deref()
        .map(|r| find_region(places, r))
        .transpose()?;
    let icb = args
        .icb
        .as_deref()
        .map(|i| find_icb(places, i))
        .transpose()?;
    let mut selection = Selection {
        pcns: Vec::new(),
        practices: BTreeSet::new(),
    };
    for (i, pcn) in places.pcns.iter().enumerate() {
        let pcn_icb = &places.icbs[pcn.icb];
        if region.is_some_and(|r| r != pcn_icb.region) || icb.is_some_and(|c| c != pcn.icb) {
            continue;
        }
        let Some(text) = args.search.as_deref() else {
            selection.pcns.push(i);
            continue;
        };
        let region = &places.regions[pcn_icb.region];
        let area_matches = [&region.code, &region.name, &pcn_icb.code, &pcn_icb.name]
            .into_iter()
            .chain([&pcn.code, &pcn.name])
            .any(|s| contains(s, text));
        let practices: Vec<usize> = pcn
            .practices
            .iter()
            .copied()
            .filter(|&p| {
                let practice = &places.practices[p];
                contains(&practice.code, text) || contains(&practice.name, text)
            })
            .collect();
        if area_matches || !practices.is_empty() {
            selection.pcns.push(i);
            if !area_matches {
                selection.practices.extend(practices);
            }
        }
    }
    if selection.pcns.is_empty() {
        return Err(nothing_found(places, args));
    }
    Ok(selection)
}

fn contains(haystack: &str, needle: &str) -> bool {
    haystack
        .to_lowercase()
        .contains(&needle.trim().to_lowercase())
}

/// Case-insensitive equality of a name or code.
fn same(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

/// An ICB's name without "NHS " and " ICB": "Devon".
fn short_icb_name(name: &str) -> &str {
    let name = name.strip_prefix("NHS ").unwrap_or(name);
    name.strip_suffix(" ICB").unwrap_or(name)
}

fn find_region(places: &Places, text: &str) -> Result<usize, BadInput> {
    if let Some(i) = places
        .regions
        .iter()
        .position(|r| same(&r.code, text) || same(&r.name, text))
    {
        return Ok(i);
    }
    let mut names: Vec<&str> = places.regions.iter().map(|r| r.name.as_str()).collect();
    names.sort();
    let suggestions = suggest(text, &names);
    Err(BadInput(format!(
        "no region is `{text}`.{} The regions are: {}",
        did_you_mean(&suggestions),
        names.join(", ")
    )))
}

fn find_icb(places: &Places, text: &str) -> Result<usize, BadInput> {
    if let Some(i) = places.icbs.iter().position(|icb| {
        same(&icb.code, text) || same(&icb.name, text) || same(short_icb_name(&icb.name), text)
    }) {
        return Ok(i);
    }
    let shorts: Vec<&str> = places
        .icbs
        .iter()
        .map(|i| short_icb_name(&i.name))
        .collect();
    let suggestions: Vec<String> = suggest(text, &shorts)
        .iter()
        .filter_map(|s| places.icbs.iter().find(|i| short_icb_name(&i.name) == s))
        .map(|i| format!("{} ({})", i.name, i.code))
        .collect();
    Err(BadInput(format!(
        "no ICB is `{text}`.{} `sprx places` lists every ICB.",
        did_you_mean(&suggestions)
    )))
}

fn nothing_found(places: &Places, args: &PlacesArgs) -> BadInput {
    let text = args.search.as_deref().unwrap_or_default();
    let mut names: Vec<&str> = places.pcns.iter().map(|p| p.name.as_str()).collect();
    names.extend(places.icbs.iter().map(|i| short_icb_name(&i.name)));
    names.extend(places.regions.iter().map(|r| r.name.as_str()));
    let suggestions = suggest_words(text, &names);
    let within = if args.icb.is_some() || args.region.is_some() {
        " in the ICB or region chosen"
    } else {
        ""
    };
    BadInput(format!(
        "no region, ICB, PCN or practice matches `{text}`{within}.{}",
        did_you_mean(&suggestions)
    ))
}

fn did_you_mean<S: AsRef<str>>(suggestions: &[S]) -> String {
    match suggestions {
        [] => String::new(),
        _ => {
            let list: Vec<&str> = suggestions.iter().map(AsRef::as_ref).collect();
            format!(" Did you mean {}?", list.join(", "))
        }
    }
}

/// Up to three candidates close to `text`: those containing it, then the nearest by edit
/// distance (any case).
fn suggest(text: &str, candidates: &[&str]) -> Vec<String> {
    let lower: Vec<String> = candidates.iter().map(|c| c.to_lowercase()).collect();
    let wanted = text.trim().to_lowercase();
    let mut found: Vec<String> = candidates
        .iter()
        .zip(&lower)
        .filter(|(_, l)| !wanted.is_empty() && l.contains(&wanted))
        .map(|(c, _)| c.to_string())
        .take(3)
        .collect();
    let mut left: Vec<&str> = lower.iter().map(String::as_str).collect();
    while found.len() < 3 {
        let Some(near) = nearest_name(&wanted, left.iter().copied()) else {
            break;
        };
        left.retain(|l| *l != near);
        if let Some(i) = lower.iter().position(|l| l == near) {
            let name = candidates[i].to_string();
            if !found.contains(&name) {
                found.push(name);
            }
        }
    }
    found
}

/// Like [`suggest`], but matching `text` against each word run of a candidate as long as
/// `text` (so that `barnsly` finds `BARNSLEY PCN`).
fn suggest_words(text: &str, candidates: &[&str]) -> Vec<String> {
    let wanted = text.trim().to_lowercase();
    let words = wanted.split_whitespace().count().max(1);
    let mut scored: Vec<(usize, &str)> = candidates
        .iter()
        .filter_map(|c| {
            let lower = c.to_lowercase();
            let tokens: Vec<&str> = lower.split_whitespace().collect();
            let runs: Vec<String> = if tokens.len() <= words {
                vec![tokens.join(" ")]
            } else {
                tokens.windows(words).map(|w| w.join(" ")).collect()
            };
            let run_refs: Vec<&str> = runs.iter().map(String::as_str).collect();
            let near = nearest_name(&wanted, run_refs.iter().copied())?;
            Some((strsim::damerau_levenshtein(&wanted, near), *c))
        })
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.1 == b.1);
    scored
        .into_iter()
        .take(3)
        .map(|(_, c)| c.to_string())
        .collect()
}

/// `61,341,137`: rounded to a whole number.
fn thousands(value: f64) -> String {
    thousands_text(&format!("{value:.0}"))
}

/// Separators in a whole number's digits (an optional leading `-`).
fn thousands_text(whole: &str) -> String {
    let (sign, digits) = match whole.strip_prefix('-') {
        Some(digits) => ("-", digits),
        None => ("", whole),
    };
    let mut out = String::from(sign);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `1 PCN`, `2 PCNs`.
fn count(n: usize, noun: &str) -> String {
    let plural = if n == 1 { "" } else { "s" };
    format!("{} {noun}{plural}", thousands(n as f64))
}

/// `2,042.1`: a number with `decimals` decimals and thousands separators.
fn decimal(value: f64, decimals: usize) -> String {
    let text = format!("{value:.decimals$}");
    match text.split_once('.') {
        Some((whole, fraction)) => format!("{}.{fraction}", thousands_text(whole)),
        None => thousands_text(&text),
    }
}

fn imd_text(totals: &Totals) -> String {
    totals
        .mean_imd
        .map_or("—".to_string(), |v| format!("{v:.1}"))
}

/// One line of the listing.
struct Line {
    indent: usize,
    code: String,
    name: String,
    pcns: String,
    practices: String,
    patients: String,
    imd: String,
    lw_fte: String,
    no_return: String,
}

impl Line {
    /// A region or ICB: totals over its PCNs.
    fn area(indent: usize, code: &str, name: &str, totals: &Totals) -> Line {
        Line {
            indent,
            code: code.to_string(),
            name: name.to_string(),
            pcns: thousands(totals.pcns as f64),
            practices: thousands(totals.practices as f64),
            patients: thousands(totals.patients),
            imd: imd_text(totals),
            lw_fte: decimal(totals.lw_fte_reported, 1),
            no_return: match totals.pcns_lw_unknown {
                0 => String::new(),
                n => n.to_string(),
            },
        }
    }

    fn pcn(places: &Places, index: usize) -> Line {
        let pcn = &places.pcns[index];
        let totals = stats::pcn(places, index);
        Line {
            indent: 4,
            code: pcn.code.clone(),
            name: pcn.name.clone(),
            pcns: String::new(),
            practices: totals.practices.to_string(),
            patients: thousands(totals.patients),
            imd: imd_text(&totals),
            lw_fte: pcn
                .lw_fte
                .map_or("unknown".to_string(), |f| format!("{f:.2}")),
            no_return: String::new(),
        }
    }

    fn practice(places: &Places, index: usize) -> Line {
        let p = &places.practices[index];
        Line {
            indent: 6,
            code: p.code.clone(),
            name: p.name.clone(),
            pcns: String::new(),
            practices: String::new(),
            patients: thousands(p.patients),
            imd: p.imd_2019.map_or("—".to_string(), |v| format!("{v:.1}")),
            lw_fte: String::new(),
            no_return: String::new(),
        }
    }
}

fn listing(places: &Places, selection: &Selection) -> String {
    let mut lines = Vec::new();
    // By name at every level, so that a reader can scan for their place.
    let in_icb = |icb: usize| -> Vec<usize> {
        let mut pcns: Vec<usize> = selection
            .pcns
            .iter()
            .copied()
            .filter(|&p| places.pcns[p].icb == icb)
            .collect();
        pcns.sort_by(|&a, &b| places.pcns[a].name.cmp(&places.pcns[b].name));
        pcns
    };
    let mut regions: Vec<usize> = (0..places.regions.len()).collect();
    regions.sort_by(|&a, &b| places.regions[a].name.cmp(&places.regions[b].name));
    for r in regions {
        let region = &places.regions[r];
        let mut icbs: Vec<usize> = (0..places.icbs.len())
            .filter(|&i| places.icbs[i].region == r && !in_icb(i).is_empty())
            .collect();
        icbs.sort_by(|&a, &b| places.icbs[a].name.cmp(&places.icbs[b].name));
        if icbs.is_empty() {
            continue;
        }
        let region_pcns = icbs.iter().flat_map(|&i| in_icb(i));
        let totals = stats::over(places, region_pcns);
        lines.push(Line::area(0, &region.code, &region.name, &totals));
        for icb in icbs {
            let pcns = in_icb(icb);
            let totals = stats::over(places, pcns.iter().copied());
            let entry = &places.icbs[icb];
            lines.push(Line::area(2, &entry.code, &entry.name, &totals));
            for pcn in pcns {
                lines.push(Line::pcn(places, pcn));
                for &practice in &places.pcns[pcn].practices {
                    if selection.practices.contains(&practice) {
                        lines.push(Line::practice(places, practice));
                    }
                }
            }
        }
    }
    let totals = stats::over(places, selection.pcns.iter().copied());
    let mut out = String::from(
        "# GP practices 2022/23 by NHS England region, ICB and PCN. IMD: IMD 2019 score, mean \
         over patients (higher = more deprived).\n\
         # LW FTE: social prescribing link-worker FTE as PCNs reported it, 30 Sept 2022; \
         \"unknown\" (and the `no return` count) = PCNs with no workforce return, not 0.\n",
    );
    out.push_str(&render(&lines));
    out.push_str(&format!(
        "\n{}, {}, {} registered patients. {ATTRIBUTION} `sprx places --summary` for sources \
         and what was left out.\n",
        count(totals.pcns, "PCN"),
        count(totals.practices, "practice"),
        thousands(totals.patients),
    ));
    out
}

fn render(lines: &[Line]) -> String {
    let header = Line {
        indent: 0,
        code: "code".into(),
        name: "name".into(),
        pcns: "PCNs".into(),
        practices: "practices".into(),
        patients: "patients".into(),
        imd: "IMD".into(),
        lw_fte: "LW FTE".into(),
        no_return: "no return".into(),
    };
    let all: Vec<&Line> = std::iter::once(&header).chain(lines).collect();
    let width = |f: &dyn Fn(&Line) -> usize| all.iter().map(|l| f(l)).max().unwrap_or(0);
    let code_w = width(&|l| l.indent + l.code.chars().count());
    let name_w = width(&|l| l.name.chars().count());
    let w = [
        width(&|l| l.pcns.len()),
        width(&|l| l.practices.len()),
        width(&|l| l.patients.len()),
        width(&|l| l.imd.chars().count()),
        width(&|l| l.lw_fte.len()),
        width(&|l| l.no_return.len()),
    ];
    let mut out = String::new();
    for l in all {
        let code = format!("{}{}", " ".repeat(l.indent), l.code);
        let row = format!(
            "{code:<code_w$}  {:<name_w$}  {:>w0$}  {:>w1$}  {:>w2$}  {:>w3$}  {:>w4$}  {:>w5$}",
            l.name,
            l.pcns,
            l.practices,
            l.patients,
            l.imd,
            l.lw_fte,
            l.no_return,
            w0 = w[0],
            w1 = w[1],
            w2 = w[2],
            w3 = w[3],
            w4 = w[4],
            w5 = w[5],
        );
        out.push_str(row.trim_end());
        out.push('\n');
    }
    out
}

/// `--summary`: the selection's totals, its modelled deprivation mix, what could not be
/// matched, and England's raw totals and drops.
fn summary(
    places: &Places,
    derivation: &Derivation,
    selection: &Selection,
    filtered: bool,
) -> String {
    let totals = stats::over(places, selection.pcns.iter().copied());
    let icbs: BTreeSet<usize> = selection.pcns.iter().map(|&p| places.pcns[p].icb).collect();
    let regions: BTreeSet<usize> = icbs.iter().map(|&i| places.icbs[i].region).collect();
    let scope = if filtered { "selection" } else { "England" };
    let mut out = format!(
        "Places table (data version {}): GP practices 2022/23 in PCNs\n\n",
        &TABLES_SHA256[..TABLES_SHA256.len().min(16)]
    );
    let row = |out: &mut String, label: &str, value: String| {
        out.push_str(&format!("  {label:<44} {value}\n"));
    };
    out.push_str(&format!("Kept ({scope})\n"));
    row(&mut out, "practices", thousands(totals.practices as f64));
    row(&mut out, "PCNs", thousands(totals.pcns as f64));
    row(&mut out, "ICBs", icbs.len().to_string());
    row(&mut out, "regions", regions.len().to_string());
    row(&mut out, "registered patients", thousands(totals.patients));
    row(
        &mut out,
        "weighted patients",
        thousands(totals.weighted_patients),
    );
    row(
        &mut out,
        "mean IMD 2019 score (patient-weighted)",
        imd_text(&totals),
    );
    row(
        &mut out,
        "link-worker FTE, PCN-reported, 30 Sept 2022",
        format!(
            "{} in the {} with a return",
            decimal(totals.lw_fte_reported, 1),
            count(totals.pcns - totals.pcns_lw_unknown, "PCN")
        ),
    );
    let zero = selection
        .pcns
        .iter()
        .filter(|&&p| places.pcns[p].lw_fte == Some(0.0))
        .count();
    row(
        &mut out,
        "PCNs reporting no link worker (0 FTE)",
        thousands(zero as f64),
    );
    row(
        &mut out,
        "patients by national IMD quintile (modelled)",
        quintile_mix(places, selection),
    );

    out.push_str(&format!("\nNot matched ({scope})\n"));
    row(
        &mut out,
        "practices without an IMD 2019 score",
        format!(
            "{} ({} patients; their PCN's mean score stands in)",
            thousands(totals.practices_without_imd as f64),
            thousands(totals.patients_without_imd)
        ),
    );
    row(
        &mut out,
        "PCNs without workforce data (FTE unknown)",
        format!(
            "{} of {} (unknown, not 0)",
            thousands(totals.pcns_lw_unknown as f64),
            thousands(totals.pcns as f64)
        ),
    );
    let no_score = selection
        .pcns
        .iter()
        .filter(|&&p| stats::pcn(places, p).mean_imd.is_none())
        .count();
    row(
        &mut out,
        "PCNs without any IMD 2019 score",
        format!("{no_score} (the national mix stands in)"),
    );
    out.push_str(&england_facts(derivation));
    out.push_str("\nSources (");
    out.push_str(ATTRIBUTION);
    out.push_str(")\n");
    for source in SOURCES {
        out.push_str(&format!(
            "  {}: {} ({})\n",
            source.publisher, source.title, source.file
        ));
    }
    out.push_str(
        "Link-worker FTE counts posts employed by or through the PCN; a service commissioned \
         from another provider is not in it.\n",
    );
    out
}

/// The raw files' totals and the derivation's drops: always for all England, since dropped
/// practices are not in the table.
fn england_facts(d: &Derivation) -> String {
    let mut out = String::new();
    let row = |out: &mut String, label: &str, value: String| {
        out.push_str(&format!("  {label:<44} {value}\n"));
    };
    let w = &d.workforce;
    out.push_str("\nNot matched (England, workforce file)\n");
    row(
        &mut out,
        "workforce PCNs not in the payments file",
        format!(
            "{} ({}; {} link-worker FTE left out)",
            w.pcns_not_in_payments.len(),
            w.pcns_not_in_payments.join(", "),
            decimal(w.lw_fte_not_in_payments, 1)
        ),
    );
    out.push_str("\nDropped practices (England; a practice may have several reasons)\n");
    for reason in &d.dropped.reasons {
        let label = DROP_REASONS
            .iter()
            .find(|(key, _)| *key == reason.reason)
            .map_or(reason.reason.as_str(), |(_, label)| label);
        row(
            &mut out,
            label,
            format!(
                "{} ({} patients)",
                thousands(reason.practices as f64),
                thousands(reason.registered_patients)
            ),
        );
    }
    row(
        &mut out,
        "dropped in all",
        format!(
            "{} ({} patients)",
            thousands(d.dropped.practices as f64),
            thousands(d.dropped.registered_patients)
        ),
    );
    row(
        &mut out,
        "PCNs left with no practice",
        format!("{} ({})", d.dropped.pcns.len(), d.dropped.pcns.join(", ")),
    );
    out.push_str("\nRaw files, before drops (England)\n");
    row(&mut out, "practices", thousands(d.raw.practices as f64));
    row(
        &mut out,
        "registered patients",
        thousands(d.raw.registered_patients),
    );
    row(
        &mut out,
        "PCNs",
        format!(
            "{} (+ {} practices in \"Unknown or no PCN\")",
            thousands(d.raw.pcns as f64),
            d.raw.practices_without_pcn
        ),
    );
    row(&mut out, "ICBs", d.raw.icbs.to_string());
    row(&mut out, "regions", d.raw.regions.to_string());
    row(
        &mut out,
        "PCNs with a workforce return",
        thousands(w.pcns as f64),
    );
    row(
        &mut out,
        "link workers (rows; FTE; PCNs with FTE > 0)",
        format!(
            "{}; {} FTE; {} PCNs",
            thousands(w.lw_rows as f64),
            decimal(w.lw_fte, 1),
            thousands(w.lw_pcns as f64)
        ),
    );
    out
}

/// The selection's patients by national quintile, under the deprivation-mix assumption.
fn quintile_mix(places: &Places, selection: &Selection) -> String {
    let mut shares = [0.0; QUINTILE_NAMES.len()];
    let mut patients = 0.0;
    for &pcn in &selection.pcns {
        for &p in &places.pcns[pcn].practices {
            let n = places.practices[p].patients;
            for (s, m) in shares.iter_mut().zip(places.practice_mix(p)) {
                *s += m * n;
            }
            patients += n;
        }
    }
    QUINTILE_NAMES
        .iter()
        .zip(shares)
        .map(|(q, s)| format!("{q} {:.1}%", 100.0 * s / patients.max(f64::MIN_POSITIVE)))
        .collect::<Vec<_>>()
        .join(", ")
}
