#include "core/spherical_harmonics.hpp"

#include "core/error.hpp"
#include "core/simd.hpp"

#include <algorithm>
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

void SphericalHarmonics::evaluate(const double u[3], double* values, double* gradients) const {
    evaluate_many(1, u, values, gradients);
}

// Row by row in l: the entries of one row are independent of each other, and each runs over the
// pass's vectors, so the recurrence vectorises instead of forming one long dependency chain per m.
ATOMFP_DISPATCHED void SphericalHarmonics::evaluate_many(int64_t n, const double* units, double* values,
                                                         double* gradients) const {
    constexpr int B = 4;  // vectors per pass: the inner loops run over them and vectorise
    const int L = max_l_, LM = size();
    double p[max_table][B];  // normalised P_l^m without the sin^m factor, [triangle(l, m)]
    double c[max_spherical_harmonic_degree + 2][B], s[max_spherical_harmonic_degree + 2][B];  // (x + i y)^m = c + i s
    double x[B], y[B], z[B];
    for (int64_t j0 = 0; j0 < n; j0 += B) {
        const int lanes = static_cast<int>(std::min<int64_t>(B, n - j0));
        for (int b = 0; b < B; ++b) {  // idle lanes repeat the last vector
            const double* u = units + 3 * (j0 + std::min(b, lanes - 1));
            x[b] = u[0];
            y[b] = u[1];
            z[b] = u[2];
        }
        for (int b = 0; b < B; ++b) p[0][b] = diagonal_[0];
        for (int l = 1; l <= L; ++l) {
            const int row = triangle(l, 0), previous = row - l, before = previous - (l - 1);
            const double* a = recurrence_a_.data() + row;
            const double* bb = recurrence_b_.data() + row;
            for (int m = 0; m <= l - 2; ++m)
                for (int b = 0; b < B; ++b) p[row + m][b] = a[m] * z[b] * p[previous + m][b] - bb[m] * p[before + m][b];
            for (int b = 0; b < B; ++b) {
                p[row + l - 1][b] = subdiagonal_[l - 1] * z[b] * p[previous + l - 1][b];
                p[row + l][b] = diagonal_[l];
            }
        }
        for (int b = 0; b < B; ++b) {
            c[0][b] = 1.0;
            s[0][b] = 0.0;
        }
        for (int m = 1; m <= L; ++m) {
            for (int b = 0; b < B; ++b) {
                c[m][b] = x[b] * c[m - 1][b] - y[b] * s[m - 1][b];
                s[m][b] = x[b] * s[m - 1][b] + y[b] * c[m - 1][b];
            }
        }
        for (int b = 0; b < lanes; ++b) {
            double* v = values + (j0 + b) * LM;
            for (int l = 0; l <= L; ++l) {
                const int centre = l * l + l, row = triangle(l, 0);
                v[centre] = p[row][b];
                for (int m = 1; m <= l; ++m) {
                    v[centre + m] = p[row + m][b] * c[m][b];
                    v[centre - m] = p[row + m][b] * s[m][b];
                }
            }
        }
        if (!gradients) continue;
        for (int b = 0; b < lanes; ++b) {
            double* gx = gradients + (j0 + b) * 3 * LM;
            double* gy = gx + LM;
            double* gz = gx + 2 * LM;
            for (int l = 0; l <= L; ++l) {
                const int centre = l * l + l, row = triangle(l, 0);
                for (int m = 0; m <= l; ++m) {
                    const double nq = p[row + m][b];
                    const double dq = m < l ? derivative_ratio_[row + m] * p[row + m + 1][b] : 0.0;  // N_lm dQ_l^m/dz
                    // d(x+iy)^m/dx = m (x+iy)^(m-1), d/dy = i m (x+iy)^(m-1)
                    const double mc = m > 0 ? m * c[m - 1][b] : 0.0, ms = m > 0 ? m * s[m - 1][b] : 0.0;
                    const double cos_grad[3] = {nq * mc, -nq * ms, dq * c[m][b]};
                    // Keep only the tangential component: the extension is arbitrary off the sphere.
                    const double radial_c = x[b] * cos_grad[0] + y[b] * cos_grad[1] + z[b] * cos_grad[2];
                    gx[centre + m] = cos_grad[0] - radial_c * x[b];
                    gy[centre + m] = cos_grad[1] - radial_c * y[b];
                    gz[centre + m] = cos_grad[2] - radial_c * z[b];
                    if (m > 0) {
                        const double sin_grad[3] = {nq * ms, nq * mc, dq * s[m][b]};
                        const double radial_s = x[b] * sin_grad[0] + y[b] * sin_grad[1] + z[b] * sin_grad[2];
                        gx[centre - m] = sin_grad[0] - radial_s * x[b];
                        gy[centre - m] = sin_grad[1] - radial_s * y[b];
                        gz[centre - m] = sin_grad[2] - radial_s * z[b];
                    }
                }
            }
        }
    }
}

}  // namespace atomfp
