// Small dense kernels for the per-centre loops. Plain loops over sums are serial chains of
// additions (the compiler may not reassociate floating point), so these keep independent partial
// sums in vector registers of `Lanes` doubles: 2 (SSE2, every x86-64) or 4 (one AVX register).
// Four-lane code is only fast inside functions compiled for AVX2 (ATOMFP_DISPATCHED, see
// core/simd.hpp); baseline code emulates it several times slower. So a dispatched caller picks the
// width with avx2_kernels_selected(), and everything else uses two lanes.
#pragma once

#include <cstddef>
#include <cstdint>

namespace atomfp {

template <int Lanes>
struct DoubleLanes;
template <>
struct DoubleLanes<2> {
    typedef double type __attribute__((vector_size(16)));
};
template <>
struct DoubleLanes<4> {
    typedef double type __attribute__((vector_size(32)));
};

// out[0 .. Lanes V) += sum_j coefficient(j) * row(j)[0 .. Lanes V), V accumulators; row(j) points
// at Lanes V doubles (any layout: strided, or rows picked by an index list).
template <int Lanes, int V, class Coefficient, class Row>
inline void accumulate_weighted_rows(int64_t n, Coefficient&& coefficient, Row&& row, double* out) {
    using Vector = typename DoubleLanes<Lanes>::type;
    Vector acc[V];
    for (int v = 0; v < V; ++v) acc[v] = Vector{};
    for (int64_t j = 0; j < n; ++j) {
        const double yj = coefficient(j);
        Vector yy;
        for (int i = 0; i < Lanes; ++i) yy[i] = yj;
        const double* wj = row(j);
        for (int v = 0; v < V; ++v) {
            Vector x;
            __builtin_memcpy(&x, wj + Lanes * v, sizeof x);
            acc[v] += yy * x;
        }
    }
    for (int v = 0; v < V; ++v)
        for (int i = 0; i < Lanes; ++i) out[Lanes * v + i] += acc[v][i];
}

// out[0 .. Lanes V) += sum_j y[j * y_stride] * w[j * w_stride + (0 .. Lanes V)].
template <int Lanes, int V>
inline void accumulate_product_block(int64_t n, const double* y, std::ptrdiff_t y_stride, const double* w,
                                     std::ptrdiff_t w_stride, double* out) {
    accumulate_weighted_rows<Lanes, V>(
        n, [&](int64_t j) { return y[j * y_stride]; }, [&](int64_t j) { return w + j * w_stride; }, out);
}

// out[0 .. width) += sum_j y[j * y_stride] * w[j * w_stride + (0 .. width)], eight columns at a time.
template <int Lanes = 2>
inline void accumulate_products(int64_t n, const double* y, std::ptrdiff_t y_stride, const double* w,
                                std::ptrdiff_t w_stride, double* out, int width) {
    int k0 = 0;
    for (; k0 + 8 <= width; k0 += 8) accumulate_product_block<Lanes, 8 / Lanes>(n, y, y_stride, w + k0, w_stride, out + k0);
    for (; k0 + 2 <= width; k0 += 2) accumulate_product_block<2, 1>(n, y, y_stride, w + k0, w_stride, out + k0);
    for (; k0 < width; ++k0) {
        double s = 0.0;
        for (int64_t j = 0; j < n; ++j) s += y[j * y_stride] * w[j * w_stride + k0];
        out[k0] += s;
    }
}

// Rows r < R at once: out[r * out_step + (0 .. Lanes V)] += sum_j y[j * y_stride + r] *
// w[j * w_stride + (0 .. Lanes V)]: each w row is loaded once for all R (the m of one l in the
// density expansion, which share their radial row). R V accumulators.
template <int Lanes, int V, int R>
__attribute__((always_inline)) inline void accumulate_product_rows(int64_t n, const double* y, std::ptrdiff_t y_stride, const double* w,
                                    std::ptrdiff_t w_stride, double* out, std::ptrdiff_t out_step) {
    using Vector = typename DoubleLanes<Lanes>::type;
    Vector acc[R][V];
    for (int r = 0; r < R; ++r)
        for (int v = 0; v < V; ++v) acc[r][v] = Vector{};
    for (int64_t j = 0; j < n; ++j) {
        Vector x[V];
        for (int v = 0; v < V; ++v) __builtin_memcpy(&x[v], w + j * w_stride + Lanes * v, sizeof x[v]);
        for (int r = 0; r < R; ++r) {
            const double yj = y[j * y_stride + r];
            Vector yy;
            for (int i = 0; i < Lanes; ++i) yy[i] = yj;
            for (int v = 0; v < V; ++v) acc[r][v] += yy * x[v];
        }
    }
    for (int r = 0; r < R; ++r)
        for (int v = 0; v < V; ++v) {
            Vector o;
            __builtin_memcpy(&o, out + r * out_step + Lanes * v, sizeof o);
            o += acc[r][v];
            __builtin_memcpy(out + r * out_step + Lanes * v, &o, sizeof o);
        }
}

// accumulate_products for `rows` consecutive y columns (y + r, out + r * out_step), up to four at a
// time on each block of eight output columns.
template <int Lanes = 2>
__attribute__((always_inline)) inline void accumulate_products_for_rows(int64_t n, const double* y, std::ptrdiff_t y_stride, int rows, const double* w,
                                         std::ptrdiff_t w_stride, double* out, std::ptrdiff_t out_step, int width) {
    int k0 = 0;
    for (; k0 + 8 <= width; k0 += 8) {
        int r = 0;
        for (; r + 4 <= rows; r += 4) accumulate_product_rows<Lanes, 8 / Lanes, 4>(n, y + r, y_stride, w + k0, w_stride, out + r * out_step + k0, out_step);
        for (; r + 2 <= rows; r += 2) accumulate_product_rows<Lanes, 8 / Lanes, 2>(n, y + r, y_stride, w + k0, w_stride, out + r * out_step + k0, out_step);
        for (; r < rows; ++r) accumulate_product_rows<Lanes, 8 / Lanes, 1>(n, y + r, y_stride, w + k0, w_stride, out + r * out_step + k0, out_step);
    }
    if (k0 < width)
        for (int r = 0; r < rows; ++r) accumulate_products<Lanes>(n, y + r, y_stride, w + k0, w_stride, out + r * out_step + k0, width - k0);
}

// x^p for an integer p >= 0 by repeated squaring (std::pow is far slower).
inline double integer_power(double x, int p) {
    double result = 1.0;
    while (p > 0) {
        if (p & 1) result *= x;
        x *= x;
        p >>= 1;
    }
    return result;
}

// e^x for x <= 0 without a library call, so that loops of it vectorise: 2^n e^r with n the
// nearest integer to x / ln 2 and |r| <= ln 2 / 2, e^r by its Taylor series to r^12 (truncation
// below 2e-16 relative). Within 3 ulp of std::exp (tests/unit/test_toolchain.cpp); 0 below
// x = -708, where std::exp would return at most 3e-308, and for NaN.
inline double exp_of_nonpositive(double x) {
    constexpr double log2e = 1.4426950408889634, ln2_high = 0.6931471805598903, ln2_low = 5.497923018708371e-14;
    constexpr double shifter = 0x1.8p52;  // adding it rounds to an integer held in the low mantissa bits
    const double clamped = x > -708.0 ? x : -708.0;
    const double t = clamped * log2e + shifter;
    const double n = t - shifter;
    const double r = (clamped - n * ln2_high) - n * ln2_low;
    double p = 1.0 / 479001600.0;  // 1/12!
    constexpr double inverse_factorials[12] = {1.0 / 39916800.0, 1.0 / 3628800.0, 1.0 / 362880.0, 1.0 / 40320.0,
                                               1.0 / 5040.0,     1.0 / 720.0,     1.0 / 120.0,    1.0 / 24.0,
                                               1.0 / 6.0,        0.5,             1.0,            1.0};
    for (double c : inverse_factorials) p = p * r + c;
    int64_t t_bits, shifter_bits;
    __builtin_memcpy(&t_bits, &t, sizeof t);
    __builtin_memcpy(&shifter_bits, &shifter, sizeof shifter);
    const int64_t scale_bits = static_cast<int64_t>(static_cast<uint64_t>(t_bits - shifter_bits + 1023) << 52);
    double scale;
    __builtin_memcpy(&scale, &scale_bits, sizeof scale);
    return x > -708.0 ? p * scale : 0.0;
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
