// The abstract descriptor: a map from one centre's environment to a fixed-length feature vector
// and its derivatives with respect to the neighbours' positions. The generic driver compute()
// owns everything shared by all descriptors: validation, the loop over centres, OpenMP,
// the gradient-block layout and the centre block (which follows from translation invariance).
#pragma once

#include "core/json_spec.hpp"
#include "core/system.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace atomfp {

class Descriptor {
public:
    // Per-thread scratch memory, so that no allocation happens inside the loop over centres.
    class Workspace {
    public:
        virtual ~Workspace() = default;
        // Grow-only scratch of the generic project_environments: one environment's features and
        // gradient blocks, and the batch's gradient rows.
        std::vector<double> projection_features, projection_blocks, projection_rows;
    };

    // Fixed vectors S [m][n_features] on which project_environments projects gradient blocks, as
    // the descriptor prepares them once (a descriptor may split them by neighbour species).
    class Projection {
    public:
        Projection(int64_t m, const double* S, int64_t n_features) : m_(m), S_(S, S + m * n_features) {}
        virtual ~Projection() = default;
        int64_t m() const { return m_; }
        const double* S() const { return S_.data(); }

    private:
        int64_t m_;
        std::vector<double> S_;
    };

    virtual ~Descriptor() = default;

    virtual std::string type() const = 0;
    virtual int64_t feature_count() const = 0;
    virtual double cutoff() const = 0;
    // Canonical specification: every default filled in; creating from it reproduces this object.
    virtual json parameters() const = 0;
    virtual std::string feature_label(int64_t index) const = 0;
    virtual bool handles_species(int32_t atomic_number) const = 0;
    virtual std::unique_ptr<Workspace> make_workspace() const = 0;

    // Throws Error for an environment this descriptor cannot describe (beyond species, which the
    // driver checks); called for every centre before anything is written.
    virtual void check_environment(const Environment&) const {}

    // True if compute_environment overwrites the whole block of every environment entry, so the
    // driver need not zero those blocks first (it still zeroes the blocks of atoms beyond the cutoff).
    virtual bool overwrites_neighbour_blocks() const { return false; }

    // Writes features[n_features]. If neighbour_gradients is not NULL it points at the block of
    // list slot 0 of this centre ([3][n_features] per slot, zero on entry unless
    // overwrites_neighbour_blocks()) and the descriptor adds dF/dx_j into the block of each
    // environment entry's slot. Must not throw for valid input.
    virtual void compute_environment(const Environment& environment, double* features,
                                     double* neighbour_gradients, Workspace& workspace) const = 0;

    // True if contract_environment is implemented: a route to sum_f w_f dF_f/dx_j that never
    // forms the per-neighbour feature gradients (models contract first, docs/design.md).
    virtual bool has_direct_contraction() const { return false; }

    // Writes features[n_features] and adds sum_f weights[f] dF_f/dx_j to contracted[3 * slot] for
    // each environment entry (list slot of this centre; zero on entry). Only called when
    // has_direct_contraction(). Must not throw for valid input.
    virtual void contract_environment(const Environment& environment, const double* weights, double* features,
                                      double* contracted, Workspace& workspace) const;

    // The gradient blocks of many environments projected on fixed vectors S, what the force rows of
    // a kernel model's fit need (models/trainer.cpp): one matrix product against S for a whole
    // batch, without keeping the blocks of a structure.
    virtual std::unique_ptr<Projection> make_projection(int64_t m, const double* S) const;

    // For environments [count] with features F_i (as compute() gives them), three rows per
    // environment entry q (environment by environment, entry by entry, then x, y, z):
    // rows [3 n][m] = (dF_i/dx_q,alpha) . s_j and along [3 n] = (dF_i/dx_q,alpha) . F_i, with n the
    // total number of entries. The centre's own block is minus the sum over its entries (translation
    // invariance), so it has no rows. `projection` is make_projection's. Must not throw for valid input.
    virtual void project_environments(int64_t count, const Environment* environments, const Projection& projection,
                                      double* rows, double* along, Workspace& workspace) const;
};

// Validates the whole input first (so outputs are untouched on error), then fills features
// [n_centers][n_features] and/or gradients [n_gradient_blocks][3][n_features] (either may be NULL).
void compute(const Descriptor& descriptor, const ValidatedSystem& system, double* features, double* gradients);
inline void compute(const Descriptor& descriptor, const SystemView& system, double* features, double* gradients) {
    compute(descriptor, ValidatedSystem(system), features, gradients);
}

// The contraction of the gradient blocks with per-centre feature weights, as a force calculation
// needs it: contracted [n_gradient_blocks][3], block order as in compute(), holds
// sum_f weights[c][f] dF_cf/dx for the centre's own block and each listed pair (zero beyond the
// cutoff); weights is [n_centers][n_features]. features [n_centers][n_features] may be NULL.
// Descriptors without a direct contraction are contracted from their gradient blocks, one centre
// at a time.
void contract(const Descriptor& descriptor, const ValidatedSystem& system, const double* weights, double* features,
              double* contracted);
inline void contract(const Descriptor& descriptor, const SystemView& system, const double* weights, double* features,
                     double* contracted) {
    contract(descriptor, ValidatedSystem(system), weights, features, contracted);
}

// Centres per batch of compute_in_batches and compute_and_contract: enough rows that a matrix
// product against a model's references is not dominated by copying the references into BLAS's
// packed format, few enough that every thread gets work. Callers that must reproduce the batched
// results exactly (training errors equal to predictions) use the same batches. Small systems run
// on one thread (core/parallel.hpp) in as few batches as possible.
int64_t batch_size(const SystemView& system);

// Called once per batch of consecutive centres [first, first + count) with their features
// [count][n_features], concurrently from several threads on disjoint batches.
using BatchFeatures = std::function<void(int64_t first, int64_t count, const double* features)>;

// The features of every centre, batch by batch, without holding them all: what an energy needs.
// Memory is one batch per thread, whatever the number of centres.
void compute_in_batches(const Descriptor& descriptor, const ValidatedSystem& system, const BatchFeatures& visit);

// Called once per batch of consecutive centres [first, first + count) with their features
// [count][n_features]; writes weights [count][n_features] for them. Called concurrently from
// several threads on disjoint batches.
using BatchWeights = std::function<void(int64_t first, int64_t count, const double* features, double* weights)>;

// contract() for weights that depend on the features, as dE/dF of a model does: the centres go in
// batches, each batch's features first, then its weights (one matrix product for the whole batch
// in a model), then its contraction (which recomputes the expansion while it is in cache rather
// than keeping every centre's expansion). features may be NULL; contracted as in contract().
void compute_and_contract(const Descriptor& descriptor, const ValidatedSystem& system, const BatchWeights& weigh,
                          double* features, double* contracted);
inline void compute_and_contract(const Descriptor& descriptor, const SystemView& system, const BatchWeights& weigh,
                                 double* features, double* contracted) {
    compute_and_contract(descriptor, ValidatedSystem(system), weigh, features, contracted);
}

}  // namespace atomfp
