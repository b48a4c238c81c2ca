// Linear-algebra helpers: the block-by-block QR least squares against its defining property (the
// residual is orthogonal to the columns) and against an exactly solvable system; the Cholesky
// solve with jitter; the eigen- and singular value decompositions against matrices whose
// decompositions are known in closed form or by construction.
#include "core/error.hpp"
#include "core/blas.hpp"
#include "core/lapack.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace atomfp;

namespace {

// A [rows][n] and y [rows] with independent standard normal entries.
void random_system(int64_t rows, int64_t n, unsigned seed, std::vector<double>& A, std::vector<double>& y) {
    std::mt19937 generator(seed);
    std::normal_distribution<double> normal(0.0, 1.0);
    A.resize(rows * n);
    y.resize(rows);
    for (double& x : A) x = normal(generator);
    for (double& x : y) x = normal(generator);
}

}  // namespace

TEST(LeastSquares, ResidualIsOrthogonalToTheColumnsWhateverTheBlocks) {
    const int64_t n = 12, rows = 700;
    std::vector<double> A, y;
    random_system(rows, n, 1, A, y);
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

TEST(LeastSquares, MergedFactorsStandForTheirRows) {
    // Three systems over slices of one row set, merged as factors, against one system of all rows:
    // the same solution, and factors that agree up to the sign of each row (the QR is unique up to
    // signs). Slices of fewer rows than unknowns leave R with zero rows, which a merge must handle.
    const int64_t n = 30, rows = 500;
    std::vector<double> A, y;
    random_system(rows, n, 3, A, y);
    LeastSquares whole(n), merged(n);
    whole.add_rows(rows, A.data(), y.data());
    const int64_t cuts[] = {0, 7, 400, rows};
    for (int part_index = 0; part_index < 3; ++part_index) {
        LeastSquares part(n);
        part.add_rows(cuts[part_index + 1] - cuts[part_index], A.data() + cuts[part_index] * n, y.data() + cuts[part_index]);
        merged.add_factor(part.factor().data());
    }
    const std::vector<double> expected = whole.solve(), w = merged.solve();
    for (int64_t k = 0; k < n; ++k) EXPECT_NEAR(w[k], expected[k], 1e-12 * (1.0 + std::abs(expected[k]))) << k;
    const std::vector<double> r_whole = whole.factor(), r_merged = merged.factor();
    const int64_t width = n + 1;
    for (int64_t i = 0; i < width; ++i) {
        const double sign = (r_whole[i * width + i] < 0) == (r_merged[i * width + i] < 0) ? 1.0 : -1.0;
        for (int64_t j = i; j < width; ++j) {
            EXPECT_NEAR(r_merged[i * width + j], sign * r_whole[i * width + j], 1e-11 * std::abs(r_whole[i * width + i]))
                << i << "," << j;
        }
    }
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

// The n x n second-difference matrix (2 on the diagonal, -1 beside it) has eigenvalues
// 2 - 2 cos(k pi / (n + 1)) and eigenvectors sin(j k pi / (n + 1)), k = 1..n: a small size (QR
// iteration) and a large one (divide and conquer).
TEST(SymmetricEigen, SecondDifferenceMatrixHasItsKnownSpectrum) {
    for (const int n : {9, 300}) {
        SCOPED_TRACE(n);
        std::vector<double> matrix(n * n, 0.0), eigenvalues;
        for (int i = 0; i < n; ++i) {
            matrix[i * n + i] = 2.0;
            if (i + 1 < n) matrix[i * n + i + 1] = matrix[(i + 1) * n + i] = -1.0;
        }
        symmetric_eigen(n, matrix, eigenvalues);
        ASSERT_EQ(eigenvalues.size(), static_cast<std::size_t>(n));
        for (int k = 1; k <= n; ++k) {
            EXPECT_NEAR(eigenvalues[k - 1], 2.0 - 2.0 * std::cos(k * M_PI / (n + 1)), 1e-13);
            // The eigenvector (row k - 1) is parallel to sin(j k pi / (n + 1)).
            double dot = 0.0, norm = 0.0, row_norm = 0.0;
            for (int j = 0; j < n; ++j) {
                const double expected = std::sin((j + 1) * k * M_PI / (n + 1));
                dot += expected * matrix[(k - 1) * n + j];
                norm += expected * expected;
                row_norm += matrix[(k - 1) * n + j] * matrix[(k - 1) * n + j];
            }
            EXPECT_NEAR(row_norm, 1.0, 1e-12) << "eigenvector " << k;
            EXPECT_NEAR(std::abs(dot) / std::sqrt(norm), 1.0, 1e-11) << "eigenvector " << k;
        }
    }
}

// A = U diag(s) V^T built from Givens rotations with chosen singular values: the decomposition must
// give back s (descending) and U, V up to the signs of their columns.
TEST(SingularValueDecomposition, RecoversAConstructedDecomposition) {
    const int rows = 5, cols = 3;
    const std::vector<double> s = {3.0, 1.5, 0.25};
    auto rotation = [](int n, int p, int q, double angle) {
        std::vector<double> r(n * n, 0.0);
        for (int i = 0; i < n; ++i) r[i * n + i] = 1.0;
        r[p * n + p] = r[q * n + q] = std::cos(angle);
        r[p * n + q] = -std::sin(angle);
        r[q * n + p] = std::sin(angle);
        return r;
    };
    auto product = [](int n, const std::vector<double>& a, const std::vector<double>& b) {
        std::vector<double> c(n * n, 0.0);
        for (int i = 0; i < n; ++i)
            for (int k = 0; k < n; ++k)
                for (int j = 0; j < n; ++j) c[i * n + j] += a[i * n + k] * b[k * n + j];
        return c;
    };
    const std::vector<double> U = product(rows, rotation(rows, 0, 3, 0.7), rotation(rows, 1, 4, -0.4));
    const std::vector<double> V = product(cols, rotation(cols, 0, 1, 0.3), rotation(cols, 1, 2, 1.1));
    std::vector<double> a(rows * cols, 0.0);
    for (int i = 0; i < rows; ++i)
        for (int j = 0; j < cols; ++j)
            for (int k = 0; k < cols; ++k) a[i * cols + j] += U[i * rows + k] * s[k] * V[j * cols + k];
    std::vector<double> u, singular_values, vt;
    singular_value_decomposition(rows, cols, a, u, singular_values, vt);
    ASSERT_EQ(singular_values.size(), 3u);
    for (int k = 0; k < cols; ++k) {
        EXPECT_NEAR(singular_values[k], s[k], 1e-14);
        double u_dot = 0.0, v_dot = 0.0;
        for (int i = 0; i < rows; ++i) u_dot += u[i * cols + k] * U[i * rows + k];
        for (int j = 0; j < cols; ++j) v_dot += vt[k * cols + j] * V[j * cols + k];
        EXPECT_NEAR(std::abs(u_dot), 1.0, 1e-13) << "left vector " << k;
        EXPECT_NEAR(std::abs(v_dot), 1.0, 1e-13) << "right vector " << k;
        EXPECT_NEAR(u_dot * v_dot, 1.0, 1e-13) << "the signs of u_k and v_k agree";
    }
}

// dpotrs against a hand-solved system with a 3 x 3 matrix; dtrtrs through LeastSquares above.
TEST(CholeskySolve, SolvesAKnownSystem) {
    // A = L L^T with L = [[2,0,0],[1,3,0],[-1,2,1]]; x = (1, -2, 3) gives b = A x.
    std::vector<double> a = {4, 2, -2, 2, 10, 5, -2, 5, 6}, b = {-6, -3, 6};
    EXPECT_EQ(cholesky_solve(3, a, b, 1e-12), 0.0);
    EXPECT_NEAR(b[0], 1.0, 1e-14);
    EXPECT_NEAR(b[1], -2.0, 1e-14);
    EXPECT_NEAR(b[2], 3.0, 1e-14);
}

TEST(CholeskyFactor, RecoversTheLowerFactorAndRefusesAnIndefiniteMatrix) {
    // A = L L^T with L = [[2,0,0],[1,3,0],[-1,2,1]].
    std::vector<double> a = {4, 2, -2, 2, 10, 5, -2, 5, 6};
    cholesky_factor(3, a);
    const std::vector<double> expected = {2, 0, 0, 1, 3, 0, -1, 2, 1};
    for (int k = 0; k < 9; ++k) EXPECT_NEAR(a[k], expected[k], 1e-14) << k;
    std::vector<double> indefinite = {1, 2, 2, 1};
    EXPECT_THROW(cholesky_factor(2, indefinite), Error);
}

// Every combination of triangle and transposition against the product it inverts: after the solve,
// op(T) x reproduces each row b, with T's other triangle filled with garbage that must not be read.
TEST(TriangularSolveRows, InvertsTheTriangularProductForEveryTriangleAndTransposition) {
    const int64_t n = 7, rows = 5, ldt = 9, ldb = 8;
    std::mt19937 generator(3);
    std::normal_distribution<double> normal(0.0, 1.0);
    for (bool lower : {false, true}) {
        for (bool transpose : {false, true}) {
            std::vector<double> t(n * ldt), b(rows * ldb), x;
            for (double& v : t) v = 1e6 * normal(generator);  // the unused triangle and padding
            for (int64_t i = 0; i < n; ++i) {
                for (int64_t j = 0; j < n; ++j) {
                    if (lower ? j <= i : j >= i) t[i * ldt + j] = (i == j ? 3.0 : 0.0) + normal(generator);
                }
            }
            for (double& v : b) v = normal(generator);
            x = b;
            triangular_solve_rows(lower, transpose, n, t.data(), ldt, rows, x.data(), ldb);
            auto element = [&](int64_t i, int64_t j) {  // op(T)(i, j), zero outside the triangle
                const int64_t r = transpose ? j : i, c = transpose ? i : j;
                return (lower ? c <= r : c >= r) ? t[r * ldt + c] : 0.0;
            };
            for (int64_t row = 0; row < rows; ++row) {
                for (int64_t i = 0; i < n; ++i) {
                    double product = 0.0;
                    for (int64_t j = 0; j < n; ++j) product += element(i, j) * x[row * ldb + j];
                    EXPECT_NEAR(product, b[row * ldb + i], 1e-10) << lower << transpose;
                }
            }
        }
    }
}
