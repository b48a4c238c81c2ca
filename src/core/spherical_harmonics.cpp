#include "core/spherical_harmonics.hpp"

#include "core/error.hpp"
#include "core/simd.hpp"

#include <cmath>

namespace atomfp {

namespace {
inline int triangle(int l, int m) { return l * (l + 1) / 2 + m; }
constexpr int max_table = (max_spherical_harmonic_degree + 1) * (max_spherical_harmonic_degree + 2) / 2;
}  // namespace

SphericalHarmonics::SphericalHarmonics(int max_angular) : max_l_(max_angular) {
    if (max_angular < 0 || max_angular > max_spherical_harmonic_degree) {
        fail(Status::invalid_argument, "spherical harmonics are available for 0 <= l <= ",
             max_spherical_harmonic_degree, ", got l_max = ", max_angular);
    }
    const int n = triangle(max_l_, max_l_) + 1;
    std::vector<double> normalisation(n);
    for (int l = 0; l <= max_l_; ++l) {
        for (int m = 0; m <= l; ++m) {
            // (l-m)!/(l+m)! as a product, to stay in range for l = 20.
            double ratio = 1.0;
            for (int k = l - m + 1; k <= l + m; ++k) ratio /= k;
            normalisation[triangle(l, m)] = std::sqrt((2.0 * l + 1.0) / (4.0 * M_PI) * ratio) * (m > 0 ? std::sqrt(2.0) : 1.0);
        }
    }
    diagonal_.assign(max_l_ + 1, 0.0);
    subdiagonal_.assign(max_l_ + 1, 0.0);
    recurrence_a_.assign(n, 0.0);
    recurrence_b_.assign(n, 0.0);
    derivative_ratio_.assign(n, 0.0);
    double double_factorial = 1.0;  // (2m - 1)!!
    for (int m = 0; m <= max_l_; ++m) {
        if (m > 0) double_factorial *= 2.0 * m - 1.0;
        diagonal_[m] = normalisation[triangle(m, m)] * double_factorial;
        subdiagonal_[m] = std::sqrt(2.0 * m + 3.0);
        for (int l = m; l <= max_l_; ++l) {
            const int t = triangle(l, m);
            if (l >= m + 2) {
                recurrence_a_[t] = (2.0 * l - 1.0) / (l - m) * normalisation[t] / normalisation[triangle(l - 1, m)];
                recurrence_b_[t] = (l + m - 1.0) / (l - m) * normalisation[t] / normalisation[triangle(l - 2, m)];
            }
            if (m < l) derivative_ratio_[t] = normalisation[t] / normalisation[triangle(l, m + 1)];
        }
    }
}

ATOMFP_DISPATCHED void SphericalHarmonics::evaluate(const double u[3], double* values, double* gradients) const {
    const double x = u[0], y = u[1], z = u[2];
    const int L = max_l_;
    double p[max_table];  // normalised P_l^m without the sin^m factor, [triangle(l, m)]
    // Row by row in l: the entries of one row are independent of each other, so the recurrence
    // vectorises over m instead of forming one long dependency chain per m.
    p[0] = diagonal_[0];
    for (int l = 1; l <= L; ++l) {
        const int row = triangle(l, 0), previous = row - l, before = previous - (l - 1);
        const double* a = recurrence_a_.data() + row;
        const double* b = recurrence_b_.data() + row;
        for (int m = 0; m <= l - 2; ++m) p[row + m] = a[m] * z * p[previous + m] - b[m] * p[before + m];
        p[row + l - 1] = subdiagonal_[l - 1] * z * p[previous + l - 1];
        p[row + l] = diagonal_[l];
    }
    // (x + i y)^m = c[m] + i s[m]
    double c[max_spherical_harmonic_degree + 2], s[max_spherical_harmonic_degree + 2];
    c[0] = 1.0;
    s[0] = 0.0;
    for (int m = 1; m <= L; ++m) {
        c[m] = x * c[m - 1] - y * s[m - 1];
        s[m] = x * s[m - 1] + y * c[m - 1];
    }
    const int n = size();
    for (int l = 0; l <= L; ++l) {
        const int centre = l * l + l, row = triangle(l, 0);
        values[centre] = p[row];
        for (int m = 1; m <= l; ++m) {
            values[centre + m] = p[row + m] * c[m];
            values[centre - m] = p[row + m] * s[m];
        }
    }
    if (!gradients) return;
    double* gx = gradients;
    double* gy = gradients + n;
    double* gz = gradients + 2 * n;
    for (int l = 0; l <= L; ++l) {
        const int centre = l * l + l, row = triangle(l, 0);
        for (int m = 0; m <= l; ++m) {
            const double nq = p[row + m];
            const double dq = m < l ? derivative_ratio_[row + m] * p[row + m + 1] : 0.0;  // N_lm dQ_l^m/dz
            // d(x+iy)^m/dx = m (x+iy)^(m-1), d/dy = i m (x+iy)^(m-1)
            const double mc = m > 0 ? m * c[m - 1] : 0.0, ms = m > 0 ? m * s[m - 1] : 0.0;
            const double cos_grad[3] = {nq * mc, -nq * ms, dq * c[m]};
            // Keep only the tangential component: the extension is arbitrary off the sphere.
            const double radial_c = x * cos_grad[0] + y * cos_grad[1] + z * cos_grad[2];
            gx[centre + m] = cos_grad[0] - radial_c * x;
            gy[centre + m] = cos_grad[1] - radial_c * y;
            gz[centre + m] = cos_grad[2] - radial_c * z;
            if (m > 0) {
                const double sin_grad[3] = {nq * ms, nq * mc, dq * s[m]};
                const double radial_s = x * sin_grad[0] + y * sin_grad[1] + z * sin_grad[2];
                gx[centre - m] = sin_grad[0] - radial_s * x;
                gy[centre - m] = sin_grad[1] - radial_s * y;
                gz[centre - m] = sin_grad[2] - radial_s * z;
            }
        }
    }
}

}  // namespace atomfp
