#include "core/lapack.hpp"

#include "core/error.hpp"

extern "C" void dsyev_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda, double* w,
                       double* work, const int* lwork, int* info);

extern "C" void dpotrf_(const char* uplo, const int* n, double* a, const int* lda, int* info);
extern "C" void dpotrs_(const char* uplo, const int* n, const int* nrhs, const double* a, const int* lda, double* b,
                        const int* ldb, int* info);

namespace atomfp {

void symmetric_eigen(int n, std::vector<double>& matrix, std::vector<double>& eigenvalues) {
    if (n <= 0) return;
    if (matrix.size() != static_cast<std::size_t>(n) * n) fail(Status::internal, "symmetric_eigen: matrix has the wrong size");
    eigenvalues.assign(n, 0.0);
    const char jobz = 'V', uplo = 'U';
    int info = 0, query = -1;
    double optimal = 0.0;
    dsyev_(&jobz, &uplo, &n, matrix.data(), &n, eigenvalues.data(), &optimal, &query, &info);
    int lwork = static_cast<int>(optimal);
    std::vector<double> work(lwork > 0 ? lwork : 3 * n);
    lwork = static_cast<int>(work.size());
    // Column-major eigenvectors read as row-major are the rows of the result.
    dsyev_(&jobz, &uplo, &n, matrix.data(), &n, eigenvalues.data(), work.data(), &lwork, &info);
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
        dpotrf_(&uplo, &n, a.data(), &n, &info);
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
    dpotrs_(&uplo, &n, &one, a.data(), &n, b.data(), &n, &info);
    if (info != 0) fail(Status::linalg, "LAPACK dpotrs failed (info = ", info, ")");
    return used;
}

}  // namespace atomfp
