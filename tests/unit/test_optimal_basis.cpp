// The data-driven radial basis: PCA of primitive expansion coefficients over a dataset.
#include "analysis/optimal_basis.hpp"
#include "checks.hpp"
#include "core/error.hpp"
#include "core/lapack.hpp"
#include "descriptors/factory.hpp"
#include "io/extxyz.hpp"
#include "structures.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace atomfp;
using namespace atomfp::test;

namespace {

std::vector<NeighbourList> silicon_lists(double cutoff) {
    std::vector<NeighbourList> lists;
    for (const Frame& frame : read_extxyz(std::string(ATOMFP_TEST_DATA) + "/si_sw_sample.extxyz")) {
        lists.push_back(neighbours_of(frame, cutoff));
    }
    return lists;
}

std::vector<SystemView> views(const std::vector<NeighbourList>& lists) {
    std::vector<SystemView> out;
    for (const NeighbourList& l : lists) out.push_back(l.view());
    return out;
}

json primitive(const std::string& type, const std::string& basis, int n_max, int l_max) {
    return json{{"type", type}, {"species", {14}}, {"cutoff", 5.0}, {"atomic_gaussian_width", 0.5}, {"max_radial", n_max},
                {"max_angular", l_max}, {"radial_basis", basis}};
}

double kernel(const std::vector<double>& f, int64_t nf, int64_t a, int64_t b) {
    double s = 0.0;
    for (int64_t k = 0; k < nf; ++k) s += f[a * nf + k] * f[b * nf + k];
    return s;
}

}  // namespace

TEST(OptimalBasis, FullRankContractionReproducesThePowerSpectrumKernel) {
    const auto lists = silicon_lists(5.0);
    const std::vector<SystemView> systems = views(lists);
    json spec = primitive("soap_power_spectrum", "gto", 6, 4);
    spec["normalize"] = false;
    spec["spline_accuracy"] = 1e-10;
    const OptimalBasis optimal = optimize_radial_basis(spec, {systems[0]}, 6, false);
    auto a = create_descriptor_from_spec(spec);
    auto b = create_descriptor_from_spec(optimal.spec);
    const auto fa = features_of(*a, systems[1]), fb = features_of(*b, systems[1]);
    const int64_t nf = a->feature_count();
    // An orthogonal rotation of the radial channels changes the features but not their dot products.
    double largest_difference = 0.0;
    for (int64_t i = 0; i < 64; i += 7) {
        for (int64_t j = 0; j < 64; j += 5) {
            const double ka = kernel(fa, nf, i, j), kb = kernel(fb, nf, i, j);
            ASSERT_NEAR(ka, kb, 1e-7 * std::abs(ka)) << i << "," << j;
        }
        largest_difference = std::max(largest_difference, std::abs(fa[i * nf + 1] - fb[i * nf + 1]));
    }
    EXPECT_GT(largest_difference, 1e-6);  // the features themselves did change
}

TEST(OptimalBasis, ResidualVarianceFallsMonotonicallyAndDvrFortyKeepsTheVarianceInEight) {
    const auto lists = silicon_lists(5.0);
    const OptimalBasis optimal = optimize_radial_basis(primitive("soap_power_spectrum", "dvr", 40, 6), views(lists), 8, false);
    int64_t n_environments = 0;
    for (const NeighbourList& l : lists) n_environments += l.view().n_centers;
    EXPECT_EQ(optimal.n_environments, n_environments);
    ASSERT_EQ(optimal.blocks.size(), 7u);
    double total = 0.0, kept = 0.0;
    for (const auto& block : optimal.blocks) {
        for (int q = 1; q < 40; ++q) EXPECT_LE(block.residual_variance(q + 1), block.residual_variance(q) + 1e-15) << block.label;
        for (std::size_t q = 0; q < block.eigenvalues.size(); ++q) {
            total += block.eigenvalues[q];
            if (q < 8) kept += block.eigenvalues[q];
        }
    }
    EXPECT_GE(kept / total, 0.999);
    EXPECT_EQ(optimal.spec["max_radial"], 8);
    EXPECT_EQ(optimal.spec["optimal_basis"]["contraction"][0].size(), 7u);
}

TEST(OptimalBasis, GtoAndDvrPrimitivesGiveTheSameLeadingFunctions) {
    const auto lists = silicon_lists(5.0);
    const std::vector<SystemView> systems = views(lists);
    const OptimalBasis from_dvr = optimize_radial_basis(primitive("spherical_expansion", "dvr", 40, 4), systems, 3, false);
    const OptimalBasis from_gto = optimize_radial_basis(primitive("spherical_expansion", "gto", 16, 4), systems, 3, false);
    auto a = create_descriptor_from_spec(from_dvr.spec);
    auto b = create_descriptor_from_spec(from_gto.spec);
    const auto fa = features_of(*a, systems[2]), fb = features_of(*b, systems[2]);
    const int LM = 25, nf = 3 * LM;
    // Compare the q = 0 and q = 1 coefficients of l = 0 and l = 4 across environments. The GTO
    // primitives also span the density tails beyond r_c, which the DVR on [0, r_c] cannot; that
    // matters most for l = 4, whose optimal functions peak near the cutoff.
    for (int q : {0, 1}) {
        for (int l : {0, 4}) {
            double ab = 0.0, aa = 0.0, bb = 0.0;
            for (int64_t i = 0; i < 64; ++i) {
                for (int m = -l; m <= l; ++m) {
                    const double x = fa[i * nf + q * LM + l * l + l + m], y = fb[i * nf + q * LM + l * l + l + m];
                    ab += x * y;
                    aa += x * x;
                    bb += y * y;
                }
            }
            EXPECT_GT(std::abs(ab) / std::sqrt(aa * bb), l == 0 ? 0.998 : 0.93) << "q=" << q << " l=" << l;
        }
    }
}

TEST(OptimalBasis, MixedSpeciesContractionRoundTripsThroughTheSpec) {
    Structure s = cluster({6, 1, 1, 6, 8, 1, 6, 1}, 5.0, 0.9, 3);
    NeighbourList list = neighbour_list(s, 4.0);
    json spec = {{"type", "soap_power_spectrum"}, {"species", {1, 6, 8}}, {"cutoff", 4.0}, {"max_radial", 4}, {"max_angular", 3}};
    const OptimalBasis optimal = optimize_radial_basis(spec, {list.view()}, 5, true);
    ASSERT_EQ(optimal.blocks.size(), 4u);
    EXPECT_EQ(optimal.blocks[0].eigenvalues.size(), 12u);
    auto d = create_descriptor_from_spec(optimal.spec);
    EXPECT_EQ(d->feature_count(), 5 * 6 / 2 * 4);
    EXPECT_EQ(create_descriptor_from_spec(d->parameters())->parameters(), d->parameters());
}

TEST(OptimalBasis, RejectsUnusableInput) {
    Structure s = cluster({14, 14, 14}, 3.0, 1.0, 1);
    NeighbourList list = neighbour_list(s, 5.0);
    EXPECT_THROW(optimize_radial_basis(primitive("soap_power_spectrum", "gto", 4, 2), {list.view()}, 5, false), Error);
    EXPECT_THROW(optimize_radial_basis(primitive("soap_power_spectrum", "gto", 4, 2), {list.view()}, 0, false), Error);
    EXPECT_THROW(optimize_radial_basis(json{{"type", "acsf"}, {"species", {14}}}, {list.view()}, 2, false), Error);
    EXPECT_THROW(optimize_radial_basis(primitive("soap_power_spectrum", "gto", 4, 2), {}, 2, false), Error);
}

// ---- Pozdnyakov et al. (2021) Fig. 4: conditioning of the density-coefficient Jacobian -----------------------

namespace {

// Random CH4: four H uniformly in a 3 Å sphere around C, not closer than 0.8 Å to anything.
Structure random_methane(std::mt19937& rng) {
    std::uniform_real_distribution<double> u(-3.0, 3.0);
    Structure s;
    s.positions = {0, 0, 0};
    s.species = {6};
    while (s.size() < 5) {
        double p[3] = {u(rng), u(rng), u(rng)};
        if (p[0] * p[0] + p[1] * p[1] + p[2] * p[2] > 9.0) continue;
        bool ok = true;
        for (int64_t j = 0; j < s.size(); ++j) {
            double d2 = 0.0;
            for (int k = 0; k < 3; ++k) d2 += (p[k] - s.positions[3 * j + k]) * (p[k] - s.positions[3 * j + k]);
            ok = ok && d2 > 0.64;
        }
        if (!ok) continue;
        s.positions.insert(s.positions.end(), p, p + 3);
        s.species.push_back(1);
    }
    return s;
}

// Condition number of the Jacobian of the C-centred coefficients with respect to the four H
// positions (the centre fixed, which removes the rigid translations; the coefficients are
// covariant, so rotations are genuine changes and stay in).
double condition_number(const Descriptor& d, const Structure& s) {
    NeighbourList list = neighbour_list(s, d.cutoff());
    const CentreView centre(list.view(), {0});
    const SystemView& view = centre.view();
    const int64_t nf = d.feature_count();
    const std::vector<double> J = per_atom_gradients(view, gradients_of(d, view), nf, 5);  // [atom][3][nf]
    const int m = 12;
    std::vector<double> gram(m * m), eigenvalues;
    for (int a = 0; a < m; ++a)
        for (int b = 0; b < m; ++b) {
            double sum = 0.0;
            for (int64_t f = 0; f < nf; ++f) sum += J[(3 + a) * nf + f] * J[(3 + b) * nf + f];
            gram[a * m + b] = sum;
        }
    symmetric_eigen(m, gram, eigenvalues);
    return std::sqrt(eigenvalues.back() / eigenvalues.front());
}

json methane_spec(const std::string& basis, int n_max) {
    return json{{"type", "spherical_expansion"}, {"species", {1, 6}}, {"cutoff", 3.5}, {"cutoff_width", 0.5},
                {"atomic_gaussian_width", 0.2}, {"max_radial", n_max}, {"max_angular", 10}, {"radial_basis", basis},
                {"center_atom_weight", 0.0}};
}

double mean_condition_number(const Descriptor& d, const std::vector<Structure>& molecules) {
    double sum = 0.0;
    for (const Structure& s : molecules) sum += condition_number(d, s);
    return sum / static_cast<double>(molecules.size());
}

}  // namespace

TEST(OptimalBasis, DensityJacobianConditioningImprovesWithBasisSizeAndWithTheOptimalBasis) {
    std::mt19937 rng(2024);
    std::vector<Structure> molecules, training;
    for (int i = 0; i < 16; ++i) molecules.push_back(random_methane(rng));
    for (int i = 0; i < 30; ++i) training.push_back(random_methane(rng));
    std::vector<double> gto_mean;
    for (int n_max : {3, 5, 8}) {
        auto d = create_descriptor_from_spec(methane_spec("gto", n_max));
        gto_mean.push_back(mean_condition_number(*d, molecules));
    }
    EXPECT_GT(gto_mean[0], gto_mean[1]);
    EXPECT_GT(gto_mean[1], gto_mean[2]);

    std::vector<NeighbourList> lists;
    std::vector<SystemView> systems;
    for (const Structure& s : training) lists.push_back(neighbour_list(s, 3.5));
    for (const NeighbourList& l : lists) systems.push_back(l.view());
    const OptimalBasis optimal = optimize_radial_basis(methane_spec("dvr", 30), systems, 5, false);
    auto d = create_descriptor_from_spec(optimal.spec);
    const double optimal_mean = mean_condition_number(*d, molecules);
    std::printf("mean condition number, sigma = 0.2 A, l_max = 10: GTO n_max 3/5/8 = %.3g / %.3g / %.3g; optimal q_max 5 = %.3g\n",
                gto_mean[0], gto_mean[1], gto_mean[2], optimal_mean);
    EXPECT_LT(optimal_mean, gto_mean[1]);
}
