// Perturbation paths and their log-log slopes (Onat, Ortner & Kermode 2020, eq 30): a path R(t)
// through a reference configuration, the descriptor change |V_t - V_0| = a_k t^k + O(t^(k+1)),
// and k estimated from the small-t end of the curve. Also the directional projection of a change
// on the path's own feature-space direction (Pozdnyakov et al., eqs 15-16).
#pragma once

#include "core/system.hpp"
#include "descriptors/descriptor.hpp"

#include <cstdint>
#include <vector>

namespace atomfp {

enum class PerturbationKind {
    radial,       // the atom moves along r_ij, away from the centre, by t
    tangential,   // the atom moves on the sphere |r_ij| = const by an arc length t along `direction`
    translation,  // the atom moves by t along `direction`
    pattern       // every atom moves by t times its row of `pattern` (a displacement mode)
};

struct Perturbation {
    PerturbationKind kind = PerturbationKind::radial;
    int64_t atom = 0;              // the moved atom (radial, tangential, translation)
    double bond[3] = {0, 0, 0};    // r_ij from the centre to the moved atom's relevant image (radial, tangential)
    double direction[3] = {0, 0, 0};  // translation: any; tangential: projected perpendicular to r_ij
    std::vector<double> pattern;   // [n_atoms][3] for `pattern`
};

// Positions at amplitude t (t may be negative: the path continued backwards). Throws
// Error(invalid_argument) for a tangential direction parallel to the bond or a zero direction.
std::vector<double> perturbed_positions(const std::vector<double>& positions, const Perturbation& perturbation, double t);

// The vector from `center_atom` to the nearest listed image of `atom` among the centre's
// neighbours (index `center` of the view); throws if `atom` is not a neighbour.
void bond_to_neighbour(const SystemView& system, int64_t center, int64_t atom, double* bond);

// A curve |V_t - V_0| bottoms out at rounding noise for the smallest t: 100 times the median of
// its five smallest positive values (one value may cancel by chance far below the noise), below
// which points are not fitted (for a linear curve this drops its first two to three decades), or
// 0 if no value is positive.
double noise_floor(const std::vector<double>& change);

// The slope of log(change) against log(t) by least squares over points with 0 < t <= t_max and
// change > floor; NaN if fewer than two points qualify.
double loglog_slope(const std::vector<double>& t, const std::vector<double>& change, double t_max, double floor);

// Evenly spaced on a log scale from t_min to t_max, `per_decade` points per decade (both ends kept).
std::vector<double> log_amplitudes(double t_min, double t_max, int per_decade);

// The descriptor's answer to a path through the configuration of `system` (its positions are t = 0).
struct PerturbationCurve {
    std::vector<double> change;     // |F(t) - F(0)| over all centres of the system, per amplitude
    // (F(t) - F(0)) . a with a the path's unit direction in feature space (Pozdnyakov et al. 2021,
    // eqs 15-16): the central difference of F at +-h, or, for a path the descriptor answers only
    // to second order (a symmetric response), the second difference.
    std::vector<double> projected;
    double noise_floor = 0.0;       // noise_floor() of the positive-amplitude changes
    double slope = 0.0;             // loglog_slope() up to fit_max above the floor (NaN if undetermined)
};
PerturbationCurve perturbation_curve(const Descriptor& descriptor, const SystemView& system, const Perturbation& perturbation,
                                     const std::vector<double>& amplitudes, double fit_max, double difference_step);

// Environment mode `mode` (0 = softest non-rigid) of centre `center` as a displacement pattern of
// every atom of the system ([n_atoms][3], largest row 1, zero outside the environment). Throws if
// the environment holds periodic images of one atom (a mode cannot move them independently).
std::vector<double> environment_mode_pattern(const Descriptor& descriptor, const SystemView& system, int64_t center,
                                             int64_t mode);

}  // namespace atomfp
