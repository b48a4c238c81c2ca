// The data-driven ("optimal") radial basis: principal components of the density-expansion
// coefficients of a primitive basis over a dataset, per (neighbour species, l) or, with mixed
// species, per l over joint (species, n) channels. Eigenvalue problems are those of
// C^{al}_{nn'} = (1/N) sum_i sum_m c^i_{anlm} c^i_{an'lm} (uncentred).
#pragma once

#include "core/json_spec.hpp"
#include "core/system.hpp"
#include "descriptors/soap.hpp"

#include <string>
#include <vector>

namespace atomfp {

struct OptimalBasis {
    json spec;  // the input specification with radial_basis "optimal" and its contraction inline
    struct Block {
        std::string label;                // "Si,l=2" or "mixed,l=2"
        std::vector<double> eigenvalues;  // descending
        // Residual variance after keeping q functions, q = 1..n (thesis eq 3.12).
        double residual_variance(int q) const;
    };
    std::vector<Block> blocks;
    int64_t n_environments = 0;
};

// Builds optimal bases from the primitive basis of `primitive_spec`: any SOAP-family specification
// with a "gto" or "dvr" radial basis (Error(json) otherwise). The primitive expansion is set up
// once; its cutoff is what the neighbour lists of the dataset must cover.
class RadialBasisOptimizer {
public:
    explicit RadialBasisOptimizer(const json& primitive_spec);

    double cutoff() const { return expansion_.cutoff(); }
    // `systems` supply the environments; Error(invalid_argument) for an empty dataset or a q_max
    // outside 1 .. primitive size (times the number of species when mixing).
    OptimalBasis optimize(const std::vector<SystemView>& systems, int q_max, bool mixed_species) const;

private:
    json primitive_spec_;
    SphericalExpansionDescriptor expansion_;
};

// RadialBasisOptimizer(primitive_spec).optimize(systems, q_max, mixed_species).
OptimalBasis optimize_radial_basis(const json& primitive_spec, const std::vector<SystemView>& systems, int q_max,
                                   bool mixed_species);

}  // namespace atomfp
