// Row-major wrappers over the Fortran BLAS interface (any vendor: OpenBLAS, reference BLAS, MKL).
#pragma once

#include <cstddef>
#include <cstdint>

namespace atomfp {

// The hidden length that Fortran passes, by value after all other arguments, for every character
// argument (`transa`, `jobz`, `uplo`, ...): size_t with gfortran >= 8, which builds Debian's BLAS and
// LAPACK. Leaving it out is undefined behaviour that link-time optimisation or a tail call in the
// Fortran routine can turn into reading garbage.
using FortranLength = std::size_t;

// C (m x n) = alpha op(A) op(B) + beta C, all row-major with leading dimensions lda, ldb, ldc.
void gemm(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k, double alpha, const double* a,
          int64_t lda, const double* b, int64_t ldb, double beta, double* c, int64_t ldc);

// y [m] = alpha A x + beta y for row-major A (m x n, leading dimension lda). A matrix-vector
// product through gemm would copy (pack) all of A first; this reads it once.
void gemv(int64_t m, int64_t n, double alpha, const double* a, int64_t lda, const double* x, double beta, double* y);

// Replaces every row b of the row-major B [rows][n] (leading dimension ldb) by the x with
// op(T) x = b, for the triangle of the row-major T [n][n] (leading dimension ldt) that `lower` names
// (the other is not read); op(T) = T^T when `transpose`. Many right-hand sides in one dtrsm.
void triangular_solve_rows(bool lower, bool transpose, int64_t n, const double* t, int64_t ldt, int64_t rows, double* b,
                           int64_t ldb);

}  // namespace atomfp
