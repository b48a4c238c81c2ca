// Thin wrappers over the Fortran LAPACK interface (any vendor).
#pragma once

#include <cstdint>
#include <vector>

namespace atomfp {

// Eigen-decomposition of a symmetric n x n matrix (dsyev; dsyevd above 128). On return `matrix` holds the
// eigenvectors as rows (row k belongs to eigenvalue k) and `eigenvalues` is ascending.
// Throws Error(linalg) if LAPACK fails.
void symmetric_eigen(int n, std::vector<double>& matrix, std::vector<double>& eigenvalues);

// Thin singular value decomposition A = U diag(s) Vt of a row-major rows x cols matrix (dgesdd):
// U [rows][k], s [k] descending, Vt [k][cols], k = min(rows, cols). Throws Error(linalg) on failure.
void singular_value_decomposition(int rows, int cols, std::vector<double> matrix, std::vector<double>& u,
                                  std::vector<double>& singular_values, std::vector<double>& vt);

// Solves A x = b for a symmetric positive (semi-)definite n x n matrix by Cholesky factorisation
// (dpotrf/dpotrs). If the factorisation fails, jitter * (mean diagonal) is added to the diagonal,
// starting at `jitter` and growing tenfold up to 1e-6; returns the relative jitter finally used
// (0 if none was needed). Throws Error(linalg) if even that fails. `a` is overwritten.
double cholesky_solve(int n, std::vector<double>& a, std::vector<double>& b, double jitter);

// The Cholesky factor L (row-major lower triangle, A = L L^T; the upper triangle is zeroed) of a
// symmetric positive definite row-major n x n matrix, in place. Throws Error(linalg) if A is not
// positive definite.
void cholesky_factor(int n, std::vector<double>& a);

// Linear least squares min |A w - y|^2 over rows added block by block, kept as the triangular
// factor R of the QR factorisation of [A | y] ((n + 1) x (n + 1)): memory independent of the
// number of rows, and the conditioning of A rather than of A^T A (Householder QR). Rows are
// buffered until a batch of at least max(n, 256) rows is folded into R with LAPACK's
// triangular-pentagonal QR (dtpqrt), which does not redo the work on R's zeros.
class LeastSquares {
public:
    explicit LeastSquares(int64_t n_unknowns);
    void add_rows(int64_t rows, const double* a /*[rows][n]*/, const double* y /*[rows]*/);
    // Adds another system's factor (as factor() returns it), which stands for every row added
    // there; merging two triangles costs a third of adding them as general rows.
    void add_factor(const double* factor /*[(n + 1)][(n + 1)] row-major*/);
    // Solves R w = Q^T y; throws Error(linalg) if the system is rank-deficient (a diagonal entry of
    // R below 1e-15 of the largest).
    std::vector<double> solve();
    int64_t rows_added() const { return rows_added_; }
    // The current triangular factor [(n + 1)][(n + 1)] of [A | y], row-major (pending rows
    // factorised first): its rows, added to another LeastSquares, stand for every row added here.
    std::vector<double> factor();
    // add_factor(other.factor()) without the copy.
    void add_factor(LeastSquares& other);
    // Forgets every row, keeping the memory (a fresh system of this size would page it in again).
    void clear();

private:
    void factorise();
    // Folds the rows of B [rows][n + 1] (column-major, leading dimension rows) into R; the last
    // `triangular` rows of B are upper trapezoidal (dtpqrt's L).
    void fold(int rows, int triangular, double* b);
    // Folds an upper triangular factor whose (i, j) entry is factor[i * row_step + j * column_step].
    void fold_triangle(const double* factor, int64_t row_step, int64_t column_step);

    int64_t n_, rows_added_ = 0;
    std::vector<double> r_;        // [(n + 1)][(n + 1)] column-major, upper triangle
    std::vector<double> pending_;  // [k][n + 1] row-major rows not yet factorised
    std::vector<double> folded_;   // what fold() gets: pending rows or a factor, column-major
};

}  // namespace atomfp
