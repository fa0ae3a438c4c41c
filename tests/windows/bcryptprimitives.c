/*
 * A stand-in for bcryptprimitives.dll, which Wine 8 lacks: Rust's standard library imports
 * ProcessPrng from it for its random numbers (HashMap keys). Built by the Windows tests and
 * placed beside the test programs only (Windows looks there first); never shipped, since every
 * Windows 10 and later has the real DLL.
 */
#include <windows.h>

/* RtlGenRandom, exported by advapi32 under this name. */
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk)) return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
