// Kernels between descriptor vectors, evaluated in batches as BLAS products: a block of environments
// against a set of reference (sparse) environments, and the gradient with respect to the
// environments' features of a weighted sum of kernels, which is what energies and forces need.
#pragma once

#include "core/json_spec.hpp"

#include <cstdint>
#include <vector>

namespace atomfp {

enum class KernelKind {
    linear,              // k(x, s) = x . s
    polynomial,          // k(x, s) = (x^ . s^)^zeta with x^ = x / |x| (the usual SOAP kernel)
    squared_exponential  // k(x, s) = exp(-gamma |x - s|^2)
};

// |x_i|^2 for the rows of X [n][d].
std::vector<double> squared_row_norms(int64_t n, int64_t d, const double* X);

class Kernel {
public:
    // {"type": "linear" | "polynomial" | "squared_exponential", "zeta": integer 1-64 (polynomial, default 2),
    //  "gamma": > 0 (squared_exponential, default 1)}; unknown keys are errors.
    static Kernel from_json(const json& spec);
    // The same kind with its parameter (zeta or gamma) replaced; the linear kernel has none.
    Kernel with_parameter(double value) const;
    json to_json() const;

    KernelKind kind() const { return kind_; }
    double zeta() const { return zeta_; }
    double gamma() const { return gamma_; }

    // Reference rows as the kernel stores them: unit length for the polynomial kernel (a zero row
    // is an error there), unchanged otherwise. rows [n][d], in place.
    void prepare_references(int64_t n, int64_t d, double* rows) const;

    // K [n][m] = k(x_i, s_m) for environments X [n][d] and prepared references S [m][d].
    // s_squared_norms [m] (squared_row_norms of S, optional) saves recomputing them for the
    // squared-exponential kernel when S is reused.
    void matrix(int64_t n, const double* X, int64_t m, const double* S, int64_t d, double* K,
                const double* s_squared_norms = nullptr) const;

    // G [n][d] = d/dx_i sum_m alpha_m k(x_i, s_m) (alpha [m]), and optionally the values
    // values [n] = sum_m alpha_m k(x_i, s_m). A zero row x_i has zero gradient for the polynomial kernel.
    void weighted_gradient(int64_t n, const double* X, int64_t m, const double* S, int64_t d, const double* alpha,
                           double* G, double* values) const;
    // The same with caller-owned scratch, grown as needed (to n m + n + m values), and optionally
    // the references' squared norms as for matrix().
    void weighted_gradient(int64_t n, const double* X, int64_t m, const double* S, int64_t d, const double* alpha,
                           double* G, double* values, std::vector<double>& scratch, const double* s_squared_norms) const;

    // Every kernel's derivative has the form d k(x_i, s_j) / dx_i = A_ij s_j + B_ij x_i. This gives
    // A, B [n][m] (and K [n][m] = k(x_i, s_j) unless K is null) for environments X [n][d], so that a
    // feature gradient G [r][d] of environment i contracts with all m derivatives as
    // (G S^T) diag(A_i) + (G x_i) B_i: one product with S shared by every environment, instead of
    // forming and multiplying each environment's D. Zero factors for a zero x with the polynomial kernel.
    void derivative_factors(int64_t n, const double* X, int64_t m, const double* S, int64_t d, double* A, double* B,
                            double* K) const;

private:
    KernelKind kind_ = KernelKind::polynomial;
    double zeta_ = 2.0, gamma_ = 1.0;
};

}  // namespace atomfp
