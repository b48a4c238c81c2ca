// The contraction of gradient blocks with feature weights (what force calculations use) against the
// explicit blocks of compute(), for every descriptor type, with periodic images, a cell smaller than
// the cutoff and a ghost-atom description.
#include "core/error.hpp"
#include "descriptors/factory.hpp"
#include "structures.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

using namespace atomfp;
using namespace atomfp::test;

namespace {

const char* const specs[] = {
    R"({"type": "acsf", "species": [14, 6], "cutoff": 4.5})",
    R"({"type": "chebyshev", "species": [14, 6], "radial_cutoff": 4.5, "angular_cutoff": 4.0, "radial_order": 6, "angular_order": 4})",
    R"({"type": "omfp", "species": [14, 6], "cutoff": 4.0, "orbitals": "sp", "max_atoms": 60})",
    R"({"type": "omfp", "species": [14, 6], "cutoff": 4.0, "orbitals": "s", "max_atoms": 60, "projection": "smooth"})",
    R"({"type": "spherical_expansion", "species": [14, 6], "cutoff": 4.5, "max_radial": 4, "max_angular": 3})",
    R"({"type": "soap_radial_spectrum", "species": [14, 6], "cutoff": 4.5, "max_radial": 5})",
    R"({"type": "soap_power_spectrum", "species": [14, 6], "cutoff": 4.5, "max_radial": 4, "max_angular": 4})",
    // Radial counts for each route of the neighbour contraction: vector widths, fixed and run-time counts.
    R"({"type": "soap_power_spectrum", "species": [14, 6], "cutoff": 4.5, "max_radial": 8, "max_angular": 3})",
    R"({"type": "soap_power_spectrum", "species": [14, 6], "cutoff": 4.5, "max_radial": 6, "max_angular": 2, "normalize": false})",
    R"({"type": "soap_power_spectrum", "species": [14, 6], "cutoff": 4.5, "max_radial": 13, "max_angular": 1})",
    R"({"type": "spherical_expansion", "species": [14, 6], "cutoff": 4.5, "max_radial": 16, "max_angular": 2})",
    R"({"type": "soap_bispectrum", "species": [14, 6], "cutoff": 4.5, "max_radial": 2, "max_angular": 2})",
};

// sum_f w[c][f] block[b][alpha][f] for the blocks of every centre.
std::vector<double> contracted_blocks(const SystemView& s, const std::vector<double>& blocks, const std::vector<double>& w,
                                      int64_t nf) {
    std::vector<double> out(3 * s.n_gradient_blocks(), 0.0);
    for (int64_t c = 0; c < s.n_centers; ++c)
        for (int64_t b = c + s.offsets[c]; b < c + 1 + s.offsets[c + 1]; ++b)
            for (int alpha = 0; alpha < 3; ++alpha)
                for (int64_t f = 0; f < nf; ++f) out[3 * b + alpha] += w[c * nf + f] * blocks[(3 * b + alpha) * nf + f];
    return out;
}

void expect_contraction_matches_blocks(const Descriptor& d, const SystemView& s) {
    const int64_t nf = d.feature_count();
    std::mt19937 generator(6);
    std::normal_distribution<double> normal(0.0, 1.0);
    std::vector<double> weights(s.n_centers * nf);
    for (double& w : weights) w = normal(generator);
    const std::vector<double> reference = contracted_blocks(s, gradients_of(d, s), weights, nf);
    std::vector<double> contracted(3 * s.n_gradient_blocks(), -1.0), features(s.n_centers * nf);
    contract(d, s, weights.data(), features.data(), contracted.data());
    double scale = 0.0;
    for (double x : reference) scale = std::max(scale, std::abs(x));
    ASSERT_GT(scale, 0.0);
    for (std::size_t k = 0; k < reference.size(); ++k) ASSERT_NEAR(contracted[k], reference[k], 1e-11 * scale) << d.type() << " " << k;
    EXPECT_EQ(features, features_of(d, s));
}

}  // namespace

TEST(Contraction, MatchesTheGradientBlocksForEveryDescriptor) {
    Structure periodic = diamond(1, 5.431, 0.15, 3);  // 8 atoms, cell smaller than twice the cutoff
    periodic.species[2] = periodic.species[5] = 6;
    const NeighbourList list = neighbour_list(periodic, 4.6);
    const GhostSystem ghosts = with_ghosts(list);
    for (const char* spec : specs) {
        SCOPED_TRACE(spec);
        auto d = create_descriptor(spec);
        expect_contraction_matches_blocks(*d, list.view());
        expect_contraction_matches_blocks(*d, ghosts.view());
    }
}

// Weights computed from each batch's features (as a model's dE/dF is) give what contract() gives
// with the same weights computed beforehand, whatever the batches.
TEST(Contraction, FeatureDependentWeightsInBatchesEqualPrecomputedWeights) {
    Structure periodic = diamond(2, 5.431, 0.15, 8);  // 64 atoms: several batches per thread
    periodic.species[7] = periodic.species[30] = 6;
    const NeighbourList list = neighbour_list(periodic, 4.6);
    const SystemView s = list.view();
    for (const char* spec : {specs[1], specs[6], specs[7], specs[10]}) {
        SCOPED_TRACE(spec);
        auto d = create_descriptor(spec);
        const int64_t nf = d->feature_count();
        auto weight_of = [](double feature, int64_t centre, int64_t f) { return std::sin(3.0 * feature + 0.1 * centre + 0.01 * f); };
        const std::vector<double> features = features_of(*d, s);
        std::vector<double> weights(features.size());
        for (int64_t c = 0; c < s.n_centers; ++c)
            for (int64_t f = 0; f < nf; ++f) weights[c * nf + f] = weight_of(features[c * nf + f], c, f);
        std::vector<double> expected(3 * s.n_gradient_blocks()), contracted(expected.size(), -1.0);
        contract(*d, s, weights.data(), nullptr, expected.data());
        std::vector<int> seen(s.n_centers, 0);
        compute_and_contract(
            *d, s,
            [&](int64_t first, int64_t count, const double* batch_features, double* batch_weights) {
                for (int64_t i = 0; i < count; ++i) {
                    ++seen[first + i];
                    for (int64_t f = 0; f < nf; ++f) batch_weights[i * nf + f] = weight_of(batch_features[i * nf + f], first + i, f);
                }
            },
            nullptr, contracted.data());
        EXPECT_EQ(seen, std::vector<int>(s.n_centers, 1));
        for (std::size_t k = 0; k < expected.size(); ++k) ASSERT_NEAR(contracted[k], expected[k], 1e-12 * (1.0 + std::abs(expected[k])));
    }
}

TEST(Contraction, RejectsMissingBuffersAndUnknownSpecies) {
    auto d = create_descriptor(specs[0]);
    Structure s = diamond(1, 5.431, 0.1, 1);
    const NeighbourList list = neighbour_list(s, 4.6);
    const int64_t nf = d->feature_count();
    std::vector<double> weights(s.size() * nf, 1.0), contracted(3 * list.view().n_gradient_blocks());
    EXPECT_THROW(contract(*d, list.view(), nullptr, nullptr, contracted.data()), Error);
    EXPECT_THROW(contract(*d, list.view(), weights.data(), nullptr, nullptr), Error);
    s.species[0] = 8;
    const NeighbourList oxygen = neighbour_list(s, 4.6);
    EXPECT_THROW(contract(*d, oxygen.view(), weights.data(), nullptr, contracted.data()), Error);
}

// The projections of gradient blocks on fixed vectors (the force rows of a fit) against the
// explicit blocks: rows (dF_c/dx_q) . s_j and (dF_c/dx_q) . F_c for every environment entry, for
// every descriptor, species-separated and one-species SOAP, several centres in one batch.
TEST(Projection, MatchesTheGradientBlocksForEveryDescriptor) {
    Structure periodic = diamond(1, 5.431, 0.15, 3);
    periodic.species[2] = periodic.species[5] = 6;
    const NeighbourList list = neighbour_list(periodic, 4.6);
    const GhostSystem ghosts = with_ghosts(list);
    std::vector<std::string> all(std::begin(specs), std::end(specs));
    all.push_back(R"({"type": "soap_power_spectrum", "species": [6, 14, 8], "cutoff": 4.5, "max_radial": 3, "max_angular": 2})");
    for (const std::string& spec : all) {
        SCOPED_TRACE(spec);
        auto d = create_descriptor(spec);
        const int64_t nf = d->feature_count(), m = 7;
        std::mt19937 generator(11);
        std::normal_distribution<double> normal(0.0, 1.0);
        std::vector<double> fixed(m * nf);
        for (double& x : fixed) x = normal(generator);
        std::vector<double> S = fixed;
        const auto projection = d->make_projection(m, S.data());
        std::fill(S.begin(), S.end(), NAN);  // the projection keeps its own copy
        for (const SystemView& s : {list.view(), ghosts.view()}) {
            const std::vector<double> blocks = gradients_of(*d, s), features = features_of(*d, s);
            std::vector<Environment> environments(s.n_centers);
            int64_t n_rows = 0;
            for (int64_t c = 0; c < s.n_centers; ++c) {
                environments[c].build(s, c, d->cutoff());
                n_rows += 3 * environments[c].size();
            }
            std::vector<double> rows(n_rows * m, NAN), along(n_rows, NAN);
            auto workspace = d->make_workspace();
            d->project_environments(s.n_centers, environments.data(), *projection, rows.data(), along.data(), *workspace);
            int64_t at = 0;
            double scale = 0.0;
            for (double x : blocks) scale = std::max(scale, std::abs(x));
            for (int64_t c = 0; c < s.n_centers; ++c)
                for (int64_t e = 0; e < environments[c].size(); ++e)
                    for (int alpha = 0; alpha < 3; ++alpha, ++at) {
                        const double* g = blocks.data() + ((c + s.offsets[c] + 1 + environments[c].slots[e]) * 3 + alpha) * nf;
                        double expected_along = 0.0;
                        for (int64_t f = 0; f < nf; ++f) expected_along += g[f] * features[c * nf + f];
                        ASSERT_NEAR(along[at], expected_along, 1e-11 * scale) << c << " " << e;
                        for (int64_t j = 0; j < m; ++j) {
                            double expected = 0.0;
                            for (int64_t f = 0; f < nf; ++f) expected += g[f] * fixed[j * nf + f];
                            ASSERT_NEAR(rows[at * m + j], expected, 1e-11 * scale * nf) << c << " " << e << " " << j;
                        }
                    }
        }
    }
}
