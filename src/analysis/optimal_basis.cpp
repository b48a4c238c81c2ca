#include "analysis/optimal_basis.hpp"

#include "core/elements.hpp"
#include "core/error.hpp"
#include "core/lapack.hpp"
#include "descriptors/soap.hpp"

#include <algorithm>
#include <cmath>

namespace atomfp {

double OptimalBasis::Block::residual_variance(int q) const {
    double total = 0.0, kept = 0.0;
    for (std::size_t i = 0; i < eigenvalues.size(); ++i) {
        total += eigenvalues[i];
        if (static_cast<int>(i) < q) kept += eigenvalues[i];
    }
    return total > 0.0 ? std::max(0.0, 1.0 - kept / total) : 0.0;
}

namespace {

// The expansion of the same density as a SOAP-family specification, without the invariant-specific keys.
json expansion_of(const json& primitive_spec) {
    if (!primitive_spec.is_object()) fail(Status::json_error, "the primitive specification must be a JSON object");
    const std::string type = primitive_spec.value("type", "");
    if (type != "spherical_expansion" && type != "soap_radial_spectrum" && type != "soap_power_spectrum" &&
        type != "soap_bispectrum") {
        fail(Status::json_error, "an optimal radial basis is built for SOAP-family descriptors, not \"", type, "\"");
    }
    const std::string basis = primitive_spec.value("radial_basis", "gto");
    if (basis != "gto" && basis != "dvr") {
        fail(Status::json_error, "the primitive specification needs radial_basis \"gto\" or \"dvr\", got \"", basis, "\"");
    }
    json expansion_spec = primitive_spec;
    expansion_spec["type"] = "spherical_expansion";
    expansion_spec["normalize"] = false;
    if (type == "soap_radial_spectrum") expansion_spec["max_angular"] = 0;
    return expansion_spec;
}

}  // namespace

RadialBasisOptimizer::RadialBasisOptimizer(const json& primitive_spec)
    : primitive_spec_(primitive_spec), expansion_(expansion_of(primitive_spec)) {}

OptimalBasis optimize_radial_basis(const json& primitive_spec, const std::vector<SystemView>& systems, int q_max,
                                   bool mixed_species) {
    return RadialBasisOptimizer(primitive_spec).optimize(systems, q_max, mixed_species);
}

OptimalBasis RadialBasisOptimizer::optimize(const std::vector<SystemView>& systems, int q_max, bool mixed_species) const {
    const json& primitive_spec = primitive_spec_;
    const SphericalExpansionDescriptor& expansion = expansion_;
    const DensityExpansion& e = expansion.expansion();
    const int A = e.n_species(), N = e.n_radial(), L1 = e.max_angular() + 1, LM = e.lm_size(), K = e.n_channels();
    if (q_max < 1 || q_max > (mixed_species ? A * N : N)) {
        fail(Status::invalid_argument, "the number of optimal functions must be between 1 and ", mixed_species ? A * N : N,
             " (the primitive basis size", mixed_species ? " times the number of species" : "", "), got ", q_max);
    }
    // Covariances: per (a, l) N x N, or per l (A N) x (A N) with mixed species.
    const int size = mixed_species ? A * N : N;
    const int n_blocks = mixed_species ? L1 : A * L1;
    std::vector<std::vector<double>> covariance(n_blocks, std::vector<double>(static_cast<std::size_t>(size) * size, 0.0));
    int64_t n_environments = 0;
    for (const SystemView& system : systems) {
        std::vector<double> c(static_cast<std::size_t>(system.n_centers) * K * LM);
        compute(expansion, system, c.data(), nullptr);
        n_environments += system.n_centers;
        for (int64_t i = 0; i < system.n_centers; ++i) {
            const double* ci = c.data() + i * K * LM;  // [channel][lm]
            for (int l = 0; l < L1; ++l) {
                for (int b = 0; b < (mixed_species ? 1 : A); ++b) {
                    std::vector<double>& C = covariance[mixed_species ? l : b * L1 + l];
                    const int first = mixed_species ? 0 : b * N;
                    for (int x = 0; x < size; ++x) {
                        for (int y = x; y < size; ++y) {
                            double s = 0.0;
                            for (int lm = l * l; lm < (l + 1) * (l + 1); ++lm) s += ci[(first + x) * LM + lm] * ci[(first + y) * LM + lm];
                            C[x * size + y] += s;
                        }
                    }
                }
            }
        }
    }
    if (n_environments == 0) fail(Status::invalid_argument, "the dataset has no environments");

    OptimalBasis result;
    result.n_environments = n_environments;
    // contraction[l] (mixed) or contraction[a][l] (separate): q_max rows of primitive coefficients.
    json contraction = json::array();
    if (!mixed_species) contraction = json(std::vector<json>(A, json::array()));
    for (int block = 0; block < n_blocks; ++block) {
        std::vector<double>& C = covariance[block];
        for (int x = 0; x < size; ++x) {
            for (int y = x; y < size; ++y) {
                C[x * size + y] /= static_cast<double>(n_environments);
                C[y * size + x] = C[x * size + y];
            }
        }
        std::vector<double> eigenvalues;
        symmetric_eigen(size, C, eigenvalues);  // ascending; rows are eigenvectors
        OptimalBasis::Block summary;
        const int l = mixed_species ? block : block % L1;
        summary.label = (mixed_species ? std::string("mixed") : element_symbol(e.species()[block / L1])) + ",l=" + std::to_string(l);
        json matrix = json::array();
        for (int q = 0; q < size; ++q) {
            const int k = size - 1 - q;
            summary.eigenvalues.push_back(std::max(0.0, eigenvalues[k]));
            if (q >= q_max) continue;
            // Deterministic sign: the largest component is positive.
            const double* v = C.data() + static_cast<std::size_t>(k) * size;
            int largest = 0;
            for (int x = 1; x < size; ++x) {
                if (std::abs(v[x]) > std::abs(v[largest])) largest = x;
            }
            const double sign = v[largest] < 0 ? -1.0 : 1.0;
            json row = json::array();
            for (int x = 0; x < size; ++x) row.push_back(sign * v[x]);
            matrix.push_back(row);
        }
        if (mixed_species) contraction.push_back(matrix);
        else contraction[block / L1].push_back(matrix);
        result.blocks.push_back(std::move(summary));
    }
    json spec = primitive_spec;
    spec["radial_basis"] = "optimal";
    spec["max_radial"] = q_max;
    spec["optimal_basis"] = {{"primitive_basis", expansion.parameters()["radial_basis"]}, {"primitive_max_radial", N},
                             {"mixing", mixed_species ? "mixed" : "separate"}, {"contraction", contraction}};
    result.spec = spec;
    return result;
}

}  // namespace atomfp
