// SOAP family against brute-force quadrature of the density integrals, the definitions of the
// invariants, finite differences, invariances, ghost/shift equivalence and bad specifications.
#include "checks.hpp"
#include "core/error.hpp"
#include "core/neighbour_list.hpp"
#include "core/special_functions.hpp"
#include "core/spherical_harmonics.hpp"
#include "descriptors/factory.hpp"
#include "descriptors/radial_basis.hpp"
#include "descriptors/soap.hpp"
#include "structures.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>

using namespace atomfp;
using namespace atomfp::test;

namespace {

// A centre at the origin with neighbours of two species, one on the z axis.
Structure small_molecule() {
    Structure s;
    s.positions = {0, 0, 0, 0, 0, 1.3, 1.1, -0.4, 0.2, -0.7, 0.9, -1.6, 2.4, 1.5, 1.0, -0.2, -1.2, -3.3};
    s.species = {6, 1, 1, 6, 1, 6};
    return s;
}

double cosine_switch(double r, double rc, double width) {
    if (r >= rc) return 0.0;
    if (r <= rc - width) return 1.0;
    return 0.5 * (1.0 + std::cos(M_PI * (r - rc + width) / width));
}

// sum_j w_j int dOmega Y_lm(Omega) exp(-|rho Omega - r_j|^2 / (2 sigma^2)) on a product grid.
struct AngularProjector {
    std::vector<double> z, wz;
    int n_phi;
    SphericalHarmonics harmonics;
    AngularProjector(int l_max) : n_phi(90), harmonics(l_max) { gauss_legendre(45, -1.0, 1.0, z, wz); }
    std::vector<double> project(double rho, const Structure& s, const std::vector<double>& weights, int32_t species,
                                double sigma) const {
        std::vector<double> out(harmonics.size(), 0.0), y(harmonics.size());
        for (std::size_t a = 0; a < z.size(); ++a) {
            for (int p = 0; p < n_phi; ++p) {
                const double phi = 2 * M_PI * p / n_phi, st = std::sqrt(1 - z[a] * z[a]);
                const double u[3] = {st * std::cos(phi), st * std::sin(phi), z[a]};
                double density = 0.0;
                for (int64_t j = 0; j < s.size(); ++j) {
                    if (s.species[j] != species || weights[j] == 0.0) continue;
                    double d2 = 0.0;
                    for (int k = 0; k < 3; ++k) d2 += (rho * u[k] - s.positions[3 * j + k]) * (rho * u[k] - s.positions[3 * j + k]);
                    density += weights[j] * std::exp(-d2 / (2 * sigma * sigma));
                }
                harmonics.evaluate(u, y.data(), nullptr);
                const double w = wz[a] * 2 * M_PI / n_phi * density;
                for (int i = 0; i < harmonics.size(); ++i) out[i] += w * y[i];
            }
        }
        return out;
    }
};

std::vector<double> density_weights(const Structure& s, double rc, double width, double centre_weight) {
    std::vector<double> w(s.size());
    for (int64_t j = 0; j < s.size(); ++j) {
        const double r = std::sqrt(s.positions[3 * j] * s.positions[3 * j] + s.positions[3 * j + 1] * s.positions[3 * j + 1] +
                                   s.positions[3 * j + 2] * s.positions[3 * j + 2]);
        w[j] = j == 0 ? centre_weight : cosine_switch(r, rc, width);
    }
    return w;
}

json expansion_spec(const std::string& basis) {
    return json{{"type", "spherical_expansion"}, {"species", {1, 6}}, {"cutoff", 4.0}, {"cutoff_width", 1.0},
                {"atomic_gaussian_width", 0.5}, {"max_radial", 4}, {"max_angular", 3}, {"center_atom_weight", 0.7},
                {"radial_basis", basis}, {"spline_accuracy", 1e-11}};
}

std::vector<double> centre_zero_features(const Descriptor& d, const Structure& s) {
    NeighbourList list = neighbour_list(s, d.cutoff());
    return features_of(d, CentreView(list.view(), {0}).view());
}

}  // namespace

TEST(SphericalExpansion, GtoCoefficientsMatchThreeDimensionalQuadrature) {
    const Structure s = small_molecule();
    SphericalExpansionDescriptor d(expansion_spec("gto"));
    const std::vector<double> c = centre_zero_features(d, s);
    GtoRadialIntegral gto(4, 0, 4.0, 0.5);
    AngularProjector projector(3);
    const std::vector<double> w = density_weights(s, 4.0, 1.0, 0.7);
    const int LM = 16;
    std::vector<double> reference(2 * 4 * LM, 0.0);
    std::vector<double> nodes, weights;
    gauss_legendre(12, 0.0, 1.0, nodes, weights);
    const double upper = 8.0, panels = 40;
    for (int p = 0; p < panels; ++p) {
        for (std::size_t q = 0; q < nodes.size(); ++q) {
            const double rho = upper * (p + nodes[q]) / panels, dr = upper / panels * weights[q];
            for (int a = 0; a < 2; ++a) {
                const std::vector<double> angular = projector.project(rho, s, w, a == 0 ? 1 : 6, 0.5);
                for (int n = 0; n < 4; ++n) {
                    double radial = 0.0;
                    for (int k = 0; k < 4; ++k) radial += gto.orthonormaliser(n, k) * std::pow(rho, k) * std::exp(-gto.exponent(k) * rho * rho);
                    for (int lm = 0; lm < LM; ++lm) reference[(a * 4 + n) * LM + lm] += dr * rho * rho * radial * angular[lm];
                }
            }
        }
    }
    expect_close_relative(c, reference, 1e-7);
}

TEST(SphericalExpansion, DvrCoefficientsMatchAngularQuadratureAtTheNodes) {
    const Structure s = small_molecule();
    SphericalExpansionDescriptor d(expansion_spec("dvr"));
    const std::vector<double> c = centre_zero_features(d, s);
    DvrRadialIntegral dvr(4, 0, 4.0, 0.5);
    AngularProjector projector(3);
    const std::vector<double> w = density_weights(s, 4.0, 1.0, 0.7);
    const int LM = 16;
    std::vector<double> reference(2 * 4 * LM);
    for (int a = 0; a < 2; ++a) {
        for (int n = 0; n < 4; ++n) {
            const double r = dvr.node(n);
            const std::vector<double> angular = projector.project(r, s, w, a == 0 ? 1 : 6, 0.5);
            for (int lm = 0; lm < LM; ++lm) reference[(a * 4 + n) * LM + lm] = std::sqrt(dvr.weight(n)) * r * r * angular[lm];
        }
    }
    expect_close_relative(c, reference, 1e-8);
}

// ---- invariants from their definitions --------------------------------------------------------

namespace {

json soap_spec(const std::string& type, const std::string& basis = "gto") {
    json spec = expansion_spec(basis);
    spec["type"] = type;
    if (type == "soap_radial_spectrum") spec.erase("max_angular");
    return spec;
}

// A 6x... contraction for the optimal basis written by hand: q = 3 functions from 5 DVR primitives.
json hand_contraction(bool mixed) {
    std::mt19937 rng(11);
    std::normal_distribution<double> g;
    json contraction = json::array();
    auto matrix = [&](int rows, int cols) {
        json m = json::array();
        for (int q = 0; q < rows; ++q) {
            json row = json::array();
            for (int n = 0; n < cols; ++n) row.push_back(g(rng));
            m.push_back(row);
        }
        return m;
    };
    if (mixed) {
        for (int l = 0; l <= 3; ++l) contraction.push_back(matrix(3, 10));
    } else {
        for (int a = 0; a < 2; ++a) {
            json per_l = json::array();
            for (int l = 0; l <= 3; ++l) per_l.push_back(matrix(3, 5));
            contraction.push_back(per_l);
        }
    }
    return contraction;
}

json optimal_spec(const std::string& type, bool mixed) {
    json spec = soap_spec(type, "optimal");
    spec["max_radial"] = 3;
    spec["optimal_basis"] = {{"primitive_basis", "dvr"}, {"primitive_max_radial", 5},
                             {"mixing", mixed ? "mixed" : "separate"}, {"contraction", hand_contraction(mixed)}};
    if (type == "soap_radial_spectrum") {
        // One matrix per l: only l = 0 here.
        json& c = spec["optimal_basis"]["contraction"];
        if (mixed) c = json::array({c[0]});
        else for (auto& per_species : c) per_species = json::array({per_species[0]});
    }
    return spec;
}

double three_j_zero(int l1, int l2, int l3) {
    // (l1 l2 l3; 0 0 0) for even l1 + l2 + l3 (Racah's closed form).
    const int L = l1 + l2 + l3, g = L / 2;
    const double log_value = 0.5 * (std::lgamma(L - 2 * l1 + 1.0) + std::lgamma(L - 2 * l2 + 1.0) + std::lgamma(L - 2 * l3 + 1.0) -
                                    std::lgamma(L + 2.0)) +
                             std::lgamma(g + 1.0) - std::lgamma(g - l1 + 1.0) - std::lgamma(g - l2 + 1.0) - std::lgamma(g - l3 + 1.0);
    return (g % 2 ? -1.0 : 1.0) * std::exp(log_value);
}

}  // namespace

TEST(SoapPowerSpectrum, EqualsItsDefinitionFromTheExpansion) {
    Structure s = small_molecule();
    json spec = soap_spec("soap_power_spectrum");
    spec["normalize"] = false;
    SoapPowerSpectrum ps(spec);
    SphericalExpansionDescriptor se(expansion_spec("gto"));
    const std::vector<double> c = centre_zero_features(se, s), p = centre_zero_features(ps, s);
    const int K = 8, L1 = 4, LM = 16;
    ASSERT_EQ(ps.feature_count(), K * (K + 1) / 2 * L1);
    // The full, redundant P_{kk'l}; the stored vector must have the same squared norm and entries.
    double full_norm2 = 0.0;
    for (int k = 0; k < K; ++k) {
        for (int kk = 0; kk < K; ++kk) {
            for (int l = 0; l < L1; ++l) {
                double sum = 0.0;
                for (int m = -l; m <= l; ++m) sum += c[k * LM + l * l + l + m] * c[kk * LM + l * l + l + m];
                const double value = M_PI * std::sqrt(8.0 / (2 * l + 1)) * sum;
                full_norm2 += value * value;
                if (kk >= k) {
                    EXPECT_NEAR(p[((k * (2 * K - k + 1)) / 2 + (kk - k)) * L1 + l], (k == kk ? 1.0 : std::sqrt(2.0)) * value,
                                1e-13 * (1 + std::abs(value)));
                }
            }
        }
    }
    double stored_norm2 = 0.0;
    for (double x : p) stored_norm2 += x * x;
    EXPECT_NEAR(stored_norm2, full_norm2, 1e-12 * full_norm2);
}

TEST(SoapBispectrum, GauntCoefficientsMatchWignerThreeJ) {
    for (int l1 = 0; l1 <= 4; ++l1)
        for (int l2 = l1; l2 <= 4; ++l2)
            for (int l3 = l2; l3 <= std::min(4, l1 + l2); ++l3) {
                if ((l1 + l2 + l3) % 2) continue;
                const auto entries = real_gaunt_coefficients(l1, l2, l3);
                double g000 = 0.0, sum_squares = 0.0;
                for (const GauntEntry& e : entries) {
                    if (e.lm1 == l1 * l1 + l1 && e.lm2 == l2 * l2 + l2 && e.lm3 == l3 * l3 + l3) g000 = e.value;
                    sum_squares += e.value * e.value;
                }
                const double tj = three_j_zero(l1, l2, l3);
                const double prefactor = (2 * l1 + 1.0) * (2 * l2 + 1.0) * (2 * l3 + 1.0) / (4 * M_PI);
                EXPECT_NEAR(g000, std::sqrt(prefactor) * tj * tj, 1e-13) << l1 << l2 << l3;
                // Orthogonality of 3j symbols: sum over m of the squared Gaunt coefficients.
                EXPECT_NEAR(sum_squares, prefactor * tj * tj, 1e-12) << l1 << l2 << l3;
            }
}

TEST(SoapBispectrum, EqualsTheTripleProductOfTheExpansion) {
    Structure s = small_molecule();
    json spec = soap_spec("soap_bispectrum");
    spec["normalize"] = false;
    spec["max_radial"] = 2;
    spec["max_angular"] = 2;
    json expansion = expansion_spec("gto");
    expansion["max_radial"] = 2;
    expansion["max_angular"] = 2;
    SoapBispectrum b(spec);
    SphericalExpansionDescriptor se(expansion);
    const std::vector<double> c = centre_zero_features(se, s), features = centre_zero_features(b, s);
    const int K = 4, LM = 9;
    // Brute force over all ordered triples of (k, l) and all m, with the Gaunt integral done by
    // quadrature here: the squared norm of the stored vector equals the full redundant sum.
    SphericalHarmonics sh(2);
    std::vector<double> z, wz;
    gauss_legendre(8, -1.0, 1.0, z, wz);
    const int n_phi = 10;
    std::vector<double> gaunt(LM * LM * LM, 0.0), y(LM);
    for (std::size_t a = 0; a < z.size(); ++a)
        for (int p = 0; p < n_phi; ++p) {
            const double phi = 2 * M_PI * p / n_phi, st = std::sqrt(1 - z[a] * z[a]);
            const double u[3] = {st * std::cos(phi), st * std::sin(phi), z[a]};
            sh.evaluate(u, y.data(), nullptr);
            for (int i = 0; i < LM; ++i)
                for (int j = 0; j < LM; ++j)
                    for (int k = 0; k < LM; ++k) gaunt[(i * LM + j) * LM + k] += wz[a] * 2 * M_PI / n_phi * y[i] * y[j] * y[k];
        }
    double full_norm2 = 0.0;
    for (int k1 = 0; k1 < K; ++k1)
        for (int k2 = 0; k2 < K; ++k2)
            for (int k3 = 0; k3 < K; ++k3)
                for (int l1 = 0; l1 <= 2; ++l1)
                    for (int l2 = 0; l2 <= 2; ++l2)
                        for (int l3 = 0; l3 <= 2; ++l3) {
                            double value = 0.0;
                            for (int i = l1 * l1; i < (l1 + 1) * (l1 + 1); ++i)
                                for (int j = l2 * l2; j < (l2 + 1) * (l2 + 1); ++j)
                                    for (int k = l3 * l3; k < (l3 + 1) * (l3 + 1); ++k)
                                        value += gaunt[(i * LM + j) * LM + k] * c[k1 * LM + i] * c[k2 * LM + j] * c[k3 * LM + k];
                            full_norm2 += value * value;
                        }
    double stored_norm2 = 0.0;
    for (double x : features) stored_norm2 += x * x;
    EXPECT_GT(stored_norm2, 0.0);
    EXPECT_NEAR(stored_norm2, full_norm2, 1e-10 * full_norm2);
}

// ---- invariances ------------------------------------------------------------------------------

namespace {

std::vector<json> invariant_specs() {
    std::vector<json> specs;
    for (const char* type : {"soap_radial_spectrum", "soap_power_spectrum", "soap_bispectrum"}) {
        for (const char* basis : {"gto", "dvr"}) {
            json spec = soap_spec(type, basis);
            if (std::string(type) == "soap_bispectrum") {
                spec["max_radial"] = 3;
                spec["max_angular"] = 2;
            }
            specs.push_back(spec);
        }
        specs.push_back(optimal_spec(type, false));
        specs.push_back(optimal_spec(type, true));
    }
    // Shorter cutoffs for two of the three species pairs, one also with a narrower switch.
    json pairs = soap_spec("soap_power_spectrum");
    pairs["pair_cutoffs"] = {{"H-H", {{"cutoff", 2.5}}}, {"C-H", {{"cutoff", 3.2}, {"cutoff_width", 0.4}}}};
    specs.push_back(pairs);
    return specs;
}

Structure mixed_crystal() {
    Structure s = diamond(1, 3.6, 0.15, 5);
    s.species.assign(s.size(), 6);
    s.species[3] = s.species[6] = 1;
    return s;
}

}  // namespace

TEST(SoapInvariance, ProperAndImproperRotationsTranslationsAndPermutations) {
    const Structure s = mixed_crystal();
    std::array<double, 9> inversion_rotation = random_rotation(7);
    for (double& x : inversion_rotation) x = -x;
    for (const json& spec : invariant_specs()) {
        auto d = create_descriptor_from_spec(spec);
        SCOPED_TRACE(spec.dump().substr(0, 120));
        const double rc = d->cutoff();
        const std::vector<double> reference = features_of(*d, neighbour_list(s, rc).view());
        expect_same_features(reference, features_of(*d, neighbour_list(transformed(s, random_rotation(42)), rc).view()));
        expect_same_features(reference, features_of(*d, neighbour_list(transformed(s, inversion_rotation), rc).view()));
        Structure moved = s;
        for (int64_t i = 0; i < s.size(); ++i) moved.positions[3 * i] += 7.3;
        expect_same_features(reference, features_of(*d, neighbour_list(moved, rc).view()));
        std::vector<int64_t> order = all_atoms(s.size());
        std::swap(order[3], order[6]);
        std::swap(order[0], order[7]);
        expect_permutation_covariant(*d, s, order, reference);
    }
}

TEST(SoapInvariance, ExpansionTransformsAsSphericalHarmonicsUnderInversion) {
    // c_{klm} -> (-1)^l c_{klm}: the covariant nu = 1 features are not invariant, and must not be.
    const Structure s = mixed_crystal();
    std::array<double, 9> inversion = {-1, 0, 0, 0, -1, 0, 0, 0, -1};
    SphericalExpansionDescriptor d(expansion_spec("gto"));
    const auto a = features_of(d, neighbour_list(s, 4.0).view());
    const auto b = features_of(d, neighbour_list(transformed(s, inversion), 4.0).view());
    const int LM = 16;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const int lm = static_cast<int>(i % LM), l = static_cast<int>(std::sqrt(lm + 0.5));
        ASSERT_NEAR(b[i], (l % 2 ? -1.0 : 1.0) * a[i], 1e-12 * (1 + std::abs(a[i])));
    }
}

// ---- gradients --------------------------------------------------------------------------------

TEST(SoapGradients, FiniteDifferencesForEveryTypeAndBasis) {
    Structure s = cluster({6, 1, 1, 6, 1, 6}, 3.5, 0.9, 5);
    NeighbourList list = neighbour_list(s, 4.0);
    std::vector<json> specs = invariant_specs();
    for (const char* basis : {"gto", "dvr"}) specs.push_back(expansion_spec(basis));
    specs.push_back(optimal_spec("spherical_expansion", true));
    json scaled = soap_spec("soap_power_spectrum");
    scaled["radial_scaling"] = {{"r0", 2.0}, {"exponent", 3.0}};
    specs.push_back(scaled);
    for (const json& spec : specs) {
        SCOPED_TRACE(spec.dump().substr(0, 160));
        auto d = create_descriptor_from_spec(spec);
        check_finite_differences(*d, s.positions, list.view(), all_atoms(s.size()), 1e-6, 1e-5);
    }
}

TEST(SoapGradients, FiniteDifferencesWithImagesOfTheCentre) {
    Structure s = primitive_diamond(5.431, 0.12, 9);
    for (const char* type : {"soap_power_spectrum", "soap_bispectrum", "spherical_expansion"}) {
        json spec = {{"type", type}, {"species", {14}}, {"cutoff", 5.0}, {"max_radial", 4}, {"max_angular", 3}};
        auto d = create_descriptor_from_spec(spec);
        check_finite_differences(*d, s.positions, neighbour_list(s, 5.0).view(), all_atoms(s.size()));
    }
}

TEST(SoapGradients, GhostAndShiftDescriptionsAgree) {
    Structure s = diamond(1, 5.431, 0.15, 17);
    for (const char* type : {"soap_power_spectrum", "soap_bispectrum"}) {
        json spec = {{"type", type}, {"species", {14}}, {"cutoff", 4.5}, {"max_radial", 4}, {"max_angular", 3}};
        auto d = create_descriptor_from_spec(spec);
        NeighbourList list = neighbour_list(s, d->cutoff());
        GhostSystem ghosts = with_ghosts(list);
        const int64_t nf = d->feature_count();
        expect_close_relative(features_of(*d, list.view()), features_of(*d, ghosts.view()), 1e-12);
        auto g_shift = gradients_of(*d, list.view());
        auto g_ghost = gradients_of(*d, ghosts.view());
        auto a_shift = per_atom_gradients(list.view(), g_shift, nf, s.size());
        auto a_ghost = per_atom_gradients(ghosts.view(), g_ghost, nf, s.size(), ghosts.owner);
        expect_close_relative(a_shift, a_ghost, 1e-10);
    }
}

TEST(SoapGradients, FeaturesAreTheSameWithAndWithoutGradients) {
    Structure s = diamond(1, 5.431, 0.1, 2);
    auto d = create_descriptor(R"({"type": "soap_power_spectrum", "species": [14]})");
    NeighbourList list = neighbour_list(s, d->cutoff());
    std::vector<double> f1 = features_of(*d, list.view());
    std::vector<double> f2(f1.size()), g(list.view().n_gradient_blocks() * 3 * d->feature_count());
    compute(*d, list.view(), f2.data(), g.data());
    for (std::size_t i = 0; i < f1.size(); ++i) ASSERT_NEAR(f1[i], f2[i], 1e-14);
}

// ---- cutoffs per species pair ------------------------------------------------------------------

namespace {

std::vector<double> centre_coefficients(const Descriptor& d, int32_t neighbour_species, double r) {
    const double positions[6] = {0, 0, 0, 0.3 * r, -0.4 * r, std::sqrt(0.75) * r};
    const int32_t species[2] = {6, neighbour_species};
    NeighbourList list = build_neighbour_list(2, positions, species, nullptr, nullptr, d.cutoff());
    return features_of(d, CentreView(list.view(), {0}).view());
}

}  // namespace

// A neighbour's density is weighted by the switch of its pair with the centre: the expansion of
// one neighbour (no centre atom) scales by the ratio of the pair's switch to the global one.
TEST(SoapPairCutoffs, NeighbourWeightIsThePairsSwitch) {
    json global = expansion_spec("gto");
    global["center_atom_weight"] = 0.0;
    json paired = global;
    paired["pair_cutoffs"] = {{"C-H", {{"cutoff", 3.0}, {"cutoff_width", 0.6}}}};
    auto plain = create_descriptor_from_spec(global);
    auto pair = create_descriptor_from_spec(paired);
    for (double r : {1.1, 2.5, 2.7, 2.95, 3.2, 3.5}) {
        SCOPED_TRACE(r);
        const double ratio = cosine_switch(r, 3.0, 0.6) / cosine_switch(r, 4.0, 1.0);
        const std::vector<double> a = centre_coefficients(*plain, 1, r), b = centre_coefficients(*pair, 1, r);
        double largest = 0.0;
        for (double x : a) largest = std::max(largest, std::abs(x));
        ASSERT_GT(largest, 1e-6);
        for (std::size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(b[i], ratio * a[i], 1e-12 * largest);
        // C-C keeps the global cutoff.
        const std::vector<double> c = centre_coefficients(*plain, 6, r), e = centre_coefficients(*pair, 6, r);
        for (std::size_t i = 0; i < c.size(); ++i) ASSERT_EQ(c[i], e[i]);
    }
}

// A centre's features do not change when the atoms beyond their pair cutoff from it are deleted.
TEST(SoapPairCutoffs, NeighboursBeyondTheirPairCutoffAreInvisible) {
    json spec = soap_spec("soap_power_spectrum");
    spec["pair_cutoffs"] = {{"C-H", {{"cutoff", 2.2}, {"cutoff_width", 0.3}}}};
    auto d = create_descriptor_from_spec(spec);
    const Structure s = cluster({6, 1, 1, 6, 1, 6, 1, 6, 1, 1}, 5.0, 0.9, 11);
    const std::vector<double> all = features_of(*d, neighbour_list(s, d->cutoff()).view());
    const int64_t nf = d->feature_count();
    int removed_total = 0;
    for (int64_t centre = 0; centre < s.size(); ++centre) {
        Structure kept;
        kept.species = {s.species[centre]};
        kept.positions = {s.positions[3 * centre], s.positions[3 * centre + 1], s.positions[3 * centre + 2]};
        for (int64_t j = 0; j < s.size(); ++j) {
            if (j == centre) continue;
            double r2 = 0.0;
            for (int k = 0; k < 3; ++k) r2 += std::pow(s.positions[3 * j + k] - s.positions[3 * centre + k], 2);
            if (s.species[j] != s.species[centre] && std::sqrt(r2) >= 2.2) {
                ++removed_total;
                continue;
            }
            kept.species.push_back(s.species[j]);
            for (int k = 0; k < 3; ++k) kept.positions.push_back(s.positions[3 * j + k]);
        }
        NeighbourList list = neighbour_list(kept, d->cutoff());
        const std::vector<double> alone = features_of(*d, CentreView(list.view(), {0}).view());
        const std::vector<double> in_full(all.begin() + centre * nf, all.begin() + (centre + 1) * nf);
        expect_close_relative(alone, in_full, 1e-12);
    }
    EXPECT_GT(removed_total, 10);  // the check removed atoms that the global cutoff sees
}

TEST(SoapPairCutoffs, CanonicalSpecificationAndBadPairs) {
    json spec = soap_spec("soap_power_spectrum");
    spec["pair_cutoffs"] = {{"H-C", {{"cutoff", 3.0}}}};
    auto d = create_descriptor_from_spec(spec);
    const json canonical = d->parameters();
    EXPECT_EQ(canonical["pair_cutoffs"], json::parse(R"({"H-C": {"cutoff": 3.0, "cutoff_width": 1.0}})"));
    EXPECT_EQ(create_descriptor_from_spec(canonical)->parameters(), canonical);
    const std::vector<std::pair<json, std::string>> cases = {
        {{{"C-O", {{"cutoff", 3.0}}}}, "not a pair of the descriptor's species"},
        {{{"C-H", {{"cutoff", 4.5}}}}, "pair_cutoffs.C-H.cutoff"},
        {{{"C-H", {{"cutoff", 0.0}}}}, "pair_cutoffs.C-H.cutoff"},
        {{{"C-H", {{"cutoff", 3.0}, {"cutoff_width", 3.5}}}}, "pair_cutoffs.C-H.cutoff_width"},
        {{{"C-H", {{"cutoff", 3.0}, {"width", 0.5}}}}, "width"},
        {{{"CH", {{"cutoff", 3.0}}}}, "not two elements"},
        {{{"C-H", {{"cutoff", 3.0}}}, {"H-C", {{"cutoff", 2.0}}}}, "twice"},
        {{{"C-H", 3.0}}, "must be an object"},
        {json::array({3.0}), "must map element pairs"},
    };
    for (const auto& [pairs, key] : cases) {
        json bad = spec;
        bad["pair_cutoffs"] = pairs;
        try {
            create_descriptor_from_spec(bad);
            ADD_FAILURE() << "accepted: " << pairs.dump();
        } catch (const Error& e) {
            EXPECT_EQ(e.status(), Status::json_error) << pairs.dump();
            EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
        }
    }
}

// ---- specification ----------------------------------------------------------------------------

TEST(SoapSpec, CanonicalParametersRoundTripAndDefaults) {
    for (const char* type : {"spherical_expansion", "soap_radial_spectrum", "soap_power_spectrum", "soap_bispectrum"}) {
        json spec = {{"type", type}, {"species", {14, 8}}, {"max_radial", 3}};
        if (std::string(type) != "soap_radial_spectrum") spec["max_angular"] = 2;
        auto d = create_descriptor_from_spec(spec);
        json canonical = d->parameters();
        auto again = create_descriptor_from_spec(canonical);
        EXPECT_EQ(again->parameters(), canonical) << type;
        EXPECT_EQ(canonical["cutoff"], 5.0);
        EXPECT_EQ(canonical["atomic_gaussian_width"], 0.5);
        EXPECT_EQ(canonical["radial_basis"], "gto");
        EXPECT_EQ(canonical["normalize"], std::string(type) == "soap_power_spectrum" || std::string(type) == "soap_bispectrum");
    }
    auto optimal = create_descriptor_from_spec(optimal_spec("soap_power_spectrum", true));
    EXPECT_EQ(create_descriptor_from_spec(optimal->parameters())->parameters(), optimal->parameters());
}

TEST(SoapSpec, FeatureCountsAndLabels) {
    auto ps = create_descriptor(R"({"type": "soap_power_spectrum", "species": [14], "max_radial": 8, "max_angular": 6})");
    EXPECT_EQ(ps->feature_count(), 252);
    EXPECT_EQ(ps->feature_label(0), "p[Si,n=0;Si,n=0,l=0]");
    EXPECT_EQ(ps->feature_label(7 + 2), "p[Si,n=0;Si,n=1,l=2]");
    auto se = create_descriptor(R"({"type": "spherical_expansion", "species": [1, 6], "max_radial": 2, "max_angular": 1})");
    EXPECT_EQ(se->feature_count(), 2 * 2 * 4);
    EXPECT_EQ(se->feature_label(4 * 3 + 1), "c[C,n=1,l=1,m=-1]");
    auto rs = create_descriptor(R"({"type": "soap_radial_spectrum", "species": [1, 6], "max_radial": 5})");
    EXPECT_EQ(rs->feature_count(), 10);
    EXPECT_EQ(rs->feature_label(6), "c[C,n=1,l=0,m=0]");
    auto mixed = create_descriptor_from_spec(optimal_spec("soap_power_spectrum", true));
    EXPECT_EQ(mixed->feature_label(0), "p[q=0;q=0,l=0]");
    auto b = create_descriptor(R"({"type": "soap_bispectrum", "species": [14], "max_radial": 1, "max_angular": 2})");
    // (l1, l2, l3) with l1 <= l2 <= l3, triangle rule, even sum: 000, 011, 022, 112, 222.
    EXPECT_EQ(b->feature_count(), 5);
    EXPECT_EQ(b->feature_label(3), "b[Si,n=0,l=1;Si,n=0,l=1;Si,n=0,l=2]");
}

TEST(SoapSpec, BadSpecificationsAreClearErrors) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {R"({"type": "soap_power_spectrum", "species": [14], "max_angular": 21})", "max_angular"},
        {R"({"type": "soap_power_spectrum", "species": [14], "max_radial": 0})", "max_radial"},
        {R"({"type": "soap_power_spectrum", "species": [14], "atomic_gaussian_width": 0})", "atomic_gaussian_width"},
        {R"({"type": "soap_power_spectrum", "species": [14], "atomic_gaussian_width": -0.5})", "atomic_gaussian_width"},
        {R"({"type": "soap_power_spectrum", "species": [14], "cutoff": 4, "cutoff_width": 4.5})", "cutoff_width"},
        {R"({"type": "soap_power_spectrum", "species": [14], "radial_basis": "bessel"})", "radial_basis"},
        {R"({"type": "soap_power_spectrum", "species": [14], "radial_basis": "optimal", "max_radial": 2})", "optimal_basis"},
        {R"({"type": "soap_power_spectrum", "species": [14], "max_angular": 1, "radial_basis": "optimal", "max_radial": 2,
             "optimal_basis": {"primitive_basis": "gto", "primitive_max_radial": 3, "contraction": [[[[1, 0, 0]], [[1, 0, 0]]]]}})",
         "contraction"},
        {R"({"type": "soap_power_spectrum", "species": [14], "max_angular": 0, "radial_basis": "optimal", "max_radial": 1,
             "optimal_basis": {"primitive_basis": "gto", "primitive_max_radial": 2, "contraction": [[[[1, "x"]]]]}})",
         "contraction"},
        {R"({"type": "soap_power_spectrum", "species": [14], "max_radial": 21})", "max_radial"},
        {R"({"type": "soap_power_spectrum", "species": [14], "spline_accuracy": 1e-20})", "spline_accuracy"},
        {R"({"type": "soap_power_spectrum", "species": [14], "normalize": "yes"})", "normalize"},
        {R"({"type": "soap_radial_spectrum", "species": [14], "max_angular": 2})", "max_angular"},
        {R"({"type": "soap_bispectrum", "species": [1, 6], "cutoff": 1.0, "max_radial": 2, "max_angular": 11})", "max_angular"},
        {R"({"type": "soap_power_spectrum", "species": []})", "species"},
        {R"({"type": "soap_power_spectrum", "species": [14], "radial_scaling": {"r0": 2}})", "exponent"},
        {R"({"type": "soap_bispectrum", "species": [1, 6, 7, 8], "max_radial": 12, "max_angular": 10, "spline_accuracy": 1e-6})",
         "features"},
    };
    for (const auto& [text, key] : cases) {
        try {
            create_descriptor(text);
            ADD_FAILURE() << "accepted: " << text;
        } catch (const Error& e) {
            EXPECT_EQ(e.status(), Status::json_error) << text;
            EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
        }
    }
}

// A centre with no neighbour inside the cutoff: every SOAP type gives the centre-only features and
// zero gradients (and, under clang's UBSan, no arithmetic on null workspace pointers).
TEST(SoapFamily, IsolatedCentreHasCentreOnlyFeaturesAndZeroGradients) {
    const double positions[6] = {0, 0, 0, 9, 0, 0};
    const int32_t species[2] = {14, 14};
    NeighbourList list = build_neighbour_list(2, positions, species, nullptr, nullptr, 4.0);
    ASSERT_EQ(list.offsets.back(), 0);
    for (const char* type : {"spherical_expansion", "soap_radial_spectrum", "soap_power_spectrum", "soap_bispectrum"}) {
        const bool angular = std::string(type) != "soap_radial_spectrum";
        const std::string spec = std::string(R"({"type": ")") + type + R"(", "species": [14], "cutoff": 4.0, "max_radial": 3, )" +
                                 (angular ? R"("max_angular": 2, )" : "") + R"("normalize": false})";
        const auto d = create_descriptor(spec);
        const int64_t nf = d->feature_count();
        std::vector<double> features(2 * nf, -7.0), gradients(2 * 3 * nf, -7.0), features_only(2 * nf, -7.0);
        compute(*d, list.view(), features.data(), gradients.data());
        compute(*d, list.view(), features_only.data(), nullptr);
        for (int64_t f = 0; f < 2 * nf; ++f) {
            EXPECT_TRUE(std::isfinite(features[f])) << type;
            EXPECT_EQ(features[f], features_only[f]) << type;
        }
        for (double g : gradients) EXPECT_EQ(g, 0.0) << type;
        EXPECT_EQ(std::vector<double>(features.begin(), features.begin() + nf),
                  std::vector<double>(features.begin() + nf, features.end()))
            << type << ": both isolated centres are alike";
        EXPECT_TRUE(std::any_of(features.begin(), features.end(), [](double x) { return x != 0.0; })) << type;
    }
}
