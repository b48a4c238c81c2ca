// Thin wrappers over the Fortran LAPACK interface (any vendor).
#pragma once

#include <vector>

namespace atomfp {

// Eigen-decomposition of a symmetric n x n matrix (dsyev). On return `matrix` holds the
// eigenvectors as rows (row k belongs to eigenvalue k) and `eigenvalues` is ascending.
// Throws Error(linalg) if LAPACK fails.
void symmetric_eigen(int n, std::vector<double>& matrix, std::vector<double>& eigenvalues);

// Solves A x = b for a symmetric positive (semi-)definite n x n matrix by Cholesky factorisation
// (dpotrf/dpotrs). If the factorisation fails, jitter * (mean diagonal) is added to the diagonal,
// starting at `jitter` and growing tenfold up to 1e-6; returns the relative jitter finally used
// (0 if none was needed). Throws Error(linalg) if even that fails. `a` is overwritten.
double cholesky_solve(int n, std::vector<double>& a, std::vector<double>& b, double jitter);

}  // namespace atomfp
