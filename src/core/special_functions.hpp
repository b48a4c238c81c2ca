// Special functions behind the SOAP radial integrals. Every routine works in logarithmic scale
// internally, so that e^{-a x^2} and the exponentially growing Bessel/Kummer series never overflow
// or underflow separately; results are accurate to a few ulps times the number of series terms.
#pragma once

#include <vector>

namespace atomfp {

// log of the sum of a series of positive terms t_j, given t_{j+1}/t_j and log t_j. The ratio must
// fall below 1 for large j and be unimodal; the sum starts at the largest term and walks outwards.
template <class Ratio, class LogTerm>
double log_positive_series(Ratio ratio, LogTerm log_term);

// log 1F1(alpha; beta; z) for alpha, beta > 0 and z >= 0 (Kummer's function, positive series).
double log_kummer_m(double alpha, double beta, double z);

// log 0F1(; beta; z) for beta > 0 and z >= 0.
double log_hypergeometric_0f1(double beta, double z);

// Primitive Gaussian radial integral of docs/soap.md:
//   G(x) = int_0^inf r^(2+k) e^{-b r^2} e^{-a (r^2 + x^2)} i_l(2 a x r) dr
// and dG/dx, for the integer power k >= 0, angular momentum l >= 0, a, b > 0 and x >= 0.
void gaussian_bessel_integral(int k, int l, double a, double b, double x, double& value, double& derivative);

// e^{-a (r^2 + x^2)} i_l(2 a r x) and its derivative with respect to x, for r, x >= 0, a > 0.
void scaled_bessel_product(int l, double a, double r, double x, double& value, double& derivative);

// Gauss–Legendre nodes and weights on [lower, upper], ascending nodes.
void gauss_legendre(int n, double lower, double upper, std::vector<double>& nodes, std::vector<double>& weights);

// Inverse square root of a symmetric positive-definite matrix (row-major n x n), computed by
// Jacobi rotations in extended (long double) precision. Throws Error(linalg) if the matrix is not
// positive definite to that precision.
std::vector<long double> inverse_sqrt_spd(const std::vector<long double>& matrix, int n);

}  // namespace atomfp

#include "core/special_functions_impl.hpp"
