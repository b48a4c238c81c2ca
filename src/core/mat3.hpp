// 3x3 matrices stored row-major as double[9]; lattice vectors are rows.
#pragma once

#include <array>

namespace atomfp {

using Mat3 = std::array<double, 9>;

double determinant(const Mat3& m);
// Throws Error(invalid_argument) if |det| is tiny relative to the matrix scale.
Mat3 inverse(const Mat3& m);
bool all_finite(const double* values, long n);

}  // namespace atomfp
