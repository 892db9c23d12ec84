// An ABI bridge between go-duckdb's prebuilt Windows libduckdb.a and
// Debian's MinGW-w64 libstdc++.
//
// go-duckdb ships libduckdb.a built by a UCRT MinGW toolchain, where
// mbstate_t is the struct _Mbstatet; Debian's mingw-w64 (msvcrt) has
// mbstate_t as int. Every libstdc++ symbol the library needs links, except
// one: the vtable of DuckDB's bundled httplib DataSink::data_sink_streambuf
// refers to the inherited std::basic_streambuf<char>::seekpos, whose mangled
// name carries fpos<_Mbstatet>. This file defines that symbol with the body
// libstdc++ gives it (the default seekpos fails: it returns the position -1),
// with the layout a UCRT fpos<_Mbstatet> has (a 64-bit offset, then the
// 8-byte _Mbstatet). qvmeter never reaches this code (it does not use
// httplib); the definition makes the link complete and correct.
//
// scripts/build-windows.sh compiles it and links it into qvmeter.exe.

struct Mbstatet {
	unsigned long wchar;
	unsigned short byte, state;
};

struct FposMbstatet {
	long long off;
	Mbstatet state;
};

struct StreambufSeekpos {
	FposMbstatet seekpos(FposMbstatet, int) __asm__(
		"_ZNSt15basic_streambufIcSt11char_traitsIcEE7seekposESt4fposI9_MbstatetESt13_Ios_Openmode");
};

FposMbstatet StreambufSeekpos::seekpos(FposMbstatet, int) { return FposMbstatet{-1, {}}; }
