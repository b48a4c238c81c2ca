// Thin wrappers over the Fortran LAPACK interface (any vendor).
#pragma once

#include <vector>

namespace atomfp {

// Eigen-decomposition of a symmetric n x n matrix (dsyev). On return `matrix` holds the
// eigenvectors as rows (row k belongs to eigenvalue k) and `eigenvalues` is ascending.
// Throws Error(linalg) if LAPACK fails.
void symmetric_eigen(int n, std::vector<double>& matrix, std::vector<double>& eigenvalues);

}  // namespace atomfp
