#include "checks.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace atomfp::test {

void expect_close_relative(const std::vector<double>& a, const std::vector<double>& b, double tolerance) {
    ASSERT_EQ(a.size(), b.size());
    double scale = 0.0;
    for (double x : b) scale = std::max(scale, std::fabs(x));
    for (std::size_t i = 0; i < a.size(); ++i) {
        ASSERT_LE(std::fabs(a[i] - b[i]), tolerance * std::max(std::fabs(b[i]), 1e-3 * scale)) << "entry " << i;
    }
}

void expect_same_features(const std::vector<double>& a, const std::vector<double>& b) {
    ASSERT_EQ(a.size(), b.size());
    double scale = 0.0;
    for (double x : a) scale = std::max(scale, std::fabs(x));
    for (std::size_t i = 0; i < a.size(); ++i) {
        ASSERT_LE(std::fabs(a[i] - b[i]), 1e-12 * std::max(std::fabs(a[i]), 1e-2 * scale)) << "feature " << i;
    }
}

void check_finite_differences(const Descriptor& d, std::vector<double> positions, const SystemView& base,
                              const std::vector<int64_t>& atoms, double tolerance, double step) {
    const int64_t nf = d.feature_count();
    const int64_t n_real = base.n_atoms;
    SystemView view = base;
    view.positions = positions.data();
    std::vector<double> analytic = per_atom_gradients(view, gradients_of(d, view), nf, n_real);
    double max_gradient = 0.0;
    for (double g : analytic) max_gradient = std::max(max_gradient, std::fabs(g));
    ASSERT_GT(max_gradient, 0.0);
    int64_t checked = 0;
    for (int64_t atom : atoms) {
        for (int k = 0; k < 3; ++k) {
            const double saved = positions[3 * atom + k];
            positions[3 * atom + k] = saved + step;
            auto plus = features_of(d, view);
            positions[3 * atom + k] = saved - step;
            auto minus = features_of(d, view);
            positions[3 * atom + k] = saved;
            for (int64_t c = 0; c < view.n_centers; ++c)
                for (int64_t f = 0; f < nf; ++f) {
                    const double fd = (plus[c * nf + f] - minus[c * nf + f]) / (2 * step);
                    const double a = analytic[((c * n_real + atom) * 3 + k) * nf + f];
                    const double error = std::fabs(a - fd) / std::max(std::fabs(a), 1e-3 * max_gradient);
                    ASSERT_LE(error, tolerance) << "centre " << c << " atom " << atom << " dir " << k << " feature " << f
                                                << ": analytic " << a << " fd " << fd;
                    ++checked;
                }
        }
    }
    EXPECT_GT(checked, 0);
}

std::vector<int64_t> all_atoms(int64_t n) {
    std::vector<int64_t> v(n);
    std::iota(v.begin(), v.end(), 0);
    return v;
}

void expect_permutation_covariant(const Descriptor& d, const Structure& s, const std::vector<int64_t>& order,
                                  const std::vector<double>& reference) {
    Structure permuted = s;
    for (int64_t i = 0; i < s.size(); ++i) {
        for (int k = 0; k < 3; ++k) permuted.positions[3 * i + k] = s.positions[3 * order[i] + k];
        permuted.species[i] = s.species[order[i]];
    }
    const int64_t nf = d.feature_count();
    std::vector<double> expected(reference.size());
    for (int64_t i = 0; i < s.size(); ++i) std::copy_n(&reference[order[i] * nf], nf, &expected[i * nf]);
    expect_same_features(expected, features_of(d, neighbour_list(permuted, d.cutoff()).view()));
}

Structure transformed(const Structure& s, const std::array<double, 9>& R) {
    Structure out = s;
    auto apply = [&](const double* in, double* result) {
        for (int k = 0; k < 3; ++k) result[k] = R[3 * k] * in[0] + R[3 * k + 1] * in[1] + R[3 * k + 2] * in[2];
    };
    for (int64_t i = 0; i < s.size(); ++i) apply(&s.positions[3 * i], &out.positions[3 * i]);
    if (!s.cell.empty())
        for (int v = 0; v < 3; ++v) apply(&s.cell[3 * v], &out.cell[3 * v]);
    return out;
}

}  // namespace atomfp::test
