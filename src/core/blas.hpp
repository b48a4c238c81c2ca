// Row-major wrappers over the Fortran BLAS interface (any vendor: OpenBLAS, reference BLAS, MKL).
#pragma once

#include <cstdint>

namespace atomfp {

// C (m x n) = alpha op(A) op(B) + beta C, all row-major with leading dimensions lda, ldb, ldc.
void gemm(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k, double alpha, const double* a,
          int64_t lda, const double* b, int64_t ldb, double beta, double* c, int64_t ldc);

}  // namespace atomfp
