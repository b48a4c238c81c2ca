// ACSF against an independent brute-force implementation, finite differences, invariances, and
// the equivalence of ghost-atom and cell-shift descriptions of one crystal.
#include "descriptors/acsf.hpp"
#include "descriptors/factory.hpp"
#include "checks.hpp"
#include "structures.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

using namespace atomfp;
using namespace atomfp::test;

namespace {

// ---- brute force: every image of every atom, all ordered pairs (j, k), written from the formulas

double cosine_cutoff(double r, double rc) { return r < rc ? 0.5 * (std::cos(M_PI * r / rc) + 1.0) : 0.0; }

// Features in the documented layout for the given species list and explicit function lists.
std::vector<double> brute_acsf(const Structure& s, int64_t i, const std::vector<int32_t>& species, double rc,
                               const std::vector<AcsfRadial>& radial, const std::vector<AcsfAngular>& angular,
                               bool ordered) {
    const auto nb = brute_neighbours(s, i, rc);
    const std::size_t ns = species.size();
    auto index = [&](int32_t z) { return static_cast<std::size_t>(std::find(species.begin(), species.end(), z) - species.begin()); };
    std::vector<double> out(ns * radial.size() + ns * (ns + 1) / 2 * angular.size(), 0.0);
    for (const auto& n : nb)
        for (std::size_t m = 0; m < radial.size(); ++m)
            out[index(n.z) * radial.size() + m] +=
                std::exp(-radial[m].eta * std::pow(n.r - radial[m].r_shift, 2)) * cosine_cutoff(n.r, rc);
    const std::size_t angular_base = ns * radial.size();
    for (std::size_t j = 0; j < nb.size(); ++j)
        for (std::size_t k = 0; k < nb.size(); ++k) {
            if (j == k) continue;
            std::size_t a = index(nb[j].z), b = index(nb[k].z);
            if (a > b) std::swap(a, b);
            std::size_t block = 0;  // enumerate (0,0),(0,1),..,(1,1),.. by counting
            for (std::size_t x = 0; x < ns; ++x)
                for (std::size_t y = x; y < ns; ++y) {
                    if (x == a && y == b) goto found;
                    ++block;
                }
        found:
            double dot = nb[j].d[0] * nb[k].d[0] + nb[j].d[1] * nb[k].d[1] + nb[j].d[2] * nb[k].d[2];
            double cos_theta = dot / (nb[j].r * nb[k].r);
            double djk[3] = {nb[k].d[0] - nb[j].d[0], nb[k].d[1] - nb[j].d[1], nb[k].d[2] - nb[j].d[2]};
            double rjk = std::sqrt(djk[0] * djk[0] + djk[1] * djk[1] + djk[2] * djk[2]);
            for (std::size_t f = 0; f < angular.size(); ++f) {
                const AcsfAngular& p = angular[f];
                double base = 1.0 + p.lambda * cos_theta;
                if (base <= 0.0) continue;
                double exponent = std::pow(nb[j].r - p.r_shift, 2) + std::pow(nb[k].r - p.r_shift, 2);
                double cut = cosine_cutoff(nb[j].r, rc) * cosine_cutoff(nb[k].r, rc);
                if (p.narrow) {
                    exponent += std::pow(rjk - p.r_shift, 2);
                    cut *= cosine_cutoff(rjk, rc);
                }
                double term = std::pow(2.0, 1.0 - p.zeta) * std::pow(base, p.zeta) * std::exp(-p.eta * exponent) * cut;
                out[angular_base + block * angular.size() + f] += ordered ? term : 0.5 * term;
            }
        }
    return out;
}

json explicit_spec(const std::vector<int32_t>& species, double rc, const std::vector<AcsfRadial>& radial,
                   const std::vector<AcsfAngular>& angular, bool ordered = false) {
    json spec = {{"type", "acsf"}, {"species", species}, {"cutoff", rc}};
    spec["radial"] = json::array();
    for (const auto& r : radial) spec["radial"].push_back({{"eta", r.eta}, {"r_shift", r.r_shift}});
    spec["angular"] = json::array();
    for (const auto& a : angular) {
        spec["angular"].push_back({{"eta", a.eta}, {"zeta", a.zeta}, {"lambda", a.lambda}, {"form", a.narrow ? "narrow" : "wide"},
                                   {"r_shift", a.r_shift}});
    }
    if (ordered) spec["pair_sum"] = "ordered";
    return spec;
}

const std::vector<AcsfRadial> some_radial = {{0.05, 0.0}, {0.5, 1.5}, {2.0, 2.3}, {0.01, 0.0}};
const std::vector<AcsfAngular> some_angular = {{0.01, 1, -1, false, 0.0}, {0.02, 2, 1, true, 0.0},
                                               {0.05, 4, -1, true, 0.5}, {0.005, 16, 1, false, 0.0},
                                               {0.03, 1.5, 1, false, 0.2}, {0.01, 3, -1, true, 0.0}};


std::vector<double> brute_all(const Structure& s, const std::vector<int32_t>& species, double rc,
                              const std::vector<AcsfRadial>& radial, const std::vector<AcsfAngular>& angular, bool ordered) {
    std::vector<double> out;
    for (int64_t i = 0; i < s.size(); ++i) {
        auto f = brute_acsf(s, i, species, rc, radial, angular, ordered);
        out.insert(out.end(), f.begin(), f.end());
    }
    return out;
}

}  // namespace

TEST(Acsf, MatchesBruteForceOnTwoSpeciesCluster) {
    Structure s = cluster({6, 1, 1, 6, 8, 1, 6, 1, 8, 1}, 5.0, 0.9, 7);
    const std::vector<int32_t> species = {1, 6, 8};
    for (bool ordered : {false, true}) {
        Acsf d(explicit_spec(species, 4.5, some_radial, some_angular, ordered));
        EXPECT_EQ(d.feature_count(), 3 * 4 + 6 * 6);
        expect_close_relative(features_of(d, neighbour_list(s, 4.5).view()),
                              brute_all(s, species, 4.5, some_radial, some_angular, ordered), 1e-12);
    }
}

TEST(Acsf, MatchesBruteForceInPeriodicCellSmallerThanCutoff) {
    Structure s = primitive_diamond(5.431, 0.1, 3);
    Acsf d(explicit_spec({14}, 6.0, some_radial, some_angular));
    expect_close_relative(features_of(d, neighbour_list(s, 6.0).view()),
                          brute_all(s, {14}, 6.0, some_radial, some_angular, false), 1e-12);
}

TEST(Acsf, DefaultPresetMatchesBruteForceOnRattledDiamond) {
    Structure s = diamond(1, 5.431, 0.15, 11);
    auto d = create_descriptor(R"({"type": "acsf", "species": [14]})");
    ASSERT_EQ(d->feature_count(), 58);
    std::vector<AcsfRadial> radial;
    for (double eta : imbalzano_centred_etas(10, 6.0)) radial.push_back({eta, 0.0});
    std::vector<AcsfAngular> angular;
    for (double eta : imbalzano_centred_etas(6, 6.0))
        for (double zeta : {1.0, 2.0, 4.0, 16.0})
            for (int lambda : {-1, 1}) angular.push_back({eta, zeta, lambda, false, 0.0});
    expect_close_relative(features_of(*d, neighbour_list(s, 6.0).view()), brute_all(s, {14}, 6.0, radial, angular, false), 1e-12);
}

TEST(Acsf, PresetGridsFollowTheImbalzanoRules) {
    // Worked example of the reference notes: r_c = 6, N = 10.
    auto centred = imbalzano_centred_etas(10, 6.0);
    EXPECT_NEAR(centred.front(), 1.0 / 36.0, 1e-15);
    EXPECT_NEAR(centred.back(), 2.25, 1e-12);
    EXPECT_NEAR(centred[1], 0.04526, 5e-6);
    auto shifted = imbalzano_shifted(10, 6.0);
    EXPECT_NEAR(shifted.front().r_shift, 0.6, 1e-12);
    EXPECT_NEAR(shifted.back().r_shift, 6.0 / std::pow(10.0, 0.1), 1e-12);
    EXPECT_NEAR(shifted.back().eta, 0.657, 5e-4);
    EXPECT_NEAR(shifted.front().eta, 41.43, 0.05);
}

// ---- gradients ---------------------------------------------------------------------------------


TEST(AcsfGradients, FiniteDifferencesOnCluster) {
    Structure s = cluster({6, 1, 1, 6, 8, 1, 6, 1}, 4.5, 0.9, 5);
    for (const char* cutoff_function : {"cosine", "poly2", "tanh", "exp"}) {
        json spec = explicit_spec({1, 6, 8}, 4.0, some_radial, some_angular);
        spec["cutoff_function"] = cutoff_function;
        Acsf d(spec);
        NeighbourList list = neighbour_list(s, 4.0);
        check_finite_differences(d, s.positions, list.view(), all_atoms(s.size()));
    }
}

TEST(AcsfGradients, FiniteDifferencesInSmallPeriodicCell) {
    // Images of the centre itself are neighbours here: their blocks must carry the centre's motion.
    Structure s = primitive_diamond(5.431, 0.12, 9);
    Acsf d(explicit_spec({14}, 6.0, some_radial, some_angular));
    NeighbourList list = neighbour_list(s, 6.0);
    check_finite_differences(d, s.positions, list.view(), all_atoms(s.size()));
}

TEST(AcsfGradients, FiniteDifferencesInSkewedCellWithTwoSpecies) {
    Structure s = triclinic(4, {14, 6, 14, 6, 14});
    json spec = explicit_spec({6, 14}, 5.0, some_radial, some_angular);
    spec["cutoff_function"] = "poly3";
    spec["cutoff_inner_fraction"] = 0.3;
    Acsf d(spec);
    NeighbourList list = neighbour_list(s, 5.0);
    check_finite_differences(d, s.positions, list.view(), all_atoms(s.size()));
}

TEST(AcsfGradients, EveryBlockMatchesFiniteDifferencesThroughGhostAtoms) {
    // With explicit ghosts each block belongs to a distinct atom, so moving one ghost checks one block.
    Structure s = diamond(1, 5.431, 0.1, 21);
    auto d = create_descriptor(R"({"type": "acsf", "species": [14], "cutoff": 4.5})");
    GhostSystem ghosts = with_ghosts(neighbour_list(s, 4.5));
    SystemView view = ghosts.view();
    const int64_t centers[2] = {0, 5};
    std::vector<int64_t> offsets = {0}, neighbours;
    for (int64_t c : centers) {
        neighbours.insert(neighbours.end(), ghosts.neighbours.begin() + ghosts.offsets[c], ghosts.neighbours.begin() + ghosts.offsets[c + 1]);
        offsets.push_back(static_cast<int64_t>(neighbours.size()));
    }
    view.n_centers = 2;
    view.centers = centers;
    view.offsets = offsets.data();
    view.neighbours = neighbours.data();
    std::vector<int64_t> atoms(centers, centers + 2);
    for (int64_t j : neighbours) {
        if (std::find(atoms.begin(), atoms.end(), j) == atoms.end()) atoms.push_back(j);
    }
    ASSERT_GT(atoms.size(), 40u);
    check_finite_differences(*d, ghosts.positions, view, atoms);
}

TEST(AcsfGradients, GhostAndShiftDescriptionsAgree) {
    Structure s = diamond(1, 5.431, 0.15, 17);
    auto d = create_descriptor(R"({"type": "acsf", "species": [14], "preset": "imbalzano2018", "preset_angular_form": "narrow"})");
    NeighbourList list = neighbour_list(s, d->cutoff());
    GhostSystem ghosts = with_ghosts(list);
    const int64_t nf = d->feature_count();

    auto f_shift = features_of(*d, list.view());
    auto f_ghost = features_of(*d, ghosts.view());
    // Equal up to the rounding of ghost positions (x_j + n.L is rounded before x_i is subtracted).
    expect_close_relative(f_shift, f_ghost, 1e-13);
    auto g_shift = gradients_of(*d, list.view());
    auto g_ghost = gradients_of(*d, ghosts.view());
    expect_close_relative(g_shift, g_ghost, 1e-11);  // block by block
    auto a_shift = per_atom_gradients(list.view(), g_shift, nf, s.size());
    auto a_ghost = per_atom_gradients(ghosts.view(), g_ghost, nf, s.size(), ghosts.owner);
    for (std::size_t i = 0; i < a_shift.size(); ++i) ASSERT_NEAR(a_shift[i], a_ghost[i], 1e-13) << i;
}

TEST(AcsfGradients, FeaturesAreTheSameWithAndWithoutGradients) {
    Structure s = diamond(1, 5.431, 0.1, 2);
    auto d = create_descriptor(R"({"type": "acsf", "species": [14]})");
    NeighbourList list = neighbour_list(s, 6.0);
    std::vector<double> f1 = features_of(*d, list.view());
    std::vector<double> f2(f1.size()), g(list.view().n_gradient_blocks() * 3 * d->feature_count());
    compute(*d, list.view(), f2.data(), g.data());
    for (std::size_t i = 0; i < f1.size(); ++i) ASSERT_NEAR(f1[i], f2[i], 1e-13 * std::fabs(f1[i]));
}

// ---- invariances -------------------------------------------------------------------------------

TEST(AcsfInvariance, RotationTranslationAndPermutation) {
    Structure s = diamond(1, 5.431, 0.2, 5);
    s.species[3] = 6;
    s.species[6] = 6;
    auto d = create_descriptor(R"({"type": "acsf", "species": [6, 14], "angular": [
        {"eta": 0.02, "zeta": 2, "lambda": -1, "form": "narrow"}, {"eta": 0.01, "zeta": 1, "lambda": 1}],
        "radial": [{"eta": 0.1}, {"eta": 0.5, "r_shift": 2.0}]})");
    auto reference = features_of(*d, neighbour_list(s, 6.0).view());

    Structure rotated = transformed(s, random_rotation(99));
    expect_same_features(reference, features_of(*d, neighbour_list(rotated, 6.0).view()));

    Structure moved = s;
    for (int64_t i = 0; i < s.size(); ++i) {
        moved.positions[3 * i] += 13.7;
        moved.positions[3 * i + 1] -= 4.1;
        moved.positions[3 * i + 2] += 0.3;
    }
    expect_same_features(reference, features_of(*d, neighbour_list(moved, 6.0).view()));

    // Swap like atoms (two carbons and two silicons); the features follow the atoms.
    std::vector<int64_t> order = all_atoms(s.size());
    std::swap(order[3], order[6]);
    std::swap(order[0], order[7]);
    expect_permutation_covariant(*d, s, order, reference);
}

TEST(AcsfInvariance, GradientsRotateWithTheStructure) {
    Structure s = cluster({14, 14, 14, 14, 14, 14}, 4.0, 1.8, 8);
    auto d = create_descriptor(R"({"type": "acsf", "species": [14], "cutoff": 5.0})");
    auto list = neighbour_list(s, 5.0);
    auto g = gradients_of(*d, list.view());
    Structure rotated = s;
    auto R = random_rotation(3);
    for (int64_t i = 0; i < s.size(); ++i)
        for (int k = 0; k < 3; ++k)
            rotated.positions[3 * i + k] = R[3 * k] * s.positions[3 * i] + R[3 * k + 1] * s.positions[3 * i + 1] +
                                           R[3 * k + 2] * s.positions[3 * i + 2];
    auto rotated_list = neighbour_list(rotated, 5.0);
    ASSERT_EQ(rotated_list.neighbours, list.neighbours);
    auto gr = gradients_of(*d, rotated_list.view());
    const int64_t nf = d->feature_count();
    double scale = 0.0;
    for (double x : g) scale = std::max(scale, std::fabs(x));
    for (std::size_t b = 0; b < g.size() / (3 * nf); ++b)
        for (int64_t f = 0; f < nf; ++f)
            for (int k = 0; k < 3; ++k) {
                double expected = 0.0;
                for (int m = 0; m < 3; ++m) expected += R[3 * k + m] * g[(b * 3 + m) * nf + f];
                ASSERT_NEAR(gr[(b * 3 + k) * nf + f], expected, 1e-12 * scale);
            }
}

// ---- specification -----------------------------------------------------------------------------

TEST(AcsfSpec, CanonicalParametersRoundTrip) {
    auto d = create_descriptor(R"({"type": "acsf", "species": [1, 6], "preset": "imbalzano2018", "cutoff": 5.0})");
    json canonical = d->parameters();
    auto again = create_descriptor(canonical.dump());
    EXPECT_EQ(again->parameters(), canonical);
    EXPECT_EQ(again->feature_count(), d->feature_count());
    EXPECT_EQ(canonical["cutoff_function"], "cosine");
    EXPECT_EQ(canonical["pair_sum"], "unique");
    EXPECT_EQ(canonical["radial"].size(), 16u);
    EXPECT_EQ(canonical["angular"].size(), 32u);
    // 2 species: 2 radial blocks + 3 angular pair blocks.
    EXPECT_EQ(d->feature_count(), 2 * 16 + 3 * 32);
}

TEST(AcsfSpec, LabelsFollowTheLayout) {
    auto d = create_descriptor(R"({"type": "acsf", "species": [1, 6], "radial": [{"eta": 0.5}],
        "angular": [{"eta": 0.01, "zeta": 2, "lambda": -1, "form": "narrow"}]})");
    ASSERT_EQ(d->feature_count(), 2 + 3);
    EXPECT_EQ(d->feature_label(0), "G2[H](eta=0.5,r_s=0)");
    EXPECT_EQ(d->feature_label(1), "G2[C](eta=0.5,r_s=0)");
    EXPECT_EQ(d->feature_label(2), "G3[H,H](eta=0.01,zeta=2,lambda=-1,r_s=0)");
    EXPECT_EQ(d->feature_label(3), "G3[H,C](eta=0.01,zeta=2,lambda=-1,r_s=0)");
    EXPECT_EQ(d->feature_label(4), "G3[C,C](eta=0.01,zeta=2,lambda=-1,r_s=0)");
}

TEST(AcsfSpec, EmptyEnvironmentAndSingleNeighbour) {
    auto d = create_descriptor(R"({"type": "acsf", "species": [14], "cutoff": 3.0})");
    Structure s;
    s.species = {14, 14, 14};
    s.positions = {0, 0, 0, 2.0, 0, 0, 50, 0, 0};
    auto f = features_of(*d, neighbour_list(s, 3.0).view());
    const int64_t nf = d->feature_count();
    for (int64_t k = 0; k < nf; ++k) EXPECT_EQ(f[2 * nf + k], 0.0);       // isolated atom
    for (int64_t k = 10; k < nf; ++k) EXPECT_EQ(f[k], 0.0);               // one neighbour: no angles
    const double eta0 = 1.0 / 9.0, fc = 0.5 * (std::cos(M_PI * 2.0 / 3.0) + 1.0);
    EXPECT_NEAR(f[0], std::exp(-eta0 * 4.0) * fc, 1e-15);
}
