#include "core/spherical_harmonics.hpp"
#include "core/error.hpp"
#include "core/special_functions.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <random>
#include <vector>

using namespace atomfp;

namespace {

std::vector<double> values_at(const SphericalHarmonics& sh, const double u[3]) {
    std::vector<double> y(sh.size());
    sh.evaluate(u, y.data(), nullptr);
    return y;
}

void unit(double* u) {
    const double n = std::sqrt(u[0] * u[0] + u[1] * u[1] + u[2] * u[2]);
    for (int k = 0; k < 3; ++k) u[k] /= n;
}

}  // namespace

TEST(SphericalHarmonics, LowOrdersMatchTheirCartesianForms) {
    SphericalHarmonics sh(2);
    double u[3] = {0.3, -0.5, 0.7};
    unit(u);
    const double x = u[0], y = u[1], z = u[2];
    const std::vector<double> v = values_at(sh, u);
    const double c0 = 0.5 / std::sqrt(M_PI), c1 = std::sqrt(3.0 / (4.0 * M_PI));
    const double c2 = 0.5 * std::sqrt(15.0 / M_PI), c20 = 0.25 * std::sqrt(5.0 / M_PI);
    const std::vector<double> expected = {c0,         c1 * y,     c1 * z, c1 * x, c2 * x * y, c2 * y * z,
                                          c20 * (3 * z * z - 1), c2 * x * z, 0.5 * c2 * (x * x - y * y)};
    for (std::size_t k = 0; k < expected.size(); ++k) EXPECT_NEAR(v[k], expected[k], 1e-15) << k;
}

TEST(SphericalHarmonics, AdditionTheoremHoldsUpToDegreeTwenty) {
    SphericalHarmonics sh(20);
    std::mt19937 rng(3);
    std::normal_distribution<double> g;
    for (int trial = 0; trial < 20; ++trial) {
        double u[3] = {g(rng), g(rng), g(rng)}, w[3] = {g(rng), g(rng), g(rng)};
        if (trial == 0) u[0] = u[1] = 0.0;  // on the z axis
        unit(u);
        unit(w);
        const std::vector<double> yu = values_at(sh, u), yw = values_at(sh, w);
        const double cosine = u[0] * w[0] + u[1] * w[1] + u[2] * w[2];
        for (int l = 0; l <= 20; ++l) {
            double sum = 0.0;
            for (int m = -l; m <= l; ++m) sum += yu[l * l + l + m] * yw[l * l + l + m];
            EXPECT_NEAR(sum, (2 * l + 1) / (4 * M_PI) * std::legendre(l, cosine), 1e-12) << "l=" << l;
        }
    }
}

TEST(SphericalHarmonics, OrthonormalOnTheSphere) {
    const int L = 20;
    SphericalHarmonics sh(L);
    std::vector<double> nodes, weights;
    gauss_legendre(L + 2, -1.0, 1.0, nodes, weights);
    const int n_phi = 2 * L + 3;
    std::vector<double> gram(sh.size() * sh.size(), 0.0);
    for (std::size_t a = 0; a < nodes.size(); ++a) {
        for (int p = 0; p < n_phi; ++p) {
            const double phi = 2 * M_PI * p / n_phi, s = std::sqrt(1 - nodes[a] * nodes[a]);
            double u[3] = {s * std::cos(phi), s * std::sin(phi), nodes[a]};
            const std::vector<double> y = values_at(sh, u);
            const double w = weights[a] * 2 * M_PI / n_phi;
            for (int i = 0; i < sh.size(); ++i)
                for (int j = 0; j < sh.size(); ++j) gram[i * sh.size() + j] += w * y[i] * y[j];
        }
    }
    double worst = 0.0;
    for (int i = 0; i < sh.size(); ++i)
        for (int j = 0; j < sh.size(); ++j) worst = std::max(worst, std::abs(gram[i * sh.size() + j] - (i == j)));
    EXPECT_LT(worst, 1e-12);
}

TEST(SphericalHarmonics, GradientsMatchFiniteDifferencesIncludingThePoles) {
    const int L = 20;
    SphericalHarmonics sh(L);
    std::vector<std::array<double, 3>> points = {{0, 0, 1}, {0, 0, -1}, {1e-9, 0, 1}, {0.2, -0.4, 0.9}, {1, 0, 0}};
    for (auto p : points) {
        double r[3] = {p[0], p[1], p[2]};
        const double length = 1.7;
        unit(r);
        std::vector<double> y(sh.size()), grad(3 * sh.size());
        sh.evaluate(r, y.data(), grad.data());
        for (int k = 0; k < 3; ++k) {
            double plus[3] = {r[0] * length, r[1] * length, r[2] * length}, minus[3] = {plus[0], plus[1], plus[2]};
            const double h = 1e-6;
            plus[k] += h;
            minus[k] -= h;
            unit(plus);
            unit(minus);
            const std::vector<double> yp = values_at(sh, plus), ym = values_at(sh, minus);
            for (int i = 0; i < sh.size(); ++i) {
                const double fd = (yp[i] - ym[i]) / (2 * h);
                EXPECT_NEAR(grad[k * sh.size() + i] / length, fd, 2e-6 * (1 + std::abs(fd))) << "component " << k << " index " << i;
            }
        }
    }
}

TEST(SphericalHarmonics, RejectsDegreesAboveTwenty) {
    EXPECT_THROW(SphericalHarmonics(21), Error);
    EXPECT_THROW(SphericalHarmonics(-1), Error);
}

TEST(SphericalHarmonics, ManyVectorsAtOnceEqualSingleCallsBitForBit) {
    // Counts around the four-vector pass: partial passes repeat their last vector in idle lanes,
    // which must not leak into the outputs.
    SphericalHarmonics sh(7);
    std::mt19937 rng(3);
    std::normal_distribution<double> normal;
    const int lm = sh.size();
    for (int n : {1, 3, 4, 5, 11}) {
        std::vector<double> units(3 * n);
        for (int j = 0; j < n; ++j) {
            for (int k = 0; k < 3; ++k) units[3 * j + k] = normal(rng);
            unit(&units[3 * j]);
        }
        if (n == 11) units[3 * 10] = units[3 * 10 + 1] = 0.0, units[3 * 10 + 2] = 1.0;  // on the z axis
        std::vector<double> values(n * lm + 1, -7.0), gradients(3 * n * lm + 1, -7.0);
        sh.evaluate_many(n, units.data(), values.data(), gradients.data());
        EXPECT_EQ(values.back(), -7.0);
        EXPECT_EQ(gradients.back(), -7.0);
        for (int j = 0; j < n; ++j) {
            std::vector<double> y(lm), g(3 * lm);
            sh.evaluate(&units[3 * j], y.data(), g.data());
            for (int q = 0; q < lm; ++q) EXPECT_EQ(values[j * lm + q], y[q]) << n << " " << j << " " << q;
            for (int q = 0; q < 3 * lm; ++q) EXPECT_EQ(gradients[j * 3 * lm + q], g[q]) << n << " " << j << " " << q;
        }
        std::vector<double> values_only(n * lm);
        sh.evaluate_many(n, units.data(), values_only.data(), nullptr);
        for (int q = 0; q < n * lm; ++q) EXPECT_EQ(values_only[q], values[q]);
    }
}
