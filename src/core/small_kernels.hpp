// Small dense kernels for the per-centre loops. Plain loops over sums are serial chains of
// additions (the compiler may not reassociate floating point), so these keep independent partial
// sums in SSE2 registers (16-byte vectors exist on every x86-64; wider ones would be emulated).
#pragma once

#include <cstddef>
#include <cstdint>

namespace atomfp {

typedef double double2 __attribute__((vector_size(16)));

// out[0 .. 2V) += sum_j y[j * y_stride] * w[j * w_stride + (0 .. 2V)], with V two-lane accumulators.
template <int V>
inline void accumulate_products(int64_t n, const double* y, std::ptrdiff_t y_stride, const double* w,
                                std::ptrdiff_t w_stride, double* out) {
    double2 acc[V];
    for (int v = 0; v < V; ++v) acc[v] = double2{0.0, 0.0};
    for (int64_t j = 0; j < n; ++j) {
        const double yj = y[j * y_stride];
        const double2 yy = {yj, yj};
        const double* wj = w + j * w_stride;
        for (int v = 0; v < V; ++v) {
            double2 x;
            __builtin_memcpy(&x, wj + 2 * v, sizeof x);
            acc[v] += yy * x;
        }
    }
    for (int v = 0; v < V; ++v) {
        out[2 * v] += acc[v][0];
        out[2 * v + 1] += acc[v][1];
    }
}

// out[0 .. width) += sum_j y[j * y_stride] * w[j * w_stride + (0 .. width)], eight columns at a time.
inline void accumulate_products(int64_t n, const double* y, std::ptrdiff_t y_stride, const double* w,
                                std::ptrdiff_t w_stride, double* out, int width) {
    int k0 = 0;
    for (; k0 + 8 <= width; k0 += 8) accumulate_products<4>(n, y, y_stride, w + k0, w_stride, out + k0);
    for (; k0 + 4 <= width; k0 += 4) accumulate_products<2>(n, y, y_stride, w + k0, w_stride, out + k0);
    for (; k0 + 2 <= width; k0 += 2) accumulate_products<1>(n, y, y_stride, w + k0, w_stride, out + k0);
    for (; k0 < width; ++k0) {
        double s = 0.0;
        for (int64_t j = 0; j < n; ++j) s += y[j * y_stride] * w[j * w_stride + k0];
        out[k0] += s;
    }
}

inline double dot(const double* a, const double* b, int64_t n) {
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += a[i] * b[i];
        s1 += a[i + 1] * b[i + 1];
        s2 += a[i + 2] * b[i + 2];
        s3 += a[i + 3] * b[i + 3];
    }
    for (; i < n; ++i) s0 += a[i] * b[i];
    return (s0 + s1) + (s2 + s3);
}

}  // namespace atomfp
