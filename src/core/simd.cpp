#include "core/simd.hpp"

namespace atomfp {

bool avx2_kernels_selected() {
#if ATOMFP_MULTIVERSIONING
    static const bool selected = [] {
        // The same test the multiversioning resolver makes.
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") != 0;
    }();
    return selected;
#else
    return false;
#endif
}

const char* simd_kernels() {
#if ATOMFP_MULTIVERSIONING
    return avx2_kernels_selected() ? "avx2" : "baseline";
#else
    return "baseline (dispatch disabled)";
#endif
}

}  // namespace atomfp
