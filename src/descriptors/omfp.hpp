// The overlap-matrix fingerprint (Zhu et al. 2016; Sadeghi et al. 2013; Parsaeifard & Goedecker 2022; Pozdnyakov et al. 2021): the
// eigenvalues of the overlap matrix of normalised Gaussian s (or s and p) orbitals, one set per atom
// of the centre's sphere, with widths sigma_a (by default the covalent radius of the atom's element,
// as in Zhu et al. 2016; `width_scale` multiplies them, `orbital_widths` sets them per element) and
// amplitudes (1 - r^2/r_c^2)^n_c that switch atoms off smoothly at the cutoff. "sorted": the eigenvalues in descending order, zero-padded to
// max_atoms x orbitals per atom. "smooth" (Pozdnyakov et al. eq 5): sum_k cos(q lambda_k / K) and
// sum_k sin(q lambda_k / K), q = 1..Q, which stays differentiable where eigenvalues cross.
#pragma once

#include "descriptors/descriptor.hpp"

#include <array>
#include <map>
#include <vector>

namespace atomfp {

// Covalent radius in Å (1.0 for elements without a tabulated value).
double covalent_radius(int32_t atomic_number);

class OverlapMatrixFingerprint final : public Descriptor {
public:
    explicit OverlapMatrixFingerprint(const json& spec);

    std::string type() const override { return "omfp"; }
    int64_t feature_count() const override { return n_features_; }
    double cutoff() const override { return cutoff_; }
    json parameters() const override;
    std::string feature_label(int64_t index) const override;
    bool handles_species(int32_t z) const override;
    void check_environment(const Environment& environment) const override;
    std::unique_ptr<Workspace> make_workspace() const override;
    void compute_environment(const Environment& environment, double* features, double* neighbour_gradients,
                             Workspace& workspace) const override;

private:
    class OmfpWorkspace;

    // sigma of an atom's orbitals in Å: width_scale x (its orbital_widths entry or covalent radius).
    double orbital_width(int32_t z) const;

    std::vector<int32_t> species_;  // empty: every element
    double width_scale_ = 1.0;
    std::map<int32_t, double> orbital_widths_;  // Å, before width_scale
    double cutoff_ = 4.0;
    int cutoff_exponent_ = 2;
    int orbitals_ = 4;  // 1 (s) or 4 (s, p_x, p_y, p_z)
    int64_t max_atoms_ = 100;
    bool smooth_ = false;
    double smooth_scale_ = 0.0;
    int smooth_terms_ = 0;
    int64_t n_features_ = 0;
};

}  // namespace atomfp
