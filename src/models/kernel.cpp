#include "models/kernel.hpp"

#include "core/blas.hpp"
#include "core/error.hpp"
#include "core/scratch.hpp"
#include "core/small_kernels.hpp"

#include <algorithm>
#include <cmath>

namespace atomfp {

Kernel Kernel::from_json(const json& spec) {
    if (!spec.is_object()) fail(Status::json_error, "a kernel must be a JSON object");
    SpecReader r(spec, "kernel");
    Kernel k;
    const std::string type = r.string("type", std::nullopt, {"linear", "polynomial", "squared_exponential"});
    if (type == "linear") {
        k.kind_ = KernelKind::linear;
    } else if (type == "polynomial") {
        k.kind_ = KernelKind::polynomial;
        // Integer powers keep (x^ . s^)^zeta real for negative cosines.
        k.zeta_ = static_cast<double>(r.integer("zeta", 2, 1, 64));
    } else {
        k.kind_ = KernelKind::squared_exponential;
        k.gamma_ = r.number("gamma", 1.0, 0.0, 1e12, true);
    }
    r.finish();
    return k;
}

Kernel Kernel::with_parameter(double value) const {
    json spec = to_json();
    if (kind_ == KernelKind::linear) fail(Status::invalid_argument, "the linear kernel has no parameter to scan");
    if (kind_ == KernelKind::polynomial) {
        if (value != std::floor(value)) fail(Status::invalid_argument, "zeta must be an integer, got ", value);
        spec["zeta"] = static_cast<int64_t>(value);
    } else {
        spec["gamma"] = value;
    }
    return from_json(spec);
}

json Kernel::to_json() const {
    switch (kind_) {
        case KernelKind::linear: return {{"type", "linear"}};
        case KernelKind::polynomial: return {{"type", "polynomial"}, {"zeta", static_cast<int64_t>(zeta_)}};
        case KernelKind::squared_exponential: return {{"type", "squared_exponential"}, {"gamma", gamma_}};
    }
    return {};
}

std::vector<double> squared_row_norms(int64_t n, int64_t d, const double* X) {
    std::vector<double> out(n);
    for (int64_t i = 0; i < n; ++i) out[i] = dot(X + i * d, X + i * d, d);
    return out;
}

namespace {

std::vector<double> row_norms(int64_t n, int64_t d, const double* X) {
    std::vector<double> norms(n);
    for (int64_t i = 0; i < n; ++i) {
        double s = 0.0;
        for (int64_t k = 0; k < d; ++k) s += X[i * d + k] * X[i * d + k];
        norms[i] = std::sqrt(s);
    }
    return norms;
}

// Squared distances |x_i - s_m|^2 = |x_i|^2 + |s_m|^2 - 2 x_i . s_m from the products in K (in
// place); the references' squared norms are computed here unless given.
void squared_distances(int64_t n, const double* X, int64_t m, const double* S, int64_t d, double* K,
                       const double* s_squared_norms) {
    const std::vector<double> x_norms = row_norms(n, d, X);
    std::vector<double> computed;
    if (!s_squared_norms) {
        computed = squared_row_norms(m, d, S);
        s_squared_norms = computed.data();
    }
    for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < m; ++j) {
            K[i * m + j] = std::max(x_norms[i] * x_norms[i] + s_squared_norms[j] - 2.0 * K[i * m + j], 0.0);
        }
}

}  // namespace

void Kernel::prepare_references(int64_t n, int64_t d, double* rows) const {
    if (kind_ != KernelKind::polynomial) return;
    const std::vector<double> norms = row_norms(n, d, rows);
    for (int64_t i = 0; i < n; ++i) {
        if (!(norms[i] > 0.0)) fail(Status::invalid_argument, "reference environment ", i, " has an all-zero feature vector");
        for (int64_t k = 0; k < d; ++k) rows[i * d + k] /= norms[i];
    }
}

void Kernel::matrix(int64_t n, const double* X, int64_t m, const double* S, int64_t d, double* K,
                    const double* s_squared_norms) const {
    if (m == 0 || n == 0) return;
    gemm(false, true, n, m, d, 1.0, X, d, S, d, 0.0, K, m);
    if (kind_ == KernelKind::polynomial) {
        const std::vector<double> norms = row_norms(n, d, X);
        const int power = static_cast<int>(zeta_);
        for (int64_t i = 0; i < n; ++i) {
            const double inverse = norms[i] > 0.0 ? 1.0 / norms[i] : 0.0;
            for (int64_t j = 0; j < m; ++j) K[i * m + j] = integer_power(K[i * m + j] * inverse, power);
        }
    } else if (kind_ == KernelKind::squared_exponential) {
        squared_distances(n, X, m, S, d, K, s_squared_norms);
        for (int64_t k = 0; k < n * m; ++k) K[k] = std::exp(-gamma_ * K[k]);
    }
}

void Kernel::weighted_gradient(int64_t n, const double* X, int64_t m, const double* S, int64_t d, const double* alpha,
                               double* G, double* values) const {
    std::vector<double> scratch;
    weighted_gradient(n, X, m, S, d, alpha, G, values, scratch, nullptr);
}

void Kernel::weighted_gradient(int64_t n, const double* X, int64_t m, const double* S, int64_t d, const double* alpha,
                               double* G, double* values, std::vector<double>& scratch, const double* s_squared_norms) const {
    if (m == 0) {
        std::fill(G, G + n * d, 0.0);
        if (values) std::fill(values, values + n, 0.0);
        return;
    }
    double* C = sized(scratch, static_cast<std::size_t>(n) * m + m + n);
    double* powers = C + n * m;  // one row's cosines to the power zeta - 1
    double* along = powers + m;  // per row: the gradient's component along x_i itself
    gemm(false, true, n, m, d, 1.0, X, d, S, d, 0.0, C, m);
    if (kind_ == KernelKind::linear) {
        // Every row has the same gradient sum_m alpha_m s_m.
        gemm(false, false, 1, d, m, 1.0, alpha, m, S, d, 0.0, G, d);
        for (int64_t i = 0; i < n; ++i) {
            if (i > 0) std::copy_n(G, d, G + i * d);
            if (values) values[i] = dot(alpha, C + i * m, m);
        }
        return;
    }
    // C[i][m] becomes alpha_m dk/d(inner quantity); then G = C S plus a term along x_i.
    if (kind_ == KernelKind::polynomial) {
        const std::vector<double> norms = row_norms(n, d, X);
        const int power = static_cast<int>(zeta_);
        for (int64_t i = 0; i < n; ++i) {
            const double inverse = norms[i] > 0.0 ? 1.0 / norms[i] : 0.0;
            double* row = C + i * m;
            for (int64_t j = 0; j < m; ++j) row[j] *= inverse;  // cosines
            std::fill(powers, powers + m, 1.0);
            for (int p = 1; p < power; ++p)
                for (int64_t j = 0; j < m; ++j) powers[j] *= row[j];
            double value = 0.0;
            for (int64_t j = 0; j < m; ++j) {
                value += alpha[j] * powers[j] * row[j];
                row[j] = alpha[j] * zeta_ * powers[j] * inverse;  // d/dx of cosine = (s^ - cosine x^) / |x|
            }
            if (values) values[i] = value;
            along[i] = -zeta_ * value * inverse * inverse;  // times x_i: -(sum a cosine) x^ / |x|
        }
    } else {
        squared_distances(n, X, m, S, d, C, s_squared_norms);
        for (int64_t i = 0; i < n; ++i) {
            double value = 0.0;
            for (int64_t j = 0; j < m; ++j) {
                const double weighted = alpha[j] * std::exp(-gamma_ * C[i * m + j]);
                value += weighted;
                C[i * m + j] = 2.0 * gamma_ * weighted;  // -2 gamma k (x - s): the s part
            }
            if (values) values[i] = value;
            along[i] = -2.0 * gamma_ * value;
        }
    }
    gemm(false, false, n, d, m, 1.0, C, m, S, d, 0.0, G, d);
    for (int64_t i = 0; i < n; ++i)
        for (int64_t k = 0; k < d; ++k) G[i * d + k] += along[i] * X[i * d + k];
}

void Kernel::derivative_factors(int64_t n, const double* X, int64_t m, const double* S, int64_t d, double* A, double* B,
                                double* K) const {
    if (n == 0 || m == 0) return;
    std::vector<double> inner(static_cast<std::size_t>(n) * m);
    gemm(false, true, n, m, d, 1.0, X, d, S, d, 0.0, inner.data(), m);  // x_i . s_j
    if (kind_ == KernelKind::linear) {
        std::fill(A, A + n * m, 1.0);
        std::fill(B, B + n * m, 0.0);
        if (K) std::copy(inner.begin(), inner.end(), K);
        return;
    }
    if (kind_ == KernelKind::polynomial) {
        // k = c^zeta with c = x . s^ / |x|; dc/dx = s^ / |x| - c x / |x|^2
        const std::vector<double> norms = row_norms(n, d, X);
        const int power = static_cast<int>(zeta_);
        for (int64_t i = 0; i < n; ++i) {
            const double inverse = norms[i] > 0.0 ? 1.0 / norms[i] : 0.0;
            for (int64_t j = 0; j < m; ++j) {
                const int64_t ij = i * m + j;
                const double cosine = inner[ij] * inverse, lower = integer_power(cosine, power - 1);
                A[ij] = zeta_ * lower * inverse;
                B[ij] = -zeta_ * lower * cosine * inverse * inverse;
                if (K) K[ij] = lower * cosine;
            }
        }
    } else {
        // k = exp(-gamma |x - s|^2); dk/dx = 2 gamma k s - 2 gamma k x
        squared_distances(n, X, m, S, d, inner.data(), nullptr);
        for (int64_t ij = 0; ij < n * m; ++ij) {
            const double k = std::exp(-gamma_ * inner[ij]);
            A[ij] = 2.0 * gamma_ * k;
            B[ij] = -A[ij];
            if (K) K[ij] = k;
        }
    }
}

}  // namespace atomfp
