#include "models/variance.hpp"

#include "core/blas.hpp"
#include "core/error.hpp"
#include "core/small_kernels.hpp"

#include <algorithm>
#include <cmath>

namespace atomfp {

namespace {

void check_triangle(const std::vector<double>& t, int64_t n, const char* what) {
    if (static_cast<int64_t>(t.size()) != n * n) fail(Status::invalid_argument, what, " has ", t.size(), " entries, not ", n, " x ", n);
    for (double x : t)
        if (!std::isfinite(x)) fail(Status::invalid_argument, what, " has an entry that is not finite");
    for (int64_t i = 0; i < n; ++i)
        if (t[i * n + i] == 0.0) fail(Status::invalid_argument, what, " is singular (diagonal entry ", i, " is 0)");
}

double squared_norm(const double* x, int64_t n) { return dot(x, x, n); }

double checked_scale(double scale) {
    if (!(scale > 0.0) || !std::isfinite(scale)) fail(Status::invalid_argument, "the variance scale ", scale, " is not positive");
    return scale;
}

}  // namespace

PosteriorCovariance::PosteriorCovariance(std::vector<std::vector<double>> prior_factors, std::vector<double> weight_factor,
                                         double scale)
    : prior_factors_(std::move(prior_factors)), weight_factor_(std::move(weight_factor)), scale_(checked_scale(scale)) {
    offsets_.push_back(0);
    for (const std::vector<double>& L : prior_factors_) {
        const auto m = static_cast<int64_t>(std::llround(std::sqrt(static_cast<double>(L.size()))));
        check_triangle(L, m, "a prior factor");
        offsets_.push_back(offsets_.back() + m);
    }
    size_ = offsets_.back();
    check_triangle(weight_factor_, size_, "the weight factor");
}

PosteriorCovariance PosteriorCovariance::with_scale(double scale) const {
    PosteriorCovariance out = *this;
    out.scale_ = checked_scale(scale);
    return out;
}

void PosteriorCovariance::centre_variances(std::size_t b, int64_t n, const double* K, const double* prior, double* out,
                                           double* gradient) const {
    const int64_t m = block_size(b), offset = offsets_[b], tail = size_ - offset;
    if (n == 0) return;
    // L_b⁻¹ k_c, row by row.
    std::vector<double> whitened(K, K + n * m);
    triangular_solve_rows(true, false, m, prior_factors_[b].data(), m, n, whitened.data(), m);
    // R⁻ᵀ k̃_c: k̃_c is zero before the block's columns, so is the solution; the trailing triangle of
    // R does the rest.
    std::vector<double> posterior(static_cast<std::size_t>(n) * tail, 0.0);
    for (int64_t c = 0; c < n; ++c) std::copy_n(K + c * m, m, posterior.data() + c * tail);
    triangular_solve_rows(false, true, tail, weight_factor_.data() + offset * size_ + offset, size_, n, posterior.data(), tail);
    for (int64_t c = 0; c < n; ++c) {
        out[c] = scale_ * (prior[c] - squared_norm(whitened.data() + c * m, m) + squared_norm(posterior.data() + c * tail, tail));
    }
    if (!gradient) return;
    // K̃_b⁻¹ k_c = L_b⁻ᵀ (L_b⁻¹ k_c); [(RᵀR)⁻¹ k̃_c]_b = the leading M_b entries of R_t⁻¹ (R_t⁻ᵀ k̃_c)
    // with R_t the trailing triangle from the block's first column on: back substitution finds the
    // entries from that column on without the rows above it.
    triangular_solve_rows(true, true, m, prior_factors_[b].data(), m, n, whitened.data(), m);
    triangular_solve_rows(false, false, tail, weight_factor_.data() + offset * size_ + offset, size_, n, posterior.data(), tail);
    for (int64_t c = 0; c < n; ++c) {
        for (int64_t j = 0; j < m; ++j) {
            gradient[c * m + j] = 2.0 * scale_ * (posterior[c * tail + j] - whitened[c * m + j]);
        }
    }
}

double PosteriorCovariance::structure_variance(const std::vector<std::vector<double>>& kernel_sums,
                                               const std::vector<double>& prior_sums) const {
    if (kernel_sums.size() != n_blocks() || prior_sums.size() != n_blocks()) {
        fail(Status::internal, "structure_variance: one kernel sum and one prior sum per block");
    }
    double total = 0.0;
    std::vector<double> all(size_, 0.0);
    for (std::size_t b = 0; b < n_blocks(); ++b) {
        const int64_t m = block_size(b);
        std::vector<double> whitened = kernel_sums[b];
        if (static_cast<int64_t>(whitened.size()) != m) fail(Status::internal, "structure_variance: kernel sum of the wrong size");
        triangular_solve_rows(true, false, m, prior_factors_[b].data(), m, 1, whitened.data(), m);
        total += prior_sums[b] - squared_norm(whitened.data(), m);
        std::copy(kernel_sums[b].begin(), kernel_sums[b].end(), all.begin() + offsets_[b]);
    }
    triangular_solve_rows(false, true, size_, weight_factor_.data(), size_, 1, all.data(), size_);
    return scale_ * (total + squared_norm(all.data(), size_));
}

}  // namespace atomfp
