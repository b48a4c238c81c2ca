#include "models/model.hpp"

#include "core/blas.hpp"
#include "core/elements.hpp"
#include "core/error.hpp"
#include "core/small_kernels.hpp"
#include "descriptors/factory.hpp"

#include <algorithm>
#include <cmath>

namespace atomfp {

Model::Model(const json& descriptor_spec, const Kernel& kernel, std::vector<SpeciesWeights> blocks, json metadata)
    : Model(std::shared_ptr<const Descriptor>(create_descriptor_from_spec(descriptor_spec)), kernel, std::move(blocks),
            std::move(metadata)) {}

Model::Model(std::shared_ptr<const Descriptor> descriptor, const Kernel& kernel, std::vector<SpeciesWeights> blocks,
             json metadata)
    : descriptor_(std::move(descriptor)), kernel_(kernel), blocks_(std::move(blocks)), metadata_(std::move(metadata)) {
    if (!descriptor_) fail(Status::invalid_argument, "a model needs a descriptor");
    const int64_t nf = descriptor_->feature_count();
    for (std::size_t b = 0; b < blocks_.size(); ++b) {
        const SpeciesWeights& block = blocks_[b];
        for (std::size_t other = 0; other < b; ++other) {
            if (blocks_[other].species == block.species) fail(Status::invalid_argument, "species ", block.species, " has two model blocks");
        }
        if (!descriptor_->handles_species(block.species)) {
            fail(Status::species, "model block for species ", block.species, " but the descriptor does not handle it");
        }
        const int64_t m = static_cast<int64_t>(block.weights.size());
        if (static_cast<int64_t>(block.references.size()) != m * nf) {
            fail(Status::invalid_argument, "species ", block.species, ": ", m, " weights need ", m * nf,
                 " reference feature values, got ", block.references.size());
        }
        for (double x : block.references)
            if (!std::isfinite(x)) fail(Status::invalid_argument, "species ", block.species, ": a reference feature is not finite");
        for (double x : block.weights)
            if (!std::isfinite(x)) fail(Status::invalid_argument, "species ", block.species, ": a weight is not finite");
        if (!std::isfinite(block.baseline)) fail(Status::invalid_argument, "species ", block.species, ": the baseline is not finite");
        const bool ranges = !block.feature_min.empty() || !block.feature_max.empty();
        if (ranges) {
            if (static_cast<int64_t>(block.feature_min.size()) != nf || static_cast<int64_t>(block.feature_max.size()) != nf) {
                fail(Status::invalid_argument, "species ", block.species, ": feature ranges need ", nf, " minima and maxima");
            }
            for (int64_t k = 0; k < nf; ++k) {
                if (!(block.feature_min[k] <= block.feature_max[k]) || !std::isfinite(block.feature_min[k]) ||
                    !std::isfinite(block.feature_max[k])) {
                    fail(Status::invalid_argument, "species ", block.species, ": feature ", k, " has no finite range");
                }
            }
        }
        std::vector<double> prepared = block.references;
        kernel_.prepare_references(m, nf, prepared.data());
        reference_squared_norms_.push_back(squared_row_norms(m, nf, prepared.data()));
        prepared_.push_back(std::move(prepared));
    }
}

void set_feature_ranges(SpeciesWeights& block, const std::vector<double>& environments, int64_t n_features) {
    const int64_t n = static_cast<int64_t>(environments.size()) / n_features;
    if (n == 0) return;
    block.feature_min.assign(environments.begin(), environments.begin() + n_features);
    block.feature_max = block.feature_min;
    for (int64_t i = 1; i < n; ++i) {
        for (int64_t k = 0; k < n_features; ++k) {
            const double x = environments[i * n_features + k];
            block.feature_min[k] = std::min(block.feature_min[k], x);
            block.feature_max[k] = std::max(block.feature_max[k], x);
        }
    }
}

bool Model::has_feature_ranges() const {
    return std::any_of(blocks_.begin(), blocks_.end(), [](const SpeciesWeights& b) { return !b.feature_min.empty(); }) &&
           std::all_of(blocks_.begin(), blocks_.end(), [](const SpeciesWeights& b) { return !b.feature_min.empty() || b.weights.empty(); });
}

std::vector<Extrapolation> Model::extrapolation(const SystemView& system) const {
    const ValidatedSystem validated(system);
    const std::vector<int32_t> block_of = centre_blocks(system);
    for (int32_t b : block_of) {
        if (blocks_[b].feature_min.empty() && !blocks_[b].weights.empty()) {
            fail(Status::not_available, "this model carries no training ranges of its features for ", element_symbol(blocks_[b].species),
                 " (a model file written before format version 3): refit it to get extrapolation flags");
        }
    }
    const int64_t nf = descriptor_->feature_count();
    std::vector<Extrapolation> out(system.n_centers);
    compute_in_batches(*descriptor_, validated, [&](int64_t first, int64_t count, const double* features) {
        for (int64_t r = 0; r < count; ++r) {
            const SpeciesWeights& block = blocks_[block_of[first + r]];
            if (block.feature_min.empty()) continue;  // a species that learns nothing has its baseline only
            Extrapolation& e = out[first + r];
            const double* x = features + r * nf;
            for (int64_t k = 0; k < nf; ++k) {
                const double lo = block.feature_min[k], hi = block.feature_max[k];
                const double beyond = x[k] > hi ? x[k] - hi : (x[k] < lo ? lo - x[k] : 0.0);
                if (beyond <= 0.0) continue;
                ++e.features_outside;
                e.largest_excess = std::max(e.largest_excess, beyond / (hi > lo ? hi - lo : 1.0));
            }
        }
    });
    return out;
}

Model Model::with_metadata(json metadata) && {
    Model out = std::move(*this);
    out.metadata_ = std::move(metadata);
    return out;
}

Model Model::with_repulsion(std::shared_ptr<const CoreRepulsion> repulsion) && {
    if (repulsion && repulsion->max_outer() > cutoff()) {
        fail(Status::invalid_argument, "the core repulsion reaches ", repulsion->max_outer(), " Å, beyond the descriptor's cutoff ",
             cutoff(), " Å");
    }
    Model out = std::move(*this);
    out.repulsion_ = std::move(repulsion);
    return out;
}

Model Model::with_covariance(std::shared_ptr<const PosteriorCovariance> covariance) && {
    if (covariance) {
        bool matches = covariance->n_blocks() == blocks_.size();
        for (std::size_t b = 0; matches && b < blocks_.size(); ++b) {
            matches = covariance->block_size(b) == static_cast<int64_t>(blocks_[b].weights.size());
        }
        if (!matches) fail(Status::invalid_argument, "the posterior covariance's blocks do not match the model's references");
    }
    Model out = std::move(*this);
    out.covariance_ = std::move(covariance);
    return out;
}

std::vector<int32_t> Model::species() const {
    std::vector<int32_t> out;
    for (const SpeciesWeights& b : blocks_) out.push_back(b.species);
    return out;
}

std::vector<int32_t> Model::centre_blocks(const SystemView& system) const {
    std::vector<int32_t> block_of(system.n_centers);
    for (int64_t c = 0; c < system.n_centers; ++c) {
        const int32_t z = system.species[system.centers[c]];
        std::size_t b = 0;
        while (b < blocks_.size() && blocks_[b].species != z) ++b;
        if (b == blocks_.size()) {
            fail(Status::species, "centre ", c, " (atom ", system.centers[c], ") has species ", z, " (", element_symbol(z),
                 "), which this model has no weights for");
        }
        block_of[c] = static_cast<int32_t>(b);
    }
    return block_of;
}

namespace {

// The rows r in [0, count) whose centre first + r belongs to block b, with their features
// gathered into X [rows][nf].
std::vector<int64_t> gather_block(const int32_t* block_of, int64_t first, int64_t count, std::size_t b, const double* features,
                                  int64_t nf, std::vector<double>& X) {
    std::vector<int64_t> rows;
    for (int64_t r = 0; r < count; ++r)
        if (block_of[first + r] == static_cast<int32_t>(b)) rows.push_back(r);
    X.resize(rows.size() * nf);
    for (std::size_t r = 0; r < rows.size(); ++r) std::copy_n(features + rows[r] * nf, nf, X.data() + r * nf);
    return rows;
}

}  // namespace

void Model::evaluate(const int32_t* block_of, int64_t first, int64_t count, const double* features, double* weights,
                     double* local) const {
    const int64_t nf = descriptor_->feature_count();
    std::vector<double> X, G, values, scratch;
    for (std::size_t b = 0; b < blocks_.size(); ++b) {
        const std::vector<int64_t> rows = gather_block(block_of, first, count, b, features, nf, X);
        const int64_t n = static_cast<int64_t>(rows.size()), m = static_cast<int64_t>(blocks_[b].weights.size());
        if (n == 0) continue;
        values.resize(n);
        if (weights) {
            G.resize(n * nf);
            kernel_.weighted_gradient(n, X.data(), m, prepared_[b].data(), nf, blocks_[b].weights.data(), G.data(),
                                      values.data(), scratch, reference_squared_norms_[b].data());
            for (int64_t r = 0; r < n; ++r) std::copy_n(G.data() + r * nf, nf, weights + rows[r] * nf);
        } else {
            std::vector<double> K(n * m);
            kernel_.matrix(n, X.data(), m, prepared_[b].data(), nf, K.data(), reference_squared_norms_[b].data());
            for (int64_t r = 0; r < n; ++r) values[r] = dot(K.data() + r * m, blocks_[b].weights.data(), m);
        }
        for (int64_t r = 0; r < n; ++r) local[first + rows[r]] = blocks_[b].baseline + values[r];
    }
}

void Model::center_energies_from_features(const SystemView& system, const double* features, double* center_energies) const {
    if (!features || !center_energies) fail(Status::invalid_argument, "features and center_energies must not be NULL");
    const std::vector<int32_t> block_of = centre_blocks(system);
    // In predict()'s batches, so that the energies are the same to the last bit.
    const int64_t batch = batch_size(system);
    for (int64_t first = 0; first < system.n_centers; first += batch) {
        evaluate(block_of.data(), first, std::min(batch, system.n_centers - first), features + first * descriptor_->feature_count(),
                 nullptr, center_energies);
    }
    if (repulsion_) repulsion_->add(system, center_energies, nullptr);
}

void Model::require_covariance() const {
    if (!covariance_) {
        fail(Status::not_available, "this model carries no posterior covariance (kernel ridge regression, or a model file "
             "written before format version 3): refit it to get variances");
    }
}

void Model::variance_gradient(const SystemView& system, const double* coefficients, double* gradient, double* virial) const {
    require_covariance();
    const ValidatedSystem validated(system);
    const std::vector<int32_t> block_of = centre_blocks(system);
    if (!gradient && !virial) return;
    if (!coefficients) fail(Status::invalid_argument, "variance_gradient needs one coefficient per centre");
    for (int64_t c = 0; c < system.n_centers; ++c) {
        if (!std::isfinite(coefficients[c])) fail(Status::invalid_argument, "the coefficient of centre ", c, " is not finite");
    }
    const int64_t nf = descriptor_->feature_count();
    // dU/dF_c = a_c Σ_j (∂Var e_c/∂k_cj) ∂k_cj/∂F_c + a_c ∂k(c,c)/∂F_c, with ∂k_cj/∂x = A_cj s_j + B_cj x
    // (Kernel::derivative_factors): one product with the references for the whole batch.
    auto weigh = [&](int64_t first, int64_t count, const double* features, double* weights) {
        std::vector<double> X, A, B, K, prior, variances, dvariance;
        for (std::size_t b = 0; b < blocks_.size(); ++b) {
            const std::vector<int64_t> rows = gather_block(block_of.data(), first, count, b, features, nf, X);
            const int64_t n = static_cast<int64_t>(rows.size()), m = static_cast<int64_t>(blocks_[b].weights.size());
            if (n == 0) continue;
            A.resize(n * m);
            B.resize(n * m);
            K.resize(n * m);
            kernel_.derivative_factors(n, X.data(), m, prepared_[b].data(), nf, A.data(), B.data(), K.data());
            prior.assign(n, 0.0);  // the prior term's value does not enter its gradient
            variances.resize(n);
            dvariance.resize(n * m);
            covariance_->centre_variances(b, n, K.data(), prior.data(), variances.data(), dvariance.data());
            std::vector<double> scaled(n * m), G(n * nf);
            for (int64_t r = 0; r < n; ++r) {
                const double a = coefficients[first + rows[r]];
                for (int64_t j = 0; j < m; ++j) scaled[r * m + j] = a * dvariance[r * m + j] * A[r * m + j];
            }
            gemm(false, false, n, nf, m, 1.0, scaled.data(), m, prepared_[b].data(), nf, 0.0, G.data(), nf);
            for (int64_t r = 0; r < n; ++r) {
                const double a = coefficients[first + rows[r]];
                double along_x = 0.0;
                for (int64_t j = 0; j < m; ++j) along_x += a * dvariance[r * m + j] * B[r * m + j];
                // k(x, x) is constant for the normalised kernels; the linear kernel's |x|² adds 2x.
                if (kernel_.kind() == KernelKind::linear) along_x += 2.0 * a * covariance_->scale();
                double* w = weights + rows[r] * nf;
                for (int64_t k = 0; k < nf; ++k) w[k] = G[r * nf + k] + along_x * X[r * nf + k];
            }
        }
    };
    std::vector<double> contracted(3 * system.n_gradient_blocks());
    compute_and_contract(*descriptor_, validated, weigh, nullptr, contracted.data());
    forces_and_virial(system, contracted.data(), gradient, virial);
    if (gradient) {
        for (int64_t k = 0; k < 3 * system.n_atoms; ++k) gradient[k] = -gradient[k];
    }
}

void Model::predict_variance(const SystemView& system, double* center_variances, double* energy_variance) const {
    require_covariance();
    const ValidatedSystem validated(system);
    const std::vector<int32_t> block_of = centre_blocks(system);
    if (!center_variances && !energy_variance) return;
    const int64_t nf = descriptor_->feature_count(), nc = system.n_centers;
    std::vector<double> features(static_cast<std::size_t>(nc) * nf);
    compute_in_batches(*descriptor_, validated, [&](int64_t first, int64_t count, const double* batch) {
        std::copy_n(batch, count * nf, features.data() + first * nf);
    });
    std::vector<double> variances(nc);
    std::vector<std::vector<double>> kernel_sums(blocks_.size());
    std::vector<double> prior_sums(blocks_.size(), 0.0);
    std::vector<double> X, prepared, K, prior_block, prior, out;
    for (std::size_t b = 0; b < blocks_.size(); ++b) {
        const std::vector<int64_t> rows = gather_block(block_of.data(), 0, nc, b, features.data(), nf, X);
        const int64_t n = static_cast<int64_t>(rows.size()), m = static_cast<int64_t>(blocks_[b].weights.size());
        kernel_sums[b].assign(m, 0.0);
        if (n == 0) continue;
        K.resize(n * m);
        kernel_.matrix(n, X.data(), m, prepared_[b].data(), nf, K.data(), reference_squared_norms_[b].data());
        // The centres' prior variances k(c, c), and for the structure the sum of all their prior
        // covariances k(c, c'), in row blocks so that memory stays O(block x n).
        prepared = X;
        kernel_.prepare_references(n, nf, prepared.data());
        prior.resize(n);
        for (int64_t r = 0; r < n; ++r) kernel_.matrix(1, X.data() + r * nf, 1, prepared.data() + r * nf, nf, &prior[r]);
        if (energy_variance) {
            const int64_t rows_per_block = 256;
            for (int64_t first = 0; first < n; first += rows_per_block) {
                const int64_t count = std::min(rows_per_block, n - first);
                prior_block.resize(count * n);
                kernel_.matrix(count, X.data() + first * nf, n, prepared.data(), nf, prior_block.data());
                for (double k : prior_block) prior_sums[b] += k;
            }
            for (int64_t r = 0; r < n; ++r)
                for (int64_t j = 0; j < m; ++j) kernel_sums[b][j] += K[r * m + j];
        }
        if (center_variances) {
            out.resize(n);
            covariance_->centre_variances(b, n, K.data(), prior.data(), out.data());
            for (int64_t r = 0; r < n; ++r) variances[rows[r]] = out[r];
        }
    }
    if (center_variances) std::copy(variances.begin(), variances.end(), center_variances);
    if (energy_variance) *energy_variance = covariance_->structure_variance(kernel_sums, prior_sums);
}

void Model::predict(const SystemView& system, double* energy, double* center_energies, double* forces, double* virial) const {
    const ValidatedSystem validated(system);
    const int64_t nc = system.n_centers;
    // Every centre's block, checked before anything is computed or written.
    const std::vector<int32_t> block_of = centre_blocks(system);
    if (!energy && !center_energies && !forces && !virial) return;

    std::vector<double> local(nc);
    auto evaluate_batch = [&](int64_t first, int64_t count, const double* features, double* weights) {
        evaluate(block_of.data(), first, count, features, weights, local.data());
    };

    const bool need_gradient = forces || virial;
    std::vector<double> contracted;
    if (need_gradient) {
        // dE/dx for every gradient block in one pass with the features.
        contracted.resize(3 * system.n_gradient_blocks());
        compute_and_contract(*descriptor_, validated, evaluate_batch, nullptr, contracted.data());
    } else {
        // Batch by batch, so that memory does not grow with the number of centres.
        compute_in_batches(*descriptor_, validated,
                           [&](int64_t first, int64_t count, const double* features) { evaluate_batch(first, count, features, nullptr); });
    }
    if (repulsion_) repulsion_->add(system, local.data(), need_gradient ? contracted.data() : nullptr);
    if (energy) {
        double total = 0.0;
        for (double e : local) total += e;
        *energy = total;
    }
    if (center_energies) std::copy(local.begin(), local.end(), center_energies);
    if (!need_gradient) return;

    forces_and_virial(system, contracted.data(), forces, virial);
}

}  // namespace atomfp
