/*
 * bcryptprimitives.dll for Wine 8 (Debian 12), used only by
 * scripts/test-windows.sh; it is not shipped.
 *
 * Go 1.24 and later read random numbers with ProcessPrng from
 * bcryptprimitives.dll, which every Windows 10 and later has; Wine added the
 * DLL in version 9. The test installs this one into its throwaway
 * WINEPREFIX's system32 when Wine lacks it. ProcessPrng draws from the
 * system RNG through bcrypt's BCryptGenRandom, which Wine 8 has.
 */
#include <windows.h>
#include <bcrypt.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
	while (len > 0) {
		ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
		if (BCryptGenRandom(NULL, data, n, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0)
			return FALSE;
		data += n;
		len -= n;
	}
	return TRUE;
}
