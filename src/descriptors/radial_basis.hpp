// Radial integrals of the SOAP density expansion (conventions in docs/soap.md):
//   I_nl(x) = int_0^inf r^2 R_n(r) exp(-(r^2 + x^2) / (2 sigma^2)) i_l(r x / sigma^2) dr
// for the orthonormal GTO basis, the Gauss–Legendre DVR basis and contractions of either (the
// data-driven "optimal" basis), plus the cubic-spline tables that the descriptors evaluate.
#pragma once

#include <memory>
#include <vector>

namespace atomfp {

// Exact integrals I_nl(x) for n < n_radial(), l <= max_angular(); function index l * n_radial() + n.
class RadialIntegral {
public:
    virtual ~RadialIntegral() = default;
    virtual int n_radial() const = 0;
    virtual int max_angular() const = 0;
    int n_functions() const { return n_radial() * (max_angular() + 1); }
    virtual void evaluate(double x, double* values, double* derivatives) const = 0;
};

// Gaussian-type orbitals r^n exp(-b_n r^2), b_n = 1/(2 sigma_n^2), sigma_n = r_c max(sqrt n, 1) / n_max,
// Löwdin-orthonormalised in extended precision.
class GtoRadialIntegral final : public RadialIntegral {
public:
    GtoRadialIntegral(int n_radial, int max_angular, double cutoff, double gaussian_width);
    int n_radial() const override { return n_; }
    int max_angular() const override { return l_max_; }
    void evaluate(double x, double* values, double* derivatives) const override;

    double exponent(int n) const { return exponents_[n]; }
    // R_n(r) = sum_k orthonormaliser(n, k) r^k exp(-b_k r^2)
    double orthonormaliser(int n, int k) const { return static_cast<double>(contraction_[n * n_ + k]); }
    long double orthonormaliser_extended(int n, int k) const { return contraction_[n * n_ + k]; }

private:
    int n_, l_max_;
    double a_;  // 1 / (2 sigma^2)
    std::vector<double> exponents_;
    std::vector<long double> contraction_;  // S^{-1/2} times the primitive normalisation, row n
};

// Discrete variable representation: Gauss–Legendre nodes r_n and weights w_n on [0, r_c],
// I_nl(x) = sqrt(w_n) r_n^2 exp(-(r_n^2 + x^2) / (2 sigma^2)) i_l(r_n x / sigma^2).
class DvrRadialIntegral final : public RadialIntegral {
public:
    DvrRadialIntegral(int n_radial, int max_angular, double cutoff, double gaussian_width);
    int n_radial() const override { return static_cast<int>(nodes_.size()); }
    int max_angular() const override { return l_max_; }
    void evaluate(double x, double* values, double* derivatives) const override;

    double node(int n) const { return nodes_[n]; }
    double weight(int n) const { return weights_[n]; }

private:
    int l_max_;
    double a_;
    std::vector<double> nodes_, weights_;
};

// Linear combinations of a primitive basis: I_ql(x) = sum_n U^l_{qn} I_nl(x), one matrix per l
// (row-major q_max x n_primitive).
class ContractedRadialIntegral final : public RadialIntegral {
public:
    ContractedRadialIntegral(std::shared_ptr<const RadialIntegral> primitive, std::vector<std::vector<double>> contraction,
                             int n_contracted);
    int n_radial() const override { return q_; }
    int max_angular() const override { return primitive_->max_angular(); }
    void evaluate(double x, double* values, double* derivatives) const override;

private:
    std::shared_ptr<const RadialIntegral> primitive_;
    std::vector<std::vector<double>> contraction_;
    int q_;
};

// Cubic Hermite interpolation of all functions of a RadialIntegral on a uniform grid over
// [0, cutoff], refined by halving until the largest value error at the interval midpoints is at
// most `accuracy`. Values and derivatives come from the same cubic, so they are consistent.
class RadialSpline {
public:
    RadialSpline(const RadialIntegral& exact, double cutoff, double accuracy);

    int n_functions() const { return n_functions_; }
    int n_intervals() const { return n_intervals_; }
    double achieved_accuracy() const { return achieved_; }

    // x in [0, cutoff]; values and derivatives [n_functions] (derivatives may be NULL).
    inline void evaluate(double x, double* values, double* derivatives) const;

private:
    int n_functions_ = 0, n_intervals_ = 0;
    double inverse_step_ = 0.0, achieved_ = 0.0;
    std::vector<double> coefficients_;  // [interval][4][function], polynomial in t = x/h - interval
};

inline void RadialSpline::evaluate(double x, double* values, double* derivatives) const {
    double s = x * inverse_step_;
    int i = static_cast<int>(s);
    if (i >= n_intervals_) i = n_intervals_ - 1;
    if (i < 0) i = 0;
    const double t = s - i;
    const int f = n_functions_;
    const double* c = coefficients_.data() + static_cast<std::size_t>(i) * 4 * f;
    const double* c0 = c;
    const double* c1 = c + f;
    const double* c2 = c + 2 * f;
    const double* c3 = c + 3 * f;
    for (int k = 0; k < f; ++k) values[k] = c0[k] + t * (c1[k] + t * (c2[k] + t * c3[k]));
    if (derivatives) {
        const double t2 = 2.0 * t, t3 = 3.0 * t * t;
        for (int k = 0; k < f; ++k) derivatives[k] = (c1[k] + t2 * c2[k] + t3 * c3[k]) * inverse_step_;
    }
}

}  // namespace atomfp
