// Chebyshev symmetry functions (Artrith, Urban & Ceder 2017, aenet conventions; Onat et al. 2020
// eqs 10–14): a radial histogram c_a = sum_j T_a(2 r_ij / R_r - 1) f_c(r_ij) and an angular histogram
// c_g = sum_{j<k} T_g(cos theta_ijk) f_c(r_ij) f_c(r_ik), plus, with more than one species, copies
// weighted by centred integer "type spins" (s_j and s_j s_k). The "full" mixing (CHSF-mix) adds the
// histogram of triangles sum_{j<k} sym[R_a(r_ij) R_b(r_ik)] T_g(cos theta_ijk), a <= b, which couples
// distances and angles the way SOAP and ACSF do.
#pragma once

#include "core/species_list.hpp"
#include "descriptors/descriptor.hpp"

#include <array>
#include <vector>

namespace atomfp {

// The aenet type spins of n species: centred integers, 0 skipped for even n.
std::vector<int> chebyshev_type_spins(int n_species);

class ChebyshevDescriptor final : public Descriptor {
public:
    explicit ChebyshevDescriptor(const json& spec);

    std::string type() const override { return "chebyshev"; }
    int64_t feature_count() const override { return n_features_; }
    double cutoff() const override { return std::max(radial_cutoff_, angular_cutoff_); }
    json parameters() const override;
    std::string feature_label(int64_t index) const override;
    bool handles_species(int32_t z) const override { return species_.contains(z); }
    std::unique_ptr<Workspace> make_workspace() const override;
    void compute_environment(const Environment& environment, double* features, double* neighbour_gradients,
                             Workspace& workspace) const override;

private:
    class ChebyshevWorkspace;

    SpeciesList species_;
    std::vector<int> spins_;
    double radial_cutoff_ = 8.0, angular_cutoff_ = 6.5;
    int radial_order_ = 16, angular_order_ = 4, mixed_radial_order_ = 4;
    bool mixed_ = false;
    // One block = [radial, angular, (mixed)]; a second, spin-weighted block follows for several species.
    int64_t block_size_ = 0, angular_offset_ = 0, mixed_offset_ = 0, n_features_ = 0;
    std::vector<std::pair<int, int>> mixed_pairs_;  // (a, b), a <= b
};

}  // namespace atomfp
