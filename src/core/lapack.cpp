#include "core/lapack.hpp"

#include "core/blas.hpp"
#include "core/error.hpp"
#include "core/scratch.hpp"

#include <algorithm>
#include <cmath>

// Character arguments carry hidden lengths (FortranLength, core/blas.hpp) after the others.
using atomfp::FortranLength;
extern "C" void dsyev_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda, double* w,
                       double* work, const int* lwork, int* info, FortranLength jobz_length, FortranLength uplo_length);

extern "C" void dsyevd_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda, double* w,
                        double* work, const int* lwork, int* iwork, const int* liwork, int* info,
                        FortranLength jobz_length, FortranLength uplo_length);
extern "C" void dpotrf_(const char* uplo, const int* n, double* a, const int* lda, int* info, FortranLength uplo_length);
extern "C" void dpotrs_(const char* uplo, const int* n, const int* nrhs, const double* a, const int* lda, double* b,
                        const int* ldb, int* info, FortranLength uplo_length);

extern "C" void dtpqrt_(const int* m, const int* n, const int* l, const int* nb, double* a, const int* lda, double* b,
                        const int* ldb, double* t, const int* ldt, double* work, int* info);
extern "C" void dtrtrs_(const char* uplo, const char* trans, const char* diag, const int* n, const int* nrhs,
                        const double* a, const int* lda, double* b, const int* ldb, int* info, FortranLength uplo_length,
                        FortranLength trans_length, FortranLength diag_length);

extern "C" void dgesdd_(const char* jobz, const int* m, const int* n, double* a, const int* lda, double* s, double* u,
                        const int* ldu, double* vt, const int* ldvt, double* work, const int* lwork, int* iwork,
                        int* info, FortranLength jobz_length);

namespace atomfp {

void singular_value_decomposition(int rows, int cols, std::vector<double> matrix, std::vector<double>& u,
                                  std::vector<double>& singular_values, std::vector<double>& vt) {
    const int k = std::min(rows, cols);
    u.assign(static_cast<std::size_t>(rows) * k, 0.0);
    vt.assign(static_cast<std::size_t>(k) * cols, 0.0);
    singular_values.assign(k, 0.0);
    if (k == 0) return;
    if (matrix.size() != static_cast<std::size_t>(rows) * cols) fail(Status::internal, "svd: matrix has the wrong size");
    // The row-major A is the column-major A^T = V S U^T: LAPACK's "U" of it is our V (cols x k,
    // column-major = our Vt row-major k x cols) and its "VT" is our U^T (k x rows column-major =
    // our U row-major rows x k).
    const char jobz = 'S';
    int m = cols, n = rows, info = 0, query = -1;
    double optimal = 0.0;
    std::vector<int> iwork(8 * static_cast<std::size_t>(k));
    dgesdd_(&jobz, &m, &n, matrix.data(), &m, singular_values.data(), vt.data(), &m, u.data(), &k, &optimal, &query,
            iwork.data(), &info, 1);
    std::vector<double> work(std::max(1, static_cast<int>(optimal)));
    int lwork = static_cast<int>(work.size());
    dgesdd_(&jobz, &m, &n, matrix.data(), &m, singular_values.data(), vt.data(), &m, u.data(), &k, work.data(), &lwork,
            iwork.data(), &info, 1);
    if (info != 0) fail(Status::linalg, "LAPACK dgesdd failed (info = ", info, ")");
}

// Above this size symmetric_eigen uses divide and conquer.
constexpr int divide_and_conquer_size = 128;

void symmetric_eigen(int n, std::vector<double>& matrix, std::vector<double>& eigenvalues) {
    if (n <= 0) return;
    if (matrix.size() != static_cast<std::size_t>(n) * n) fail(Status::internal, "symmetric_eigen: matrix has the wrong size");
    eigenvalues.assign(n, 0.0);
    const char jobz = 'V', uplo = 'U';
    int info = 0, query = -1;
    double optimal = 0.0;
    // Divide and conquer is several times faster for large matrices (a fit's reference kernel);
    // the QR iteration keeps the small ones exactly as they always were.
    if (n > divide_and_conquer_size) {
        int optimal_integer = 0;
        dsyevd_(&jobz, &uplo, &n, matrix.data(), &n, eigenvalues.data(), &optimal, &query, &optimal_integer, &query, &info, 1, 1);
        std::vector<double> work(std::max(static_cast<int>(optimal), 1 + 6 * n + 2 * n * n));
        std::vector<int> iwork(std::max(optimal_integer, 3 + 5 * n));
        const int lwork = static_cast<int>(work.size()), liwork = static_cast<int>(iwork.size());
        dsyevd_(&jobz, &uplo, &n, matrix.data(), &n, eigenvalues.data(), work.data(), &lwork, iwork.data(), &liwork, &info, 1, 1);
        if (info != 0) fail(Status::linalg, "LAPACK dsyevd failed (info = ", info, ")");
        return;
    }
    dsyev_(&jobz, &uplo, &n, matrix.data(), &n, eigenvalues.data(), &optimal, &query, &info, 1, 1);
    int lwork = static_cast<int>(optimal);
    std::vector<double> work(lwork > 0 ? lwork : 3 * n);
    lwork = static_cast<int>(work.size());
    // Column-major eigenvectors read as row-major are the rows of the result.
    dsyev_(&jobz, &uplo, &n, matrix.data(), &n, eigenvalues.data(), work.data(), &lwork, &info, 1, 1);
    if (info != 0) fail(Status::linalg, "LAPACK dsyev failed (info = ", info, ")");
}

double cholesky_solve(int n, std::vector<double>& a, std::vector<double>& b, double jitter) {
    if (n <= 0) return 0.0;
    if (a.size() != static_cast<std::size_t>(n) * n || b.size() != static_cast<std::size_t>(n)) {
        fail(Status::internal, "cholesky_solve: wrong sizes");
    }
    double mean_diagonal = 0.0;
    for (int k = 0; k < n; ++k) mean_diagonal += a[static_cast<std::size_t>(k) * n + k] / n;
    const std::vector<double> original = a;
    const char uplo = 'U';
    double used = 0.0;
    for (double relative = 0.0;;) {
        int info = 0;
        dpotrf_(&uplo, &n, a.data(), &n, &info, 1);
        if (info == 0) {
            used = relative;
            break;
        }
        if (info < 0) fail(Status::internal, "LAPACK dpotrf: argument ", -info, " is invalid");
        relative = relative == 0.0 ? jitter : 10.0 * relative;
        if (!(relative > 0.0) || relative > 1e-6) {
            fail(Status::linalg, "the regularised normal matrix is not positive definite even with a relative jitter of 1e-6 "
                 "(leading minor ", info, "); increase the regularisation");
        }
        a = original;
        for (int k = 0; k < n; ++k) a[static_cast<std::size_t>(k) * n + k] += relative * mean_diagonal;
    }
    int info = 0;
    const int one = 1;
    dpotrs_(&uplo, &n, &one, a.data(), &n, b.data(), &n, &info, 1);
    if (info != 0) fail(Status::linalg, "LAPACK dpotrs failed (info = ", info, ")");
    return used;
}

void cholesky_factor(int n, std::vector<double>& a) {
    if (a.size() != static_cast<std::size_t>(n) * n) fail(Status::internal, "cholesky_factor: wrong size");
    if (n == 0) return;
    // Row-major A is column-major A; dpotrf's upper U (A = U^T U) read row-major is L = U^T.
    const char uplo = 'U';
    int info = 0;
    dpotrf_(&uplo, &n, a.data(), &n, &info, 1);
    if (info < 0) fail(Status::internal, "LAPACK dpotrf: argument ", -info, " is invalid");
    if (info > 0) fail(Status::linalg, "the matrix is not positive definite (leading minor ", info, ")");
    for (int i = 0; i < n; ++i)
        for (int j = i + 1; j < n; ++j) a[static_cast<std::size_t>(i) * n + j] = 0.0;
}

LeastSquares::LeastSquares(int64_t n_unknowns) : n_(n_unknowns), r_(static_cast<std::size_t>(n_unknowns + 1) * (n_unknowns + 1), 0.0) {
    if (n_unknowns < 1) fail(Status::invalid_argument, "a least-squares problem needs at least one unknown");
}

void LeastSquares::add_rows(int64_t rows, const double* a, const double* y) {
    const int64_t width = n_ + 1;
    for (int64_t i = 0; i < rows; ++i) {
        pending_.insert(pending_.end(), a + i * n_, a + (i + 1) * n_);
        pending_.push_back(y[i]);
    }
    rows_added_ += rows;
    if (static_cast<int64_t>(pending_.size()) / width >= std::max<int64_t>(n_, 256)) factorise();
}

// Block size of dtpqrt's compact WY representation.
constexpr int tpqrt_block = 32;

void LeastSquares::fold(int rows, int triangular, double* b) {
    const int n = static_cast<int>(n_ + 1), nb = std::min(tpqrt_block, n);
    std::vector<double> t(static_cast<std::size_t>(nb) * n), work(static_cast<std::size_t>(nb) * n);
    int info = 0;
    dtpqrt_(&rows, &n, &triangular, &nb, r_.data(), &n, b, &rows, t.data(), &nb, work.data(), &info);
    if (info != 0) fail(Status::linalg, "LAPACK dtpqrt failed (info = ", info, ")");
}

void LeastSquares::factorise() {
    const int64_t width = n_ + 1, pending = static_cast<int64_t>(pending_.size()) / width;
    if (pending == 0) return;
    double* b = sized(folded_, static_cast<std::size_t>(pending) * width);  // column-major
    for (int64_t i = 0; i < pending; ++i)
        for (int64_t j = 0; j < width; ++j) b[j * pending + i] = pending_[i * width + j];
    fold(static_cast<int>(pending), 0, b);
    pending_.clear();
}

void LeastSquares::fold_triangle(const double* factor, int64_t row_step, int64_t column_step) {
    factorise();
    const int64_t width = n_ + 1;
    double* b = sized(folded_, static_cast<std::size_t>(width) * width);  // column-major upper triangle
    std::fill(b, b + width * width, 0.0);
    for (int64_t j = 0; j < width; ++j)
        for (int64_t i = 0; i <= j; ++i) b[j * width + i] = factor[i * row_step + j * column_step];
    fold(static_cast<int>(width), static_cast<int>(width), b);
    rows_added_ += width;
}

void LeastSquares::add_factor(const double* factor) { fold_triangle(factor, n_ + 1, 1); }

void LeastSquares::add_factor(LeastSquares& other) {
    if (other.n_ != n_) fail(Status::internal, "add_factor: systems of different sizes");
    other.factorise();
    fold_triangle(other.r_.data(), 1, n_ + 1);  // r_ is column-major
}

void LeastSquares::clear() {
    std::fill(r_.begin(), r_.end(), 0.0);
    pending_.clear();
    rows_added_ = 0;
}

std::vector<double> LeastSquares::factor() {
    factorise();
    const int64_t width = n_ + 1;
    std::vector<double> out(static_cast<std::size_t>(width) * width, 0.0);
    for (int64_t i = 0; i < width; ++i)
        for (int64_t j = i; j < width; ++j) out[i * width + j] = r_[j * width + i];
    return out;
}

std::vector<double> LeastSquares::solve() {
    factorise();
    const int64_t width = n_ + 1;
    double largest = 0.0;
    for (int64_t k = 0; k < n_; ++k) largest = std::max(largest, std::abs(r_[k * width + k]));
    for (int64_t k = 0; k < n_; ++k) {
        if (!(std::abs(r_[k * width + k]) > 1e-15 * largest)) {
            fail(Status::linalg, "the least-squares system is rank-deficient (unknown ", k, " is not determined); add data or regularisation");
        }
    }
    std::vector<double> z(r_.begin() + n_ * width, r_.begin() + n_ * width + n_);  // Q^T y: R's last column
    const char uplo = 'U', trans = 'N', diag = 'N';
    const int n = static_cast<int>(n_), lda = static_cast<int>(width), one = 1;
    int info = 0;
    dtrtrs_(&uplo, &trans, &diag, &n, &one, r_.data(), &lda, z.data(), &n, &info, 1, 1, 1);
    if (info != 0) fail(Status::linalg, "LAPACK dtrtrs failed (info = ", info, ")");
    return z;
}

}  // namespace atomfp
