//! Value tables loaded once from the data files in `mappings/` (compiled into the binary).
//!
//! Each file is tab-separated `key<TAB>value[<TAB>more…]`; `#` starts a comment line. A
//! mapping change is a data change: edit the file, regenerate the goldens, review the diff.

use rustc_hash::FxHashMap;
use std::sync::OnceLock;

/// The tables in `mappings/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Table {
    /// FHIR `gender` → HL7 v3 administrative gender code.
    Gender,
    /// FHIR `HumanName.use` → HL7 v3 name `use`.
    NameUse,
    /// FHIR `Address.use` (and `type`) → HL7 v3 address `use`.
    AddressUse,
    /// FHIR `ContactPoint.use` → HL7 v3 telecom `use`.
    TelecomUse,
    /// FHIR course of therapy code → HL7 v3 prescription treatment type code.
    CourseOfTherapy,
    /// Prescriber professional code identifier systems, in the order they are tried.
    ProfessionalCodes,
    /// HL7 v3 administrative gender code → FHIR `gender` (HL7 v3 → FHIR).
    V3Gender,
    /// HL7 v3 name `use` → FHIR `HumanName.use`.
    V3NameUse,
    /// HL7 v3 address `use` → FHIR `Address.use`.
    V3AddressUse,
    /// HL7 v3 telecom `use` → FHIR `ContactPoint.use`.
    V3TelecomUse,
    /// SDS job role name code (`R8000`) → its display name.
    SdsJobRoleNames,
    /// Cancellation response code → status history code, display and outcome.
    CancellationResponseStatus,
    /// Spine application error code (`prescribe|0002`) → OperationOutcome issue.
    SpineErrorCodes,
}

impl Table {
    fn source(self) -> &'static str {
        match self {
            Table::Gender => include_str!("../../mappings/gender.tsv"),
            Table::NameUse => include_str!("../../mappings/name-use.tsv"),
            Table::AddressUse => include_str!("../../mappings/address-use.tsv"),
            Table::TelecomUse => include_str!("../../mappings/telecom-use.tsv"),
            Table::CourseOfTherapy => include_str!("../../mappings/course-of-therapy.tsv"),
            Table::ProfessionalCodes => include_str!("../../mappings/professional-codes.tsv"),
            Table::V3Gender => include_str!("../../mappings/v3-gender.tsv"),
            Table::V3NameUse => include_str!("../../mappings/v3-name-use.tsv"),
            Table::V3AddressUse => include_str!("../../mappings/v3-address-use.tsv"),
            Table::V3TelecomUse => include_str!("../../mappings/v3-telecom-use.tsv"),
            Table::SdsJobRoleNames => include_str!("../../mappings/sds-job-role-names.tsv"),
            Table::CancellationResponseStatus => {
                include_str!("../../mappings/cancellation-response-status.tsv")
            }
            Table::SpineErrorCodes => include_str!("../../mappings/spine-error-codes.tsv"),
        }
    }

    const ALL: [Table; 13] = [
        Table::Gender,
        Table::NameUse,
        Table::AddressUse,
        Table::TelecomUse,
        Table::CourseOfTherapy,
        Table::ProfessionalCodes,
        Table::V3Gender,
        Table::V3NameUse,
        Table::V3AddressUse,
        Table::V3TelecomUse,
        Table::SdsJobRoleNames,
        Table::CancellationResponseStatus,
        Table::SpineErrorCodes,
    ];
}

/// One loaded table: rows in file order and an index by key.
#[derive(Debug)]
pub struct Loaded {
    pub rows: Vec<Vec<&'static str>>,
    /// Keyed by the short ASCII codes of the files, which need no DoS-resistant hash.
    index: FxHashMap<&'static str, usize>,
}

impl Loaded {
    /// The row for a key (the key is column 0).
    pub fn row(&self, key: &str) -> Option<&[&'static str]> {
        self.index.get(key).map(|&i| self.rows[i].as_slice())
    }

    /// Column 1 for a key.
    pub fn get(&self, key: &str) -> Option<&'static str> {
        self.row(key).and_then(|r| r.get(1).copied())
    }
}

fn parse(source: &'static str) -> Loaded {
    let mut rows = Vec::new();
    let mut index = FxHashMap::default();
    for line in source.lines() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let row: Vec<&'static str> = line.split('\t').collect();
        index.entry(row[0]).or_insert(rows.len());
        rows.push(row);
    }
    Loaded { rows, index }
}

/// A table, loaded on first use.
pub fn table(t: Table) -> &'static Loaded {
    static TABLES: OnceLock<Vec<Loaded>> = OnceLock::new();
    // `Table::ALL` lists the tables in declaration order, so a table's discriminant is its
    // place (`tables_are_listed_in_declaration_order` checks it).
    let all = TABLES.get_or_init(|| Table::ALL.iter().map(|&t| parse(t.source())).collect());
    &all[t as usize]
}

/// Column 1 of a table for a key.
pub fn lookup(t: Table, key: &str) -> Option<&'static str> {
    table(t).get(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_listed_in_declaration_order() {
        for (i, t) in Table::ALL.iter().enumerate() {
            assert_eq!(*t as usize, i, "{t:?}");
            assert_eq!(table(*t).rows, parse(t.source()).rows, "{t:?}");
        }
    }

    #[test]
    fn every_table_loads_with_two_columns() {
        for t in Table::ALL {
            let loaded = table(t);
            assert!(!loaded.rows.is_empty(), "{t:?} is empty");
            for row in &loaded.rows {
                assert!(
                    row.len() >= 2,
                    "{t:?} row {row:?} has fewer than two columns"
                );
            }
        }
    }
}
