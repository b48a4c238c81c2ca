#include "core/blas.hpp"

#include "core/error.hpp"

#include <limits>

extern "C" void dgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k,
                       const double* alpha, const double* a, const int* lda, const double* b, const int* ldb,
                       const double* beta, double* c, const int* ldc, atomfp::FortranLength transa_length,
                       atomfp::FortranLength transb_length);

extern "C" void dgemv_(const char* trans, const int* m, const int* n, const double* alpha, const double* a, const int* lda,
                       const double* x, const int* incx, const double* beta, double* y, const int* incy,
                       atomfp::FortranLength trans_length);
extern "C" void dtrsm_(const char* side, const char* uplo, const char* transa, const char* diag, const int* m, const int* n,
                       const double* alpha, const double* a, const int* lda, double* b, const int* ldb,
                       atomfp::FortranLength side_length, atomfp::FortranLength uplo_length,
                       atomfp::FortranLength transa_length, atomfp::FortranLength diag_length);

namespace atomfp {

namespace {
int checked_int(int64_t value) {
    if (value < 0 || value > std::numeric_limits<int>::max()) {
        fail(Status::linalg, "matrix dimension ", value, " does not fit the BLAS integer type");
    }
    return static_cast<int>(value);
}
}  // namespace

void gemm(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k, double alpha, const double* a,
          int64_t lda, const double* b, int64_t ldb, double beta, double* c, int64_t ldc) {
    if (m == 0 || n == 0) return;
    // Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: swap the operands.
    const int M = checked_int(n), N = checked_int(m), K = checked_int(k);
    const int LDA = checked_int(ldb), LDB = checked_int(lda), LDC = checked_int(ldc);
    const char ta = transpose_b ? 'T' : 'N', tb = transpose_a ? 'T' : 'N';
    dgemm_(&ta, &tb, &M, &N, &K, &alpha, b, &LDA, a, &LDB, &beta, c, &LDC, 1, 1);
}

void gemv(int64_t m, int64_t n, double alpha, const double* a, int64_t lda, const double* x, double beta, double* y) {
    if (m == 0) return;
    // Row-major A is column-major A^T (n x m): y = (A^T)^T x.
    const int M = checked_int(n), N = checked_int(m), LDA = checked_int(lda), one = 1;
    const char trans = 'T';
    dgemv_(&trans, &M, &N, &alpha, a, &LDA, x, &one, &beta, y, &one, 1);
}

void triangular_solve_rows(bool lower, bool transpose, int64_t n, const double* t, int64_t ldt, int64_t rows, double* b,
                           int64_t ldb) {
    if (n == 0 || rows == 0) return;
    // Column-major, T is T^T (the other triangle) and the rows of B are columns: op(T) x = b is
    // T_col^T x = b without `transpose` and T_col x = b with it.
    const char side = 'L', uplo = lower ? 'U' : 'L', transa = transpose ? 'N' : 'T', diag = 'N';
    const int N = checked_int(n), R = checked_int(rows), LDT = checked_int(ldt), LDB = checked_int(ldb);
    const double one = 1.0;
    dtrsm_(&side, &uplo, &transa, &diag, &N, &R, &one, t, &LDT, b, &LDB, 1, 1, 1, 1);
}

}  // namespace atomfp
