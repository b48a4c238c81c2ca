// Kernels: batched values against a direct loop, the weighted gradient against central finite
// differences, the polynomial kernel's normalisation, and specification errors.
#include "core/error.hpp"
#include "models/kernel.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace atomfp;

namespace {

std::vector<double> random_rows(int64_t n, int64_t d, uint32_t seed) {
    std::mt19937 generator(seed);
    std::normal_distribution<double> normal(0.3, 1.0);
    std::vector<double> rows(n * d);
    for (double& x : rows) x = normal(generator);
    return rows;
}

// The definitions, one pair at a time.
double direct(const Kernel& k, const double* x, const double* s, int64_t d) {
    double xs = 0.0, xx = 0.0, ss = 0.0, dist = 0.0;
    for (int64_t q = 0; q < d; ++q) {
        xs += x[q] * s[q];
        xx += x[q] * x[q];
        ss += s[q] * s[q];
        dist += (x[q] - s[q]) * (x[q] - s[q]);
    }
    switch (k.kind()) {
        case KernelKind::linear: return xs;
        case KernelKind::polynomial: return std::pow(xs / std::sqrt(xx * ss), k.zeta());
        case KernelKind::squared_exponential: return std::exp(-k.gamma() * dist);
    }
    return NAN;
}

const char* const specs[] = {R"({"type": "linear"})", R"({"type": "polynomial", "zeta": 4})", R"({"type": "polynomial", "zeta": 1})",
                             R"({"type": "squared_exponential", "gamma": 0.3})"};

}  // namespace

TEST(Kernel, BatchedValuesMatchTheDefinition) {
    const int64_t n = 7, m = 5, d = 11;
    for (const char* spec : specs) {
        const Kernel k = Kernel::from_json(parse_json(spec));
        const std::vector<double> X = random_rows(n, d, 1), raw = random_rows(m, d, 2);
        std::vector<double> S = raw, K(n * m);
        k.prepare_references(m, d, S.data());
        k.matrix(n, X.data(), m, S.data(), d, K.data());
        for (int64_t i = 0; i < n; ++i)
            for (int64_t j = 0; j < m; ++j) {
                EXPECT_NEAR(K[i * m + j], direct(k, X.data() + i * d, raw.data() + j * d, d), 1e-13) << spec;
            }
    }
}

TEST(Kernel, WeightedGradientMatchesFiniteDifferences) {
    const int64_t n = 4, m = 6, d = 9;
    const std::vector<double> alpha = {0.3, -1.2, 0.7, 2.0, -0.4, 0.9};
    for (const char* spec : specs) {
        const Kernel k = Kernel::from_json(parse_json(spec));
        std::vector<double> X = random_rows(n, d, 3), S = random_rows(m, d, 4);
        k.prepare_references(m, d, S.data());
        std::vector<double> G(n * d), values(n), K(n * m);
        k.weighted_gradient(n, X.data(), m, S.data(), d, alpha.data(), G.data(), values.data());
        auto weighted = [&](const std::vector<double>& rows, int64_t i) {
            k.matrix(n, rows.data(), m, S.data(), d, K.data());
            double sum = 0.0;
            for (int64_t j = 0; j < m; ++j) sum += alpha[j] * K[i * m + j];
            return sum;
        };
        for (int64_t i = 0; i < n; ++i) {
            EXPECT_NEAR(values[i], weighted(X, i), 1e-12) << spec;
            for (int64_t q = 0; q < d; ++q) {
                const double h = 1e-6;
                std::vector<double> plus = X, minus = X;
                plus[i * d + q] += h;
                minus[i * d + q] -= h;
                const double fd = (weighted(plus, i) - weighted(minus, i)) / (2 * h);
                EXPECT_NEAR(G[i * d + q], fd, 1e-7 * std::max(1.0, std::abs(fd))) << spec << " row " << i << " feature " << q;
            }
        }
    }
}

TEST(Kernel, PerReferenceDerivativesSumToTheWeightedGradient) {
    const int64_t m = 5, d = 7;
    const std::vector<double> alpha = {0.5, -1.0, 2.0, 0.1, -0.7};
    for (const char* spec : specs) {
        const Kernel k = Kernel::from_json(parse_json(spec));
        const std::vector<double> x = random_rows(1, d, 8);
        std::vector<double> S = random_rows(m, d, 9), D(m * d), G(d), A(m), B(m);
        k.prepare_references(m, d, S.data());
        // D[j] = dk(x, s_j)/dx = A_j s_j + B_j x, from the factors training uses.
        k.derivative_factors(1, x.data(), m, S.data(), d, A.data(), B.data(), nullptr);
        for (int64_t j = 0; j < m; ++j)
            for (int64_t q = 0; q < d; ++q) D[j * d + q] = A[j] * S[j * d + q] + B[j] * x[q];
        k.weighted_gradient(1, x.data(), m, S.data(), d, alpha.data(), G.data(), nullptr);
        for (int64_t q = 0; q < d; ++q) {
            double sum = 0.0;
            for (int64_t j = 0; j < m; ++j) sum += alpha[j] * D[j * d + q];
            EXPECT_NEAR(sum, G[q], 1e-13) << spec;
        }
        // and each row against finite differences of its own kernel value
        std::vector<double> K(m);
        for (int64_t q = 0; q < d; ++q) {
            std::vector<double> plus = x, minus = x, Kp(m), Km(m);
            plus[q] += 1e-6;
            minus[q] -= 1e-6;
            k.matrix(1, plus.data(), m, S.data(), d, Kp.data());
            k.matrix(1, minus.data(), m, S.data(), d, Km.data());
            for (int64_t j = 0; j < m; ++j) EXPECT_NEAR(D[j * d + q], (Kp[j] - Km[j]) / 2e-6, 1e-7) << spec;
        }
    }
}

TEST(Kernel, DerivativeFactorsOfABatchGiveEachEnvironmentsDerivativesAndValues) {
    // A, B and K for three environments at once against the independent routes for one
    // environment and one reference: matrix() for k, and weighted_gradient() with a unit weight on
    // reference j for dk(x_i, s_j)/dx_i (itself checked against finite differences above).
    const int64_t n = 3, m = 5, d = 7;
    for (const char* spec : specs) {
        const Kernel k = Kernel::from_json(parse_json(spec));
        const std::vector<double> X = random_rows(n, d, 10);
        std::vector<double> S = random_rows(m, d, 11), A(n * m), B(n * m), K(n * m);
        k.prepare_references(m, d, S.data());
        k.derivative_factors(n, X.data(), m, S.data(), d, A.data(), B.data(), K.data());
        for (int64_t i = 0; i < n; ++i) {
            std::vector<double> values(m), G(d);
            k.matrix(1, X.data() + i * d, m, S.data(), d, values.data());
            for (int64_t j = 0; j < m; ++j) {
                EXPECT_NEAR(K[i * m + j], values[j], 1e-14 * (1.0 + std::abs(values[j]))) << spec;
                std::vector<double> unit(m, 0.0);
                unit[j] = 1.0;
                k.weighted_gradient(1, X.data() + i * d, m, S.data(), d, unit.data(), G.data(), nullptr);
                for (int64_t q = 0; q < d; ++q) {
                    const double factored = A[i * m + j] * S[j * d + q] + B[i * m + j] * X[i * d + q];
                    EXPECT_NEAR(factored, G[q], 1e-13 * (1.0 + std::abs(G[q]))) << spec;
                }
            }
        }
    }
}

TEST(Kernel, PolynomialKernelIgnoresTheFeatureScale) {
    const Kernel k = Kernel::from_json(parse_json(R"({"type": "polynomial", "zeta": 3})"));
    const int64_t d = 8;
    std::vector<double> x = random_rows(1, d, 5), S = x, scaled = x, K(1);
    for (double& v : scaled) v *= 17.0;
    k.prepare_references(1, d, S.data());
    k.matrix(1, scaled.data(), 1, S.data(), d, K.data());
    EXPECT_NEAR(K[0], 1.0, 1e-14);
    // Along x the kernel is flat: the gradient has no component along x.
    std::vector<double> G(d);
    const double alpha = 1.0;
    k.weighted_gradient(1, scaled.data(), 1, S.data(), d, &alpha, G.data(), nullptr);
    double along = 0.0;
    for (int64_t q = 0; q < d; ++q) along += G[q] * x[q];
    EXPECT_NEAR(along, 0.0, 1e-14);
    std::vector<double> zero(d, 0.0);
    EXPECT_THROW(k.prepare_references(1, d, zero.data()), Error);
}

TEST(Kernel, RejectsMalformedSpecifications) {
    for (const char* bad : {R"({"type": "rbf"})", R"({"type": "polynomial", "zeta": 0})", R"({"type": "polynomial", "zeta": 2.5})",
                            R"({"type": "squared_exponential", "gamma": -1})", R"({"type": "linear", "zeta": 2})", R"([1])",
                            R"({})"}) {
        EXPECT_THROW(Kernel::from_json(parse_json(bad)), Error) << bad;
    }
    const Kernel k = Kernel::from_json(parse_json(R"({"type": "squared_exponential", "gamma": 0.25})"));
    EXPECT_EQ(Kernel::from_json(k.to_json()).gamma(), 0.25);
    EXPECT_EQ(Kernel::from_json(parse_json(R"({"type": "polynomial"})")).zeta(), 2.0);
}
