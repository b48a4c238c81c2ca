#include "core/lapack.hpp"

#include "core/error.hpp"

extern "C" void dsyev_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda, double* w,
                       double* work, const int* lwork, int* info);

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

}  // namespace atomfp
