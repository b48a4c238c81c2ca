// Linear-algebra helpers: the block-by-block QR least squares against its defining property (the
// residual is orthogonal to the columns) and against an exactly solvable system; the Cholesky
// solve with jitter.
#include "core/error.hpp"
#include "core/lapack.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace atomfp;

TEST(LeastSquares, ResidualIsOrthogonalToTheColumnsWhateverTheBlocks) {
    const int64_t n = 12, rows = 700;
    std::mt19937 generator(1);
    std::normal_distribution<double> normal(0.0, 1.0);
    std::vector<double> A(rows * n), y(rows);
    for (double& x : A) x = normal(generator);
    for (double& x : y) x = normal(generator);
    LeastSquares ls(n);
    // Uneven blocks, so that several factorisations with a carried R happen.
    for (int64_t start = 0, block = 1; start < rows; start += block, block = block * 3 % 97 + 1) {
        const int64_t count = std::min(block, rows - start);
        ls.add_rows(count, A.data() + start * n, y.data() + start);
    }
    EXPECT_EQ(ls.rows_added(), rows);
    const std::vector<double> w = ls.solve();
    for (int64_t j = 0; j < n; ++j) {
        double dot = 0.0;
        for (int64_t i = 0; i < rows; ++i) {
            double r = -y[i];
            for (int64_t k = 0; k < n; ++k) r += A[i * n + k] * w[k];
            dot += A[i * n + j] * r;
        }
        EXPECT_NEAR(dot, 0.0, 1e-10);
    }
}

TEST(LeastSquares, SolvesAnIllConditionedConsistentSystemToItsConditioning) {
    // Columns scaled over eight orders of magnitude: the normal equations would square that.
    const int64_t n = 6, rows = 40;
    std::mt19937 generator(2);
    std::normal_distribution<double> normal(0.0, 1.0);
    std::vector<double> A(rows * n), truth = {1.0, -2.0, 3.0, 0.5, -1.5, 2.5}, y(rows, 0.0);
    for (int64_t i = 0; i < rows; ++i)
        for (int64_t k = 0; k < n; ++k) {
            A[i * n + k] = normal(generator) * std::pow(10.0, -1.6 * k);
            y[i] += A[i * n + k] * truth[k];
        }
    LeastSquares ls(n);
    ls.add_rows(rows, A.data(), y.data());
    const std::vector<double> w = ls.solve();
    for (int64_t k = 0; k < n; ++k) EXPECT_NEAR(w[k], truth[k], 1e-6 * std::abs(truth[k])) << k;
    LeastSquares singular(2);
    const double a[4] = {1.0, 2.0, 2.0, 4.0}, b[2] = {1.0, 2.0};
    singular.add_rows(2, a, b);
    EXPECT_THROW(singular.solve(), Error);
}

TEST(CholeskySolve, UsesJitterOnlyWhenNeeded) {
    std::vector<double> a = {4.0, 2.0, 2.0, 3.0}, b = {2.0, 1.0};
    EXPECT_EQ(cholesky_solve(2, a, b, 1e-10), 0.0);
    EXPECT_NEAR(b[0], 0.5, 1e-15);
    EXPECT_NEAR(b[1], 0.0, 1e-15);
    std::vector<double> semidefinite = {1.0, 1.0, 1.0, 1.0}, c = {1.0, 1.0};
    EXPECT_GT(cholesky_solve(2, semidefinite, c, 1e-10), 0.0);
    std::vector<double> negative = {-1.0, 0.0, 0.0, -1.0}, d = {1.0, 1.0};
    EXPECT_THROW(cholesky_solve(2, negative, d, 1e-10), Error);
}
