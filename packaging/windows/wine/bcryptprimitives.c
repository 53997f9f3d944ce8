/* Test-only, for running the Windows agent under Wine 8: Rust's std imports ProcessPrng from
 * bcryptprimitives.dll (Windows 10 and later), which Wine 8 lacks. This stand-in fills it with
 * RtlGenRandom (SystemFunction036), which Wine has. Built with mingw beside the exe by
 * scripts/wine-agent; never shipped, never used on Windows. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
