// Real spherical harmonics Y_lm (orthonormal on the unit sphere, no Condon–Shortley phase:
// Y_1,-1 ∝ y, Y_10 ∝ z, Y_11 ∝ x) and their gradients, for l <= max_spherical_harmonic_degree.
//
// Y_lm(u) = N_lm Q_l^|m|(z) {Re, Im}(x + i y)^|m| with Q_l^m = d^m P_l / dz^m, evaluated by the
// stable upward recurrence in l. The gradient with respect to r = |r| u is the tangential part of
// the gradient of that polynomial extension, divided by r; no 1/sin(theta) appears, so points on
// the z axis are ordinary.
#pragma once

#include <cstdint>
#include <vector>

namespace atomfp {

constexpr int max_spherical_harmonic_degree = 20;

class SphericalHarmonics {
public:
    explicit SphericalHarmonics(int max_angular);  // throws Error(invalid_argument) above the maximum

    int max_angular() const { return max_l_; }
    // Number of (l, m) pairs; index l*l + l + m.
    int size() const { return (max_l_ + 1) * (max_l_ + 1); }

    // u must be a unit vector. values[size()]; if gradients is not NULL it receives
    // gradients[3][size()] = d Y_lm(r / |r|) / d r at |r| = 1 (divide by |r| for other lengths).
    void evaluate(const double u[3], double* values, double* gradients) const;
    // evaluate() for n unit vectors units[n][3] at once, values[n][size()] and, unless NULL,
    // gradients[n][3][size()]: four vectors per pass, one per vector lane (the same results as n
    // single calls, bit for bit).
    void evaluate_many(int64_t n, const double* units, double* values, double* gradients) const;

private:
    int max_l_;
    // The recurrence runs on normalised P_l^m = N_lm Q_l^m directly (N includes sqrt(2) for m > 0):
    // P_m^m = diagonal_[m], P_{m+1}^m = sqrt(2m+3) z P_m^m, P_l^m = a z P_{l-1}^m - b P_{l-2}^m.
    std::vector<double> diagonal_, subdiagonal_;       // [m]: P_m^m and sqrt(2m+3)
    std::vector<double> recurrence_a_, recurrence_b_;  // [l*(l+1)/2 + m]
    std::vector<double> derivative_ratio_;             // [l*(l+1)/2 + m]: N_lm / N_l,m+1 (m < l)
};

}  // namespace atomfp
