//! Windows: every fact through the API Windows itself uses (no PowerShell, no WMI process):
//! the registry, the SMBIOS table, IP Helper, WTS. Each read is thin and fills an `Inventory`;
//! `windows_parse` turns it into facts.

use std::ffi::c_void;
use std::ptr::{null, null_mut};

use bindery_shared::DeviceFacts;
use windows_sys::Win32::Foundation::{ERROR_BUFFER_OVERFLOW, ERROR_SUCCESS};
use windows_sys::Win32::NetworkManagement::IpHelper::{
    FreeMibTable, GAA_FLAG_SKIP_ANYCAST, GAA_FLAG_SKIP_DNS_SERVER, GAA_FLAG_SKIP_MULTICAST,
    GetAdaptersAddresses, GetIpForwardTable2, IP_ADAPTER_ADDRESSES_LH, MIB_IPFORWARD_TABLE2,
};
use windows_sys::Win32::Networking::WinSock::{AF_INET, SOCKADDR_IN};
use windows_sys::Win32::System::Registry::{
    HKEY_LOCAL_MACHINE, RRF_RT_REG_DWORD, RRF_RT_REG_SZ, RegGetValueW,
};
use windows_sys::Win32::System::RemoteDesktop::{
    WTS_CURRENT_SERVER_HANDLE, WTSDomainName, WTSFreeMemory, WTSGetActiveConsoleSessionId,
    WTSQuerySessionInformationW, WTSUserName,
};
use windows_sys::Win32::System::SystemInformation::{
    ComputerNamePhysicalDnsHostname, GetComputerNameExW, GetPhysicallyInstalledSystemMemory,
    GetSystemFirmwareTable, GlobalMemoryStatusEx, MEMORYSTATUSEX,
};

use super::windows_parse::{Inventory, facts_from_inventory};

const CURRENT_VERSION: &str = r"SOFTWARE\Microsoft\Windows NT\CurrentVersion";
const CPU_0: &str = r"HARDWARE\DESCRIPTION\System\CentralProcessor\0";

pub fn collect() -> DeviceFacts {
    facts_from_inventory(&inventory())
}

/// Every raw reading the facts come from (`facts --inventory` prints it, for samples).
pub fn inventory() -> Inventory {
    let smbios = bindery_shared::smbios::table_of_raw_smbios_data(&firmware_table())
        .map(bindery_shared::smbios::ids)
        .unwrap_or_default();
    let route = default_route();
    let (interface, mac, ip) = route
        .and_then(|(index, _)| default_route_adapter(index))
        .unwrap_or_default();
    Inventory {
        computer_name: computer_name(),
        product_name: registry_text(CURRENT_VERSION, "ProductName"),
        display_version: registry_text(CURRENT_VERSION, "DisplayVersion")
            .or_else(|| registry_text(CURRENT_VERSION, "ReleaseId")),
        current_build: registry_text(CURRENT_VERSION, "CurrentBuild"),
        ubr: registry_dword(CURRENT_VERSION, "UBR"),
        system_serial: smbios.system_serial,
        chassis_serial: smbios.chassis_serial,
        baseboard_serial: smbios.baseboard_serial,
        cpu_name: registry_text(CPU_0, "ProcessorNameString"),
        cpu_mhz: registry_dword(CPU_0, "~MHz"),
        memory_bytes: memory_bytes(),
        console_user: console_user(),
        interface,
        mac,
        ip,
        gateway: route
            .and_then(|(_, gateway)| gateway)
            .map(|g| g.to_string()),
        manufacturer: smbios.manufacturer,
        product: smbios.product,
        version: smbios.version,
        bios_version: smbios.bios_version,
        install_date: registry_dword(CURRENT_VERSION, "InstallDate"),
        volumes: super::disks::volumes().unwrap_or_default(),
    }
}

fn wide(s: &str) -> Vec<u16> {
    s.encode_utf16().chain(std::iter::once(0)).collect()
}

fn from_wide(buf: &[u16]) -> String {
    let end = buf.iter().position(|c| *c == 0).unwrap_or(buf.len());
    String::from_utf16_lossy(&buf[..end])
}

fn computer_name() -> Option<String> {
    let mut buf = [0u16; 256];
    let mut len = buf.len() as u32;
    // SAFETY: the buffer and its length in characters are passed together.
    let ok =
        unsafe { GetComputerNameExW(ComputerNamePhysicalDnsHostname, buf.as_mut_ptr(), &mut len) };
    (ok != 0).then(|| from_wide(&buf[..len as usize]))
}

fn registry_text(key: &str, value: &str) -> Option<String> {
    let (key, value) = (wide(key), wide(value));
    let mut buf = vec![0u16; 512];
    let mut bytes = (buf.len() * 2) as u32;
    // SAFETY: the buffer's size in bytes is passed with it; the type is restricted to REG_SZ.
    let status = unsafe {
        RegGetValueW(
            HKEY_LOCAL_MACHINE,
            key.as_ptr(),
            value.as_ptr(),
            RRF_RT_REG_SZ,
            null_mut(),
            buf.as_mut_ptr().cast::<c_void>(),
            &mut bytes,
        )
    };
    (status == ERROR_SUCCESS).then(|| from_wide(&buf))
}

fn registry_dword(key: &str, value: &str) -> Option<u32> {
    let (key, value) = (wide(key), wide(value));
    let mut out = 0u32;
    let mut bytes = 4u32;
    // SAFETY: a u32 and its size; the type is restricted to REG_DWORD.
    let status = unsafe {
        RegGetValueW(
            HKEY_LOCAL_MACHINE,
            key.as_ptr(),
            value.as_ptr(),
            RRF_RT_REG_DWORD,
            null_mut(),
            (&raw mut out).cast::<c_void>(),
            &mut bytes,
        )
    };
    (status == ERROR_SUCCESS).then_some(out)
}

/// The SMBIOS table as `RawSMBIOSData` (empty when there is none).
fn firmware_table() -> Vec<u8> {
    let rsmb = u32::from_be_bytes(*b"RSMB");
    // SAFETY: a null buffer of size 0 asks for the size.
    let size = unsafe { GetSystemFirmwareTable(rsmb, 0, null_mut(), 0) };
    if size == 0 {
        return Vec::new();
    }
    let mut buf = vec![0u8; size as usize];
    // SAFETY: the buffer holds `size` bytes.
    let got = unsafe { GetSystemFirmwareTable(rsmb, 0, buf.as_mut_ptr().cast(), size) };
    buf.truncate(got.min(size) as usize);
    buf
}

/// Installed RAM (what the firmware reports), else what Windows can use.
fn memory_bytes() -> Option<u64> {
    let mut kb = 0u64;
    // SAFETY: one u64 out-parameter.
    if unsafe { GetPhysicallyInstalledSystemMemory(&mut kb) } != 0 && kb > 0 {
        return Some(kb * 1024);
    }
    // SAFETY: the structure's length is set as the call requires.
    let mut status: MEMORYSTATUSEX = unsafe { std::mem::zeroed() };
    status.dwLength = std::mem::size_of::<MEMORYSTATUSEX>() as u32;
    (unsafe { GlobalMemoryStatusEx(&mut status) } != 0).then_some(status.ullTotalPhys)
}

/// `DOMAIN\user` at the physical console; none when nobody is signed in there.
fn console_user() -> Option<String> {
    // SAFETY: no arguments.
    let session = unsafe { WTSGetActiveConsoleSessionId() };
    if session == u32::MAX {
        return None;
    }
    let query = |class| {
        let mut buf: *mut u16 = null_mut();
        let mut bytes = 0u32;
        // SAFETY: WTS allocates the buffer; it is read as a NUL-terminated string of at most
        // `bytes` bytes and freed with WTSFreeMemory.
        unsafe {
            if WTSQuerySessionInformationW(
                WTS_CURRENT_SERVER_HANDLE,
                session,
                class,
                &mut buf,
                &mut bytes,
            ) == 0
                || buf.is_null()
            {
                return None;
            }
            let text = from_wide(std::slice::from_raw_parts(buf, bytes as usize / 2));
            WTSFreeMemory(buf.cast());
            Some(text.trim().to_owned()).filter(|t| !t.is_empty())
        }
    };
    let user = query(WTSUserName)?;
    Some(match query(WTSDomainName) {
        Some(domain) => format!("{domain}\\{user}"),
        None => user,
    })
}

/// The interface `index` (of the default route): its name, MAC and address.
fn default_route_adapter(index: u32) -> Option<(Option<String>, Option<String>, Option<String>)> {
    let flags = GAA_FLAG_SKIP_ANYCAST | GAA_FLAG_SKIP_MULTICAST | GAA_FLAG_SKIP_DNS_SERVER;
    let mut size = 16 * 1024u32;
    for _ in 0..3 {
        // u64 words keep the list's structures aligned.
        let mut buf = vec![0u64; (size as usize).div_ceil(8)];
        let list = buf.as_mut_ptr().cast::<IP_ADAPTER_ADDRESSES_LH>();
        // SAFETY: the buffer holds `size` bytes; on overflow `size` is the size needed.
        let status =
            unsafe { GetAdaptersAddresses(u32::from(AF_INET), flags, null(), list, &mut size) };
        if status == ERROR_BUFFER_OVERFLOW {
            continue;
        }
        if status != ERROR_SUCCESS {
            return None;
        }
        let mut at = list.cast_const();
        while !at.is_null() {
            // SAFETY: `at` walks the list GetAdaptersAddresses wrote into `buf`.
            let a = unsafe { &*at };
            // SAFETY: the union's IfIndex is valid for every entry.
            if unsafe { a.Anonymous1.Anonymous.IfIndex } == index {
                let len = (a.PhysicalAddressLength as usize).min(a.PhysicalAddress.len());
                let mac = (len > 0).then(|| {
                    a.PhysicalAddress[..len]
                        .iter()
                        .map(|b| format!("{b:02X}"))
                        .collect::<Vec<_>>()
                        .join(":")
                });
                // SAFETY: FriendlyName is a NUL-terminated wide string owned by the list.
                let name = (!a.FriendlyName.is_null()).then(|| unsafe {
                    let mut n = 0;
                    while *a.FriendlyName.add(n) != 0 {
                        n += 1;
                    }
                    from_wide(std::slice::from_raw_parts(a.FriendlyName, n))
                });
                return Some((name, mac, first_ipv4(a)));
            }
            at = a.Next;
        }
        return None;
    }
    None
}

fn first_ipv4(a: &IP_ADAPTER_ADDRESSES_LH) -> Option<String> {
    let mut u = a.FirstUnicastAddress;
    while !u.is_null() {
        // SAFETY: the unicast list belongs to the adapter entry.
        let addr = unsafe { &*u };
        let sa = addr.Address.lpSockaddr;
        // SAFETY: an AF_INET socket address is a SOCKADDR_IN.
        if !sa.is_null() && unsafe { (*sa).sa_family } == AF_INET {
            let v4 = unsafe { &*sa.cast::<SOCKADDR_IN>() };
            // SAFETY: S_addr is the union's plain u32 view.
            let raw = unsafe { v4.sin_addr.S_un.S_addr };
            return Some(std::net::Ipv4Addr::from(u32::from_be(raw)).to_string());
        }
        u = addr.Next;
    }
    None
}

/// The interface index and the next hop (none when on-link) of the IPv4 default route with the
/// lowest route metric.
fn default_route() -> Option<(u32, Option<std::net::Ipv4Addr>)> {
    let mut table: *mut MIB_IPFORWARD_TABLE2 = null_mut();
    // SAFETY: the table is allocated by the call and freed with FreeMibTable below.
    if unsafe { GetIpForwardTable2(AF_INET, &mut table) } != ERROR_SUCCESS || table.is_null() {
        return None;
    }
    // SAFETY: NumEntries rows follow the header, as the call wrote them.
    let best = unsafe {
        let rows =
            std::slice::from_raw_parts((*table).Table.as_ptr(), (*table).NumEntries as usize);
        rows.iter()
            .filter(|r| r.DestinationPrefix.PrefixLength == 0)
            .min_by_key(|r| r.Metric)
            .map(|r| {
                // SAFETY: an IPv4 route's next hop is a SOCKADDR_IN; S_addr is its u32 view.
                let raw = r.NextHop.Ipv4.sin_addr.S_un.S_addr;
                let hop = std::net::Ipv4Addr::from(u32::from_be(raw));
                (r.InterfaceIndex, (!hop.is_unspecified()).then_some(hop))
            })
    };
    // SAFETY: the table came from GetIpForwardTable2.
    unsafe { FreeMibTable(table.cast()) };
    best
}
