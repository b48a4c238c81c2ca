// Behler–Parrinello atom-centred symmetry functions (n2p2 conventions): radial G2 and angular G3
// ("narrow", with the r_jk terms) and G9 ("wide"), element-resolved.
#pragma once

#include "core/cutoff.hpp"
#include "core/species_list.hpp"
#include "descriptors/descriptor.hpp"

#include <array>
#include <vector>

namespace atomfp {

struct AcsfRadial {
    double eta;      // Å^-2
    double r_shift;  // Å
};

struct AcsfAngular {
    double eta;  // Å^-2
    double zeta;
    int lambda;  // -1 or +1
    bool narrow;
    double r_shift;  // Å
};

// Deterministic parameter grids (Imbalzano et al. 2018 rules), exposed for tests and docs.
std::vector<double> imbalzano_centred_etas(int count, double cutoff);
std::vector<AcsfRadial> imbalzano_shifted(int count, double cutoff);

class Acsf final : public Descriptor {
public:
    explicit Acsf(const json& spec);

    std::string type() const override { return "acsf"; }
    int64_t feature_count() const override { return n_features_; }
    double cutoff() const override { return cutoff_function_.cutoff(); }
    json parameters() const override;
    std::string feature_label(int64_t index) const override;
    bool handles_species(int32_t z) const override { return species_.contains(z); }
    std::unique_ptr<Workspace> make_workspace() const override;
    void compute_environment(const Environment& environment, double* features, double* neighbour_gradients,
                             Workspace& workspace) const override;

private:
    class AcsfWorkspace;

    void build_groups();
    int pair_block(int a, int b) const;
    // (Gaussian group, angular group) cells of one pair block.
    int n_cells_per_block() const { return static_cast<int>(gaussian_groups_.size()) * angular_stride_; }
    // Angular groups per pair in the narrow groups' tables, padded for four-lane sums.
    int64_t narrow_table_stride() const { return (angular_stride_ + 3) / 4 * 4; }
    // The steps of compute_environment.
    void prepare_neighbours(const Environment& env, AcsfWorkspace& ws) const;
    void add_radial_functions(const Environment& env, AcsfWorkspace& ws, double* features, double* gradients) const;
    void prepare_angular_tables(const Environment& env, AcsfWorkspace& ws, bool with_gradients) const;
    void tabulate_angular_terms(const Environment& env, AcsfWorkspace& ws, bool with_gradients) const;
    void add_wide_groups(const Environment& env, AcsfWorkspace& ws, bool with_gradients) const;
    void tabulate_pair_factors(const Environment& env, AcsfWorkspace& ws, bool with_gradients) const;
    void add_narrow_groups(const Environment& env, AcsfWorkspace& ws, bool with_gradients) const;
    void write_angular_functions(const Environment& env, AcsfWorkspace& ws, double* features, double* gradients) const;

    SpeciesList species_;
    CutoffFunction cutoff_function_;
    std::vector<AcsfRadial> radial_;
    std::vector<AcsfAngular> angular_;
    bool ordered_pairs_ = false;

    // The angular sum is evaluated on a dense grid of (Gaussian group, angular group) cells, with
    // each angular feature mapped to its cell; this keeps the inner loops contiguous.
    struct GaussianGroup {
        double eta, r_shift;
        bool narrow;
    };
    struct AngularGroup {
        double zeta;
        int lambda;
        int integer_zeta;  // > 0 when zeta is an integer: exact powers by repeated squaring
        double prefactor;  // 2^(1 - zeta), doubled for ordered pair sums
    };
    std::vector<GaussianGroup> gaussian_groups_;
    std::vector<AngularGroup> angular_groups_;
    // Cells of one Gaussian group are contiguous: cell = g * angular_stride_ + a.
    int angular_stride_ = 0;
    std::vector<int> wide_groups_, narrow_groups_;  // Gaussian groups without / with the r_jk factor
    std::vector<double> narrow_etas_, narrow_r_shifts_;  // of each narrow group, contiguous for vector loops
    std::vector<int> feature_cell_;  // [n_angular] -> g * angular_stride_ + a

    int64_t n_species_ = 0, n_radial_ = 0, n_angular_ = 0, n_pair_blocks_ = 0;
    int64_t angular_offset_ = 0, n_features_ = 0;
};

}  // namespace atomfp
