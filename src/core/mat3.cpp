#include "core/mat3.hpp"

#include "core/error.hpp"

#include <cmath>

namespace atomfp {

double determinant(const Mat3& m) {
    return m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) +
           m[2] * (m[3] * m[7] - m[4] * m[6]);
}

Mat3 inverse(const Mat3& m) {
    double det = determinant(m);
    double scale = 0.0;
    for (double x : m) scale = std::fmax(scale, std::fabs(x));
    if (!(std::fabs(det) > 1e-12 * scale * scale * scale)) {
        fail(Status::invalid_argument, "the cell is singular (determinant ", det, ")");
    }
    double inv_det = 1.0 / det;
    return {(m[4] * m[8] - m[5] * m[7]) * inv_det, (m[2] * m[7] - m[1] * m[8]) * inv_det,
            (m[1] * m[5] - m[2] * m[4]) * inv_det, (m[5] * m[6] - m[3] * m[8]) * inv_det,
            (m[0] * m[8] - m[2] * m[6]) * inv_det, (m[2] * m[3] - m[0] * m[5]) * inv_det,
            (m[3] * m[7] - m[4] * m[6]) * inv_det, (m[1] * m[6] - m[0] * m[7]) * inv_det,
            (m[0] * m[4] - m[1] * m[3]) * inv_det};
}

bool all_finite(const double* values, long n) {
    for (long i = 0; i < n; ++i) {
        if (!std::isfinite(values[i])) return false;
    }
    return true;
}

}  // namespace atomfp
