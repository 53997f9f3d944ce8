//! The SMBIOS structure table, read the way firmware writes it: the table Windows returns from
//! `GetSystemFirmwareTable('RSMB')` (after its 8-byte header) and Linux exposes as
//! `/sys/firmware/dmi/tables/DMI`. Pure, so it is tested on recorded tables on any machine.
//!
//! Each structure is a header (type, length, handle), `length` bytes of fields, then its strings,
//! each NUL-terminated, the set ending in a second NUL. A field naming a string holds its 1-based
//! index (0: none). Type 127 ends the table.

/// What the agent reads from the table: the serial numbers of the system (type 1), its chassis
/// (type 3) and its baseboard (type 2), the system's maker and model, and the BIOS version (type 0).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SmbiosIds {
    pub system_serial: Option<String>,
    pub chassis_serial: Option<String>,
    pub baseboard_serial: Option<String>,
    pub manufacturer: Option<String>,
    pub product: Option<String>,
    /// The system's version string: Lenovo puts the model people know there.
    pub version: Option<String>,
    pub bios_version: Option<String>,
}

/// Windows' `RawSMBIOSData`: `Used20CallingMethod`, the major and minor version, the DMI
/// revision, then the table's length (u32, little-endian) and the table. `None` when the length
/// does not fit what was returned.
pub fn table_of_raw_smbios_data(raw: &[u8]) -> Option<&[u8]> {
    let length = u32::from_le_bytes(raw.get(4..8)?.try_into().ok()?) as usize;
    raw.get(8..8usize.checked_add(length)?)
}

/// One structure: its type, its formatted fields (header included) and its strings.
struct Structure<'a> {
    kind: u8,
    formatted: &'a [u8],
    strings: Vec<&'a [u8]>,
}

impl Structure<'_> {
    /// The string a field at `offset` names (trimmed; none when unset, blank or out of range).
    fn string(&self, offset: usize) -> Option<String> {
        let index = usize::from(*self.formatted.get(offset)?);
        let bytes = self.strings.get(index.checked_sub(1)?)?;
        let text = String::from_utf8_lossy(bytes).trim().to_owned();
        (!text.is_empty()).then_some(text)
    }
}

/// The structures of `table`, in order, up to the end-of-table structure or the first one that
/// does not fit (a truncated table yields what it holds).
fn structures(table: &[u8]) -> Vec<Structure<'_>> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while let (Some(&kind), Some(&length)) = (table.get(at), table.get(at + 1)) {
        let length = usize::from(length);
        if length < 4 {
            break;
        }
        let Some(formatted) = table.get(at..at + length) else {
            break;
        };
        // The string set runs to the first double NUL after the formatted area.
        let rest = &table[at + length..];
        let end = rest.windows(2).position(|w| w == [0, 0]);
        let (set, next) = match end {
            Some(e) => (&rest[..e], at + length + e + 2),
            None => (rest, table.len()),
        };
        let strings = if set.is_empty() {
            Vec::new()
        } else {
            set.split(|b| *b == 0).collect()
        };
        out.push(Structure {
            kind,
            formatted,
            strings,
        });
        if kind == 127 {
            break;
        }
        at = next;
    }
    out
}

/// The serials, maker and model `table` holds; the first structure of each type counts.
pub fn ids(table: &[u8]) -> SmbiosIds {
    let all = structures(table);
    let first = |kind: u8| all.iter().find(|s| s.kind == kind);
    let system = first(1);
    SmbiosIds {
        system_serial: system.and_then(|s| s.string(0x07)),
        manufacturer: system.and_then(|s| s.string(0x04)),
        product: system.and_then(|s| s.string(0x05)),
        version: system.and_then(|s| s.string(0x06)),
        baseboard_serial: first(2).and_then(|s| s.string(0x07)),
        chassis_serial: first(3).and_then(|s| s.string(0x07)),
        bios_version: first(0).and_then(|s| s.string(0x05)),
    }
}

/// The model people know a machine by, from SMBIOS (DMI on Linux): the product name, except on Lenovo, whose
/// product name is the machine type (`20KHCTO1WW`) and whose product version is the model
/// (`ThinkPad X1 Carbon 6th`).
pub fn model_name(
    vendor: Option<&str>,
    product_name: Option<&str>,
    product_version: Option<&str>,
) -> Option<String> {
    let usable = |v: Option<&str>| {
        v.map(str::trim)
            .filter(|v| !v.is_empty() && !crate::normalize::is_placeholder_text(v))
            .map(str::to_owned)
    };
    let lenovo = vendor.is_some_and(|v| v.trim().eq_ignore_ascii_case("LENOVO"));
    if lenovo && let Some(version) = usable(product_version) {
        return Some(version);
    }
    usable(product_name)
}
