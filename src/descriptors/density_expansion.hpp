// The expansion of a centre's smooth neighbour density on radial functions times real spherical
// harmonics, shared by every SOAP-family descriptor (see docs/soap.md for the conventions):
//   c_{k lm} = sum_j 4 pi w(r_j) I_{k l}(r_j) Y_lm(r_j / r_j) (+ the centre atom in l = 0),
// where k is a radial channel. With a species-separated basis a channel is a pair (species a,
// radial index n) and neighbour j feeds only the channels of its species; with the mixed optimal
// basis every neighbour feeds every channel through its species' contracted integrals.
#pragma once

#include "core/cutoff.hpp"
#include "core/json_spec.hpp"
#include "core/species_list.hpp"
#include "core/spherical_harmonics.hpp"
#include "core/system.hpp"
#include "descriptors/radial_basis.hpp"

#include <array>
#include <memory>
#include <string>
#include <vector>

namespace atomfp {

// What the gradients of the coefficients are made of, per neighbour j (all grow-only buffers):
//   d c[lm][first_channel_j + n] / d r_j,alpha
//       = radial_derivative[j][l][n] * unit[j][alpha] * harmonics[j][lm] + radial[j][l][n] * harmonic_gradients[j][alpha][lm]
// Invariants contract with these factors directly instead of materialising dc/dr.
struct NeighbourFactors {
    std::vector<double> radial, radial_derivative;  // [n][L + 1][n_radial]: 4 pi w I and its r-derivative
    std::vector<double> harmonics;                  // [n][lm]
    std::vector<double> harmonic_gradients;         // [n][3][lm], gradient of Y_lm(r_j / r_j), i.e. divided by r_j
    std::vector<double> unit;                       // [n][3]
    std::vector<int> first_channel;                 // [n]
};

// The largest cutoff / atomic_gaussian_width ratio accepted: the radial splines' construction time
// grows with its square (~2 s at 200 for 8 radial functions and l = 6).
constexpr double max_cutoff_over_width = 250.0;
// Building the splines takes about 0.4 ms x (radial functions) x (max_angular + 1) x (cutoff /
// width) (8 GTO, l = 6, ratio 400: 7.6 s; 64 DVR, l = 20, ratio 250: 138 s): this bound keeps it
// under about 40 s, ten times the largest bases in use.
constexpr double max_spline_work = 1e5;

class DensityExpansion {
public:
    // Reads and checks the shared keys from `reader`; `angular` = false fixes max_angular = 0 without
    // reading it. Nothing costly happens here: the caller checks for unknown keys, then calls build().
    DensityExpansion(SpecReader& reader, bool angular);
    // Builds the radial splines and the harmonics (the expensive part, seconds for large cutoffs).
    void build();

    int n_species() const { return static_cast<int>(species_.size()); }
    int n_radial() const { return n_radial_; }
    int max_angular() const { return max_angular_; }
    int n_channels() const { return n_channels_; }
    int lm_size() const { return (max_angular_ + 1) * (max_angular_ + 1); }
    int64_t coefficient_count() const { return static_cast<int64_t>(n_channels_) * lm_size(); }
    double cutoff() const { return cutoff_.cutoff(); }
    bool mixed_species() const { return mixed_; }
    bool handles_species(int32_t z) const { return species_.contains(z); }
    int species_index(int32_t z) const { return species_.index(z); }
    const std::vector<int32_t>& species() const { return species_.atomic_numbers(); }

    // Writes the shared keys of the canonical specification into `out`.
    void write_parameters(json& out) const;
    // "Si,n=3" for a species-separated channel, "q=3" for a mixed one.
    std::string channel_label(int channel) const;

    // coefficients [lm][n_channels] (channel fastest). `factors` is scratch; with_gradients = true
    // keeps one set per neighbour for the gradient contractions.
    void expand(const Environment& environment, double* coefficients, NeighbourFactors& factors,
                bool with_gradients) const;

    // dc/dr_j for one neighbour from its factors: out [3][lm][n_channels], overwritten.
    void coefficient_gradients(const NeighbourFactors& factors, int64_t j, double* out) const;

private:
    void read_radial_basis(SpecReader& reader);
    void read_pair_cutoffs(SpecReader& reader);

    SpeciesList species_;
    CutoffFunction cutoff_;
    // The cutoff seen by a neighbour of species b around a centre of species a, [a * n_species + b]:
    // `cutoff_` unless 'pair_cutoffs' names the pair (the radial basis always spans `cutoff_`).
    std::vector<CutoffFunction> pair_cutoffs_;
    json pair_cutoffs_spec_;
    double cutoff_width_ = 0.5, gaussian_width_ = 0.5, center_weight_ = 1.0, spline_accuracy_ = 1e-8;
    bool radial_scaling_ = false;
    double scaling_r0_ = 0.0, scaling_exponent_ = 0.0;
    std::string basis_name_;
    int n_radial_ = 0, max_angular_ = 0, n_channels_ = 0;
    bool mixed_ = false, angular_ = true;

    // The optimal basis: primitive basis and contraction, kept for the canonical specification.
    std::string primitive_name_;
    int primitive_max_radial_ = 0;
    json contraction_;

    SphericalHarmonics harmonics_{0};
    // Per neighbour species: its spline table (functions [n_local][l]) and first channel.
    std::vector<std::shared_ptr<const RadialSpline>> splines_;
    std::vector<int> channel_offset_;
    std::vector<std::vector<double>> center_contribution_;  // [species][n_local]: 4 pi Y_00 I_n0(0)
};

// The GTO or DVR primitive radial integral named by `name`.
std::shared_ptr<const RadialIntegral> make_primitive_radial_integral(const std::string& name, int n_radial,
                                                                    int max_angular, double cutoff, double gaussian_width);

}  // namespace atomfp
