// A kernel model of the energy: E = sum over centres c of e(c), with
// e(c) = baseline[s] + sum_m w[s][m] k(F_c, S[s][m]) (+ half of each listed pair's core repulsion)
// for the central species s, F_c the centre's features and S[s] the reference (sparse)
// environments. Forces and the virial follow from the contraction of dE/dF with the descriptor's
// gradients (contract first, differentiate second).
#pragma once

#include "core/system.hpp"
#include "descriptors/descriptor.hpp"
#include "models/kernel.hpp"
#include "models/repulsion.hpp"
#include "models/variance.hpp"

#include <cstdint>
#include <memory>
#include <vector>

namespace atomfp {

struct SpeciesWeights {
    int32_t species = 0;             // atomic number of the centres this block describes
    double baseline = 0.0;           // energy of an isolated atom, eV
    std::vector<double> references;  // [M][n_features] as given (prepared internally)
    std::vector<double> weights;     // [M], eV
    // The range of every feature over the training environments of this species, [n_features]
    // each; both empty when unknown (models older than file format version 3).
    std::vector<double> feature_min, feature_max;
};

// Sets block.feature_min/max to the range of `environments` [n][n_features] (no change for n = 0).
void set_feature_ranges(SpeciesWeights& block, const std::vector<double>& environments, int64_t n_features);

// Where a centre's features leave the training range of its species, as n2p2 warns: the number of
// features outside [min, max] and the largest excess beyond the range in units of the range's width
// (features with a zero-width range count their excess in units of 1).
struct Extrapolation {
    int64_t features_outside = 0;
    double largest_excess = 0.0;
};

class Model {
public:
    // Throws Error for an invalid descriptor specification or kernel, a species block twice, or
    // blocks whose sizes do not match the descriptor's feature count.
    // `metadata` is free-form (a training summary, units, provenance) and travels with model files.
    Model(const json& descriptor_spec, const Kernel& kernel, std::vector<SpeciesWeights> blocks,
          json metadata = json::object());
    // The same around a descriptor that exists already (the trainer's, with its splines built):
    // descriptors are immutable, so models and trainers share them.
    Model(std::shared_ptr<const Descriptor> descriptor, const Kernel& kernel, std::vector<SpeciesWeights> blocks,
          json metadata = json::object());

    const Descriptor& descriptor() const { return *descriptor_; }
    const Kernel& kernel() const { return kernel_; }
    double cutoff() const { return descriptor_->cutoff(); }
    std::vector<int32_t> species() const;
    // The blocks as given (references unprepared).
    const std::vector<SpeciesWeights>& blocks() const { return blocks_; }
    const json& metadata() const { return metadata_; }
    // This model with `metadata` in place of its own; the descriptor and references move instead of
    // being rebuilt.
    Model with_metadata(json metadata) &&;
    // This model plus a core repulsion (or without one, for NULL); its reach must not exceed the
    // descriptor's cutoff, so that the neighbour lists the model asks for cover it.
    Model with_repulsion(std::shared_ptr<const CoreRepulsion> repulsion) &&;
    const CoreRepulsion* repulsion() const { return repulsion_.get(); }
    // This model with the posterior covariance of its weights (or without, for NULL): its blocks
    // must match the model's.
    Model with_covariance(std::shared_ptr<const PosteriorCovariance> covariance) &&;
    const PosteriorCovariance* covariance() const { return covariance_.get(); }

    // Energy (eV), per-centre energies [n_centers], forces [n_atoms][3] (eV/Å, on every atom of
    // the system including ghosts, accumulated: images fold onto their atom through the list) and
    // the virial [3][3] (eV, W = -dE/d(strain), symmetric); each output may be NULL. A centre whose
    // species has no block is an Error(species). Thread-safe.
    void predict(const SystemView& system, double* energy, double* center_energies, double* forces, double* virial) const;

    // The posterior variance (eV²) of each centre's local energy [n_centers] and of the total
    // energy (the full quadratic form over the centres), each output may be NULL;
    // Error(not_available) when the model carries no posterior covariance. Thread-safe.
    void predict_variance(const SystemView& system, double* center_variances, double* energy_variance) const;

    // The gradient of U = Σ_c a_c Var e_c (coefficients a [n_centers], eV² each) with respect to the
    // positions: gradient [n_atoms][3] (eV²/Å, accumulated onto atoms as predict()'s forces, but
    // +dU/dx) and virial [3][3] (eV², W = -dU/d(strain), as predict()'s for the energy); either may
    // be NULL. What a bias on the uncertainty needs. Error(not_available) as predict_variance.
    void variance_gradient(const SystemView& system, const double* coefficients, double* gradient, double* virial) const;

    // Every centre's extrapolation [n_centers]; Error(not_available) when a centre's block has no
    // feature ranges. Thread-safe.
    std::vector<Extrapolation> extrapolation(const SystemView& system) const;
    bool has_feature_ranges() const;

    // The per-centre energies predict() gives, from features [n_centers][n_features] that this
    // model's descriptor computed beforehand for the centres of `system` (cross-validation reuses
    // them from fold to fold).
    void center_energies_from_features(const SystemView& system, const double* features, double* center_energies) const;

private:
    // Error(not_available) for a model without a posterior covariance.
    void require_covariance() const;
    // Every centre's block index; Error(species) for a species without a block.
    std::vector<int32_t> centre_blocks(const SystemView& system) const;
    // Local energies of the centres [first, first + count) into local[first...] and, with weights
    // not NULL, dE/dF [count][n_features]; each block's rows go through the kernel as one product.
    void evaluate(const int32_t* block_of, int64_t first, int64_t count, const double* features, double* weights,
                  double* local) const;

    std::shared_ptr<const Descriptor> descriptor_;
    Kernel kernel_;
    std::vector<SpeciesWeights> blocks_;
    json metadata_;
    std::shared_ptr<const CoreRepulsion> repulsion_;
    std::shared_ptr<const PosteriorCovariance> covariance_;
    std::vector<std::vector<double>> prepared_;  // per block, the kernel's form of the references
    std::vector<std::vector<double>> reference_squared_norms_;  // per block, of the prepared references
};

}  // namespace atomfp
