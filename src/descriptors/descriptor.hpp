// The abstract descriptor: a map from one centre's environment to a fixed-length feature vector
// and its derivatives with respect to the neighbours' positions. The generic driver compute()
// owns everything shared by all descriptors: validation, the loop over centres, OpenMP,
// the gradient-block layout and the centre block (which follows from translation invariance).
#pragma once

#include "core/json_spec.hpp"
#include "core/system.hpp"

#include <cstdint>
#include <memory>
#include <string>

namespace atomfp {

class Descriptor {
public:
    // Per-thread scratch memory, so that no allocation happens inside the loop over centres.
    class Workspace {
    public:
        virtual ~Workspace() = default;
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
};

// Validates the whole input first (so outputs are untouched on error), then fills features
// [n_centers][n_features] and/or gradients [n_gradient_blocks][3][n_features] (either may be NULL).
void compute(const Descriptor& descriptor, const SystemView& system, double* features, double* gradients);

}  // namespace atomfp
