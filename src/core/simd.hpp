// Run-time selection of SIMD code for the hot kernels. The library is compiled for baseline x86-64
// (SSE2) so that one binary runs everywhere and no build depends on how a compiler treats the
// newest instruction sets (GCC 12 miscompiles some code at -march=x86-64-v4, see docs/design.md).
// Functions marked ATOMFP_DISPATCHED are compiled twice, for baseline and for AVX2, and the loader
// picks the AVX2 copy on CPUs that have it (GCC function multiversioning, an ifunc). The attribute
// goes on the definition only: on a declaration, callers in other files would call the copies
// directly, and those are local to the defining file.
//
// AVX2 rather than a named micro-architecture level, which keeps the door open for Clang (it
// multiversions on features only); AVX-512 copies are not built: the measured gain of AVX2 over
// SSE2 on these kernels is small (docs/design.md, "SIMD") and AVX-512 is where the known
// miscompilation lives.
#pragma once

// GCC only: with Clang 14's multiversioning the sanitizer suite failed inside the SOAP contraction
// (UBSan: an empty per-neighbour table read after the dispatched expansion), a fault not yet
// understood, so Clang builds keep the baseline code.
#if defined(ATOMFP_RUNTIME_DISPATCH) && defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define ATOMFP_MULTIVERSIONING 1
#define ATOMFP_DISPATCHED __attribute__((target_clones("avx2", "default")))
#else
#define ATOMFP_MULTIVERSIONING 0
#define ATOMFP_DISPATCHED
#endif

namespace atomfp {

// Which copy of the dispatched kernels runs on this CPU: "avx2", "baseline" (the CPU lacks AVX2),
// or "baseline (dispatch disabled)" when the library was built without multiversioning (the
// option is off, or the compiler is Clang).
const char* simd_kernels();

// True when the AVX2 copies run: a dispatched function may then use four-lane vector code
// (core/small_kernels.hpp), which its AVX2 copy compiles to single instructions.
bool avx2_kernels_selected();

}  // namespace atomfp
