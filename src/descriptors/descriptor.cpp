#include "descriptors/descriptor.hpp"

#include "core/blas.hpp"
#include "core/elements.hpp"
#include "core/error.hpp"
#include "core/parallel.hpp"
#include "core/scratch.hpp"
#include "core/simd.hpp"
#include "core/small_kernels.hpp"

#include <algorithm>
#include <exception>
#include <optional>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace atomfp {

namespace {

void check_environments(const Descriptor& descriptor, const SystemView& system) {
    Environment environment;
    for (int64_t c = 0; c < system.n_centers; ++c) {
        environment.build(system, c, descriptor.cutoff());
        auto check = [&](int32_t z, int64_t atom) {
            if (!descriptor.handles_species(z)) {
                fail(Status::species, "atom ", atom, " has species ", z, " (", element_symbol(z),
                     "), which is not in this ", descriptor.type(), " descriptor's species list");
            }
        };
        check(environment.center_species, environment.center_atom);
        for (int64_t q = 0; q < environment.size(); ++q) check(environment.species[q], environment.atoms[q]);
        descriptor.check_environment(environment);
    }
}

// What one thread reuses from centre to centre.
struct CentreScratch {
    std::unique_ptr<Descriptor::Workspace> workspace;
    Environment environment;
    std::vector<double> features, blocks;  // grow-only
};

// body(c, scratch) for every centre, with scratch.environment built for the descriptor's cutoff
// and one workspace per thread.
template <typename Body>
void for_each_centre(const Descriptor& descriptor, const SystemView& system, Body&& body) {
    parallel_items(
        system.n_centers, 4, worth_threads(system.n_gradient_blocks()),
        [&] {
            CentreScratch scratch;
            scratch.workspace = descriptor.make_workspace();
            return scratch;
        },
        [&](int64_t c, CentreScratch& scratch) {
            scratch.environment.build(system, c, descriptor.cutoff());
            body(c, scratch);
        });
}

// centre_block[0 .. block) -= the block of every environment entry (they follow the centre's, by slot).
ATOMFP_DISPATCHED void subtract_neighbour_blocks(const Environment& environment, int64_t block, double* centre_block) {
    for (int64_t q = 0; q < environment.size(); ++q) {
        const double* g = centre_block + (1 + environment.slots[q]) * block;
        for (int64_t k = 0; k < block; ++k) centre_block[k] -= g[k];
    }
}

}  // namespace

void compute(const Descriptor& descriptor, const ValidatedSystem& validated, double* features, double* gradients) {
    const SystemView& system = validated.view();
    check_environments(descriptor, system);
    if (!features && !gradients) return;

    const int64_t n_features = descriptor.feature_count();
    const int64_t block = 3 * n_features;
    const bool overwrites = descriptor.overwrites_neighbour_blocks();
    for_each_centre(descriptor, system, [&](int64_t c, CentreScratch& scratch) {
        const Environment& environment = scratch.environment;
        double* f = features ? features + c * n_features : sized(scratch.features, n_features);
        double* centre_block = nullptr;
        if (gradients) {
            const int64_t n_listed = system.offsets[c + 1] - system.offsets[c];
            centre_block = gradients + (c + system.offsets[c]) * block;
            if (overwrites) {
                // Zero the centre and every listed atom outside the cutoff (slots are increasing).
                std::fill(centre_block, centre_block + block, 0.0);
                int64_t q = 0;
                for (int64_t slot = 0; slot < n_listed; ++slot) {
                    if (q < environment.size() && environment.slots[q] == slot) {
                        ++q;
                        continue;
                    }
                    double* b = centre_block + (1 + slot) * block;
                    std::fill(b, b + block, 0.0);
                }
            } else {
                std::fill(centre_block, centre_block + (1 + n_listed) * block, 0.0);
            }
        }
        descriptor.compute_environment(environment, f, centre_block ? centre_block + block : nullptr, *scratch.workspace);
        // Every feature depends on the centre only through r_ij = x_j - x_i.
        if (centre_block) subtract_neighbour_blocks(environment, block, centre_block);
    });
}

void Descriptor::contract_environment(const Environment&, const double*, double*, double*, Workspace&) const {
    fail(Status::internal, type(), " has no direct contraction");
}

std::unique_ptr<Descriptor::Projection> Descriptor::make_projection(int64_t m, const double* S) const {
    return std::make_unique<Projection>(m, S, feature_count());
}

void Descriptor::project_environments(int64_t count, const Environment* environments, const Projection& projection,
                                      double* rows, double* along, Workspace& workspace) const {
    const int64_t nf = feature_count(), block = 3 * nf;
    int64_t n_rows = 0;
    for (int64_t i = 0; i < count; ++i) n_rows += 3 * environments[i].size();
    double* G = sized(workspace.projection_rows, static_cast<std::size_t>(n_rows) * nf);
    int64_t at = 0;
    for (int64_t i = 0; i < count; ++i) {
        const Environment& environment = environments[i];
        const int64_t n = environment.size();
        if (n == 0) continue;
        // compute_environment writes by list slot; the slots of the entries are increasing.
        const int64_t n_slots = environment.slots[n - 1] + 1;
        double* F = sized(workspace.projection_features, nf);
        double* blocks = sized(workspace.projection_blocks, static_cast<std::size_t>(n_slots) * block);
        if (!overwrites_neighbour_blocks()) std::fill(blocks, blocks + n_slots * block, 0.0);
        compute_environment(environment, F, blocks, workspace);
        for (int64_t q = 0; q < n; ++q) {
            const double* b = blocks + environment.slots[q] * block;
            std::copy_n(b, block, G + at * nf);
            for (int alpha = 0; alpha < 3; ++alpha) along[at + alpha] = dot(b + alpha * nf, F, nf);
            at += 3;
        }
    }
    if (n_rows > 0) gemm(false, true, n_rows, projection.m(), nf, 1.0, G, nf, projection.S(), nf, 0.0, rows, projection.m());
}

void contract(const Descriptor& descriptor, const ValidatedSystem& system, const double* weights, double* features,
              double* contracted) {
    if (!weights) fail(Status::invalid_argument, "weights is NULL");
    const int64_t n_features = descriptor.feature_count();
    compute_and_contract(
        descriptor, system,
        [&](int64_t first, int64_t count, const double*, double* w) {
            std::copy_n(weights + first * n_features, count * n_features, w);
        },
        features, contracted);
}

namespace {

// What one thread keeps for one batch of centres.
struct BatchScratch {
    std::unique_ptr<Descriptor::Workspace> workspace;
    std::vector<Environment> environments;
    std::vector<double> features, weights, blocks;  // grow-only
};

}  // namespace

int64_t batch_size(const SystemView& system) {
    const int64_t n_centers = system.n_centers;
    int threads = 1;
#ifdef _OPENMP
    if (worth_threads(system.n_gradient_blocks())) threads = omp_get_max_threads();
#endif
    const int64_t even = (n_centers + 2 * threads - 1) / (2 * threads);
    return std::clamp<int64_t>(even, 1, 256);
}

namespace {

// The centres in batches of consecutive indices, each batch's features computed into `features`
// (when given) or the thread's scratch, then body(first, count, batch features, scratch); batches
// run concurrently, each thread with its own scratch.
template <class Body>
void for_each_batch(const Descriptor& descriptor, const SystemView& system, double* features, Body&& body) {
    const int64_t n_features = descriptor.feature_count();
    const int64_t batch = batch_size(system);
    const int64_t n_batches = (system.n_centers + batch - 1) / batch;
    parallel_items(
        n_batches, 1, worth_threads(system.n_gradient_blocks()),
        [&] {
            BatchScratch scratch;
            scratch.environments.resize(batch);
            scratch.workspace = descriptor.make_workspace();
            scratch.features.resize((batch + 1) * n_features);  // the last row: features the fallback recomputes
            scratch.weights.resize(batch * n_features);
            return scratch;
        },
        [&](int64_t b, BatchScratch& scratch) {
            const int64_t first = b * batch, count = std::min(batch, system.n_centers - first);
            double* f = features ? features + first * n_features : scratch.features.data();
            for (int64_t i = 0; i < count; ++i) {
                Environment& environment = scratch.environments[i];
                environment.build(system, first + i, descriptor.cutoff());
                descriptor.compute_environment(environment, f + i * n_features, nullptr, *scratch.workspace);
            }
            body(first, count, f, scratch, batch);
        });
}

}  // namespace

void compute_in_batches(const Descriptor& descriptor, const ValidatedSystem& validated, const BatchFeatures& visit) {
    const SystemView& system = validated.view();
    check_environments(descriptor, system);
    for_each_batch(descriptor, system, nullptr,
                   [&](int64_t first, int64_t count, const double* f, BatchScratch&, int64_t) { visit(first, count, f); });
}

void compute_and_contract(const Descriptor& descriptor, const ValidatedSystem& validated, const BatchWeights& weigh,
                          double* features, double* contracted) {
    const SystemView& system = validated.view();
    check_environments(descriptor, system);
    if (!contracted) fail(Status::invalid_argument, "contracted is NULL");
    const int64_t n_features = descriptor.feature_count();
    const bool direct = descriptor.has_direct_contraction();
    for_each_batch(descriptor, system, features,
                   [&](int64_t first, int64_t count, double* f, BatchScratch& scratch, int64_t batch) {
        weigh(first, count, f, scratch.weights.data());
        for (int64_t i = 0; i < count; ++i) {
            const int64_t c = first + i;
            const Environment& environment = scratch.environments[i];
            const int64_t n_listed = system.offsets[c + 1] - system.offsets[c];
            const double* w = scratch.weights.data() + i * n_features;
            double* centre = contracted + 3 * (c + system.offsets[c]);
            std::fill(centre, centre + 3 * (1 + n_listed), 0.0);
            double* pairs = centre + 3;
            double* recomputed = scratch.features.data() + batch * n_features;
            if (direct) {
                descriptor.contract_environment(environment, w, recomputed, pairs, *scratch.workspace);
            } else {
                // Only the environment's slots are written; the others stay zero.
                double* blocks = sized(scratch.blocks, static_cast<std::size_t>(n_listed) * 3 * n_features);
                std::fill(blocks, blocks + n_listed * 3 * n_features, 0.0);
                descriptor.compute_environment(environment, recomputed, blocks, *scratch.workspace);
                for (int64_t q = 0; q < environment.size(); ++q) {
                    const int64_t slot = environment.slots[q];
                    const double* block = blocks + slot * 3 * n_features;
                    for (int alpha = 0; alpha < 3; ++alpha) {
                        double sum = 0.0;
                        for (int64_t k = 0; k < n_features; ++k) sum += w[k] * block[alpha * n_features + k];
                        pairs[3 * slot + alpha] = sum;
                    }
                }
            }
            for (int64_t q = 0; q < environment.size(); ++q)
                for (int alpha = 0; alpha < 3; ++alpha) centre[alpha] -= pairs[3 * environment.slots[q] + alpha];
        }
                   });
}

}  // namespace atomfp
