#include "descriptors/radial_basis.hpp"

#include "core/error.hpp"
#include "core/special_functions.hpp"

#include <algorithm>
#include <cmath>

namespace atomfp {

GtoRadialIntegral::GtoRadialIntegral(int n_radial, int max_angular, double cutoff, double gaussian_width)
    : n_(n_radial), l_max_(max_angular), a_(0.5 / (gaussian_width * gaussian_width)) {
    for (int n = 0; n < n_; ++n) {
        const double width = cutoff * std::max(std::sqrt(static_cast<double>(n)), 1.0) / n_;
        exponents_.push_back(0.5 / (width * width));
    }
    // Overlap of the normalised primitives, int r^(2+n+n') e^{-(b_n+b_n') r^2} dr, in extended
    // precision: its condition number grows to ~1e14 at n_max = 20.
    auto moment = [](int power, long double exponent) {  // int_0^inf r^power e^{-exponent r^2} dr
        return std::exp(std::lgamma(0.5L * (power + 1)) - 0.5L * (power + 1) * std::log(exponent)) / 2.0L;
    };
    std::vector<long double> norm(n_), overlap(static_cast<std::size_t>(n_) * n_);
    for (int n = 0; n < n_; ++n) norm[n] = 1.0L / std::sqrt(moment(2 + 2 * n, 2.0L * exponents_[n]));
    for (int n = 0; n < n_; ++n) {
        for (int m = 0; m < n_; ++m) {
            overlap[n * n_ + m] = norm[n] * norm[m] * moment(2 + n + m, static_cast<long double>(exponents_[n]) + exponents_[m]);
        }
    }
    const std::vector<long double> inverse_sqrt = inverse_sqrt_spd(overlap, n_);
    contraction_.resize(overlap.size());
    for (int n = 0; n < n_; ++n) {
        for (int k = 0; k < n_; ++k) contraction_[n * n_ + k] = inverse_sqrt[n * n_ + k] * norm[k];
    }
}

void GtoRadialIntegral::evaluate(double x, double* values, double* derivatives) const {
    double primitive[64], primitive_derivative[64];  // one k, all l
    std::fill(values, values + n_functions(), 0.0);
    std::fill(derivatives, derivatives + n_functions(), 0.0);
    for (int k = 0; k < n_; ++k) {
        for (int l = 0; l <= l_max_; ++l) {
            gaussian_bessel_integral(k, l, a_, exponents_[k], x, primitive[l], primitive_derivative[l]);
        }
        for (int n = 0; n < n_; ++n) {
            const double w = static_cast<double>(contraction_[n * n_ + k]);
            for (int l = 0; l <= l_max_; ++l) {
                values[l * n_ + n] += w * primitive[l];
                derivatives[l * n_ + n] += w * primitive_derivative[l];
            }
        }
    }
}

DvrRadialIntegral::DvrRadialIntegral(int n_radial, int max_angular, double cutoff, double gaussian_width)
    : l_max_(max_angular), a_(0.5 / (gaussian_width * gaussian_width)) {
    gauss_legendre(n_radial, 0.0, cutoff, nodes_, weights_);
}

void DvrRadialIntegral::evaluate(double x, double* values, double* derivatives) const {
    const int n_max = n_radial();
    for (int n = 0; n < n_max; ++n) {
        const double r = nodes_[n];
        const double scale = std::sqrt(weights_[n]) * r * r;
        for (int l = 0; l <= l_max_; ++l) {
            double v, d;
            scaled_bessel_product(l, a_, r, x, v, d);
            values[l * n_max + n] = scale * v;
            derivatives[l * n_max + n] = scale * d;
        }
    }
}

ContractedRadialIntegral::ContractedRadialIntegral(std::shared_ptr<const RadialIntegral> primitive,
                                                   std::vector<std::vector<double>> contraction, int n_contracted)
    : primitive_(std::move(primitive)), contraction_(std::move(contraction)), q_(n_contracted) {
    const std::size_t expected = static_cast<std::size_t>(q_) * primitive_->n_radial();
    if (static_cast<int>(contraction_.size()) != primitive_->max_angular() + 1) {
        fail(Status::invalid_argument, "contraction needs one matrix per l");
    }
    for (const auto& u : contraction_) {
        if (u.size() != expected) fail(Status::invalid_argument, "contraction matrix has the wrong size");
    }
}

void ContractedRadialIntegral::evaluate(double x, double* values, double* derivatives) const {
    const int n_primitive = primitive_->n_radial(), L1 = max_angular() + 1;
    std::vector<double> v(primitive_->n_functions()), d(primitive_->n_functions());
    primitive_->evaluate(x, v.data(), d.data());
    for (int q = 0; q < q_; ++q) {
        for (int l = 0; l < L1; ++l) {
            const double* u = contraction_[l].data() + static_cast<std::size_t>(q) * n_primitive;
            double sv = 0.0, sd = 0.0;
            for (int n = 0; n < n_primitive; ++n) {
                sv += u[n] * v[l * n_primitive + n];
                sd += u[n] * d[l * n_primitive + n];
            }
            values[l * q_ + q] = sv;
            derivatives[l * q_ + q] = sd;
        }
    }
}

namespace {

struct Samples {
    std::vector<double> values, derivatives;  // [point][function]
};

Samples sample(const RadialIntegral& exact, const std::vector<double>& points) {
    const std::size_t f = exact.n_functions();
    Samples s;
    s.values.resize(points.size() * f);
    s.derivatives.resize(points.size() * f);
    for (std::size_t p = 0; p < points.size(); ++p) exact.evaluate(points[p], &s.values[p * f], &s.derivatives[p * f]);
    return s;
}

}  // namespace

RadialSpline::RadialSpline(const RadialIntegral& exact, double cutoff, double accuracy)
    : n_functions_(exact.n_functions()) {
    const int f = n_functions_;
    const int max_intervals = 1 << 13;
    int n = 32;
    std::vector<double> nodes(n + 1);
    for (int i = 0; i <= n; ++i) nodes[i] = cutoff * i / n;
    Samples at_nodes = sample(exact, nodes);
    // Tables beyond this many numbers (256 MB) are refused rather than attempted.
    const double max_table_entries = static_cast<double>(1 << 25);
    for (;;) {
        if (4.0 * n * f > max_table_entries) {
            fail(Status::json_error, "the radial spline table would need ", 4.0 * n * f * 8 / 1048576.0, " MB (", f,
                 " functions x ", n, " intervals); reduce max_radial, max_angular or raise spline_accuracy");
        }
        const double h = cutoff / n;
        coefficients_.assign(static_cast<std::size_t>(n) * 4 * f, 0.0);
        for (int i = 0; i < n; ++i) {
            double* c = &coefficients_[static_cast<std::size_t>(i) * 4 * f];
            for (int k = 0; k < f; ++k) {
                const double f0 = at_nodes.values[i * f + k], f1 = at_nodes.values[(i + 1) * f + k];
                const double d0 = h * at_nodes.derivatives[i * f + k], d1 = h * at_nodes.derivatives[(i + 1) * f + k];
                c[k] = f0;
                c[f + k] = d0;
                c[2 * f + k] = 3.0 * (f1 - f0) - 2.0 * d0 - d1;
                c[3 * f + k] = 2.0 * (f0 - f1) + d0 + d1;
            }
        }
        n_intervals_ = n;
        inverse_step_ = 1.0 / h;
        std::vector<double> midpoints(n);
        for (int i = 0; i < n; ++i) midpoints[i] = cutoff * (i + 0.5) / n;
        Samples at_midpoints = sample(exact, midpoints);
        std::vector<double> v(f);
        achieved_ = 0.0;
        for (int i = 0; i < n; ++i) {
            evaluate(midpoints[i], v.data(), nullptr);
            for (int k = 0; k < f; ++k) achieved_ = std::max(achieved_, std::abs(v[k] - at_midpoints.values[i * f + k]));
        }
        if (!std::isfinite(achieved_)) fail(Status::internal, "radial integrals are not finite on the spline grid");
        if (achieved_ <= accuracy) return;
        if (2 * n > max_intervals) {
            fail(Status::json_error, "key 'spline_accuracy' = ", accuracy, " cannot be reached with ", max_intervals,
                 " spline intervals (best ", achieved_, "); use a larger value");
        }
        // The midpoints become nodes of the refined grid.
        Samples merged;
        merged.values.resize(static_cast<std::size_t>(2 * n + 1) * f);
        merged.derivatives.resize(merged.values.size());
        for (int i = 0; i <= 2 * n; ++i) {
            const Samples& from = (i % 2 == 0) ? at_nodes : at_midpoints;
            const int j = i / 2;
            std::copy_n(&from.values[j * f], f, &merged.values[i * f]);
            std::copy_n(&from.derivatives[j * f], f, &merged.derivatives[i * f]);
        }
        at_nodes = std::move(merged);
        n *= 2;
    }
}

}  // namespace atomfp
