// atomfp_descriptor_contract, the vector-Jacobian product for users' own models: forces and virial
// of E = sum_cf w_cf F_cf(x) against the explicit feature gradients, central finite differences of
// E in the positions and in a homogeneous strain, and bad input.
#include "atomfp.h"
#include "support/diamond.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

namespace {

const char* const contract_specs[] = {
    R"({"type": "soap_power_spectrum", "species": [14, 6], "cutoff": 3.5, "max_radial": 4, "max_angular": 3})",
    R"({"type": "acsf", "species": [14, 6], "cutoff": 3.5})",
    R"({"type": "omfp", "species": [14, 6], "cutoff": 3.0, "orbitals": "s", "max_atoms": 40})",
};

void ok(atomfp_status_t status) { ASSERT_EQ(status, ATOMFP_OK) << atomfp_last_error(); }

// A rattled 8-atom diamond cell, half of it relabelled C: periodic images of the centres included.
struct Crystal {
    atomfp::test::DiamondCrystal atoms = atomfp::test::rattled_diamond(1, 4.6, 0.12, 7);
    Crystal() {
        for (std::size_t i = 0; i < atoms.species.size(); i += 2) atoms.species[i] = 6;
    }
    int64_t size() const { return static_cast<int64_t>(atoms.species.size()); }
};

// E = sum_cf w_cf F_cf for the given positions and cell, through a fresh neighbour list.
double weighted_features(atomfp_descriptor_t* d, const std::vector<double>& positions, const std::vector<double>& cell,
                         const std::vector<int32_t>& species, const std::vector<double>& w) {
    double cutoff = 0, energy = 0;
    int64_t nf = 0;
    atomfp_descriptor_cutoff(d, &cutoff);
    atomfp_descriptor_feature_count(d, &nf);
    const int64_t n = static_cast<int64_t>(species.size());
    atomfp_neighbours_t* list = nullptr;
    EXPECT_EQ(atomfp_neighbours_build(n, positions.data(), species.data(), cell.data(), nullptr, cutoff, &list), ATOMFP_OK);
    atomfp_system_t system;
    atomfp_neighbours_system(list, &system);
    std::vector<double> features(n * nf);
    EXPECT_EQ(atomfp_descriptor_compute(d, &system, features.data(), nullptr), ATOMFP_OK);
    for (int64_t k = 0; k < n * nf; ++k) energy += w[k] * features[k];
    atomfp_neighbours_free(list);
    return energy;
}

TEST(CApiContract, ForcesAndVirialAreMinusTheDerivativesOfTheWeightedFeatures) {
    Crystal crystal;
    const int64_t n = crystal.size();
    for (const char* spec : contract_specs) {
        SCOPED_TRACE(spec);
        atomfp_descriptor_t* d = nullptr;
        ok(atomfp_descriptor_create(spec, &d));
        double cutoff = 0;
        int64_t nf = 0;
        ok(atomfp_descriptor_cutoff(d, &cutoff));
        ok(atomfp_descriptor_feature_count(d, &nf));
        atomfp_neighbours_t* list = nullptr;
        ok(atomfp_neighbours_build(n, crystal.atoms.positions.data(), crystal.atoms.species.data(), crystal.atoms.cell.data(),
                                   nullptr, cutoff, &list));
        atomfp_system_t system;
        ok(atomfp_neighbours_system(list, &system));
        std::mt19937 rng(3);
        std::normal_distribution<double> normal;
        std::vector<double> w(n * nf);
        for (double& x : w) x = normal(rng);

        std::vector<double> features(n * nf), forces(3 * n), virial(9);
        ok(atomfp_descriptor_contract(d, &system, w.data(), features.data(), forces.data(), virial.data()));

        // The explicit route: every gradient block, contracted and summed per atom.
        const int64_t n_blocks = n + system.offsets[n];
        std::vector<double> reference_features(n * nf), gradients(n_blocks * 3 * nf);
        ok(atomfp_descriptor_compute(d, &system, reference_features.data(), gradients.data()));
        for (int64_t k = 0; k < n * nf; ++k) EXPECT_EQ(features[k], reference_features[k]);
        std::vector<double> explicit_forces(3 * n, 0.0);
        for (int64_t c = 0; c < n; ++c) {
            for (int64_t b = 0; b <= system.offsets[c + 1] - system.offsets[c]; ++b) {
                const int64_t atom = b == 0 ? c : system.neighbours[system.offsets[c] + b - 1];
                const double* block = gradients.data() + (c + system.offsets[c] + b) * 3 * nf;
                for (int a = 0; a < 3; ++a)
                    for (int64_t f = 0; f < nf; ++f) explicit_forces[3 * atom + a] -= w[c * nf + f] * block[a * nf + f];
            }
        }
        double scale = 0;
        for (double x : explicit_forces) scale = std::max(scale, std::abs(x));
        ASSERT_GT(scale, 1e-3);
        for (int64_t k = 0; k < 3 * n; ++k) EXPECT_NEAR(forces[k], explicit_forces[k], 1e-11 * scale);

        // Central differences in the positions of two atoms.
        const double h = 1e-5;
        for (int64_t atom : {int64_t{0}, int64_t{5}}) {
            for (int a = 0; a < 3; ++a) {
                std::vector<double> plus = crystal.atoms.positions, minus = plus;
                plus[3 * atom + a] += h;
                minus[3 * atom + a] -= h;
                const double derivative = (weighted_features(d, plus, crystal.atoms.cell, crystal.atoms.species, w) -
                                           weighted_features(d, minus, crystal.atoms.cell, crystal.atoms.species, w)) /
                                          (2 * h);
                EXPECT_NEAR(forces[3 * atom + a], -derivative, 1e-6 * scale) << "atom " << atom << " direction " << a;
            }
        }
        // W_ab = -dE/d(strain_ab) with x -> x (1 + strain), rows of the cell likewise.
        for (int a = 0; a < 3; ++a) {
            for (int b = 0; b < 3; ++b) {
                auto strained = [&](double e) {
                    std::vector<double> x = crystal.atoms.positions, cell = crystal.atoms.cell;
                    for (std::vector<double>* v : {&x, &cell})
                        for (std::size_t row = 0; row < v->size() / 3; ++row) (*v)[3 * row + b] += e * (*v)[3 * row + a];
                    return weighted_features(d, x, cell, crystal.atoms.species, w);
                };
                const double derivative = (strained(h) - strained(-h)) / (2 * h);
                EXPECT_NEAR(virial[3 * a + b], -derivative, 1e-6 * scale * n) << "virial " << a << b;
            }
        }
        atomfp_neighbours_free(list);
        atomfp_descriptor_free(d);
    }
}

TEST(CApiContract, BadInputIsAStatusWithOutputsUntouched) {
    Crystal crystal;
    const int64_t n = crystal.size();
    atomfp_descriptor_t* d = nullptr;
    ok(atomfp_descriptor_create(contract_specs[1], &d));
    int64_t nf = 0;
    ok(atomfp_descriptor_feature_count(d, &nf));
    atomfp_neighbours_t* list = nullptr;
    ok(atomfp_neighbours_build(n, crystal.atoms.positions.data(), crystal.atoms.species.data(), crystal.atoms.cell.data(),
                               nullptr, 3.5, &list));
    atomfp_system_t system;
    ok(atomfp_neighbours_system(list, &system));
    std::vector<double> w(n * nf, 0.5), features(n * nf, -7.0), forces(3 * n, -7.0), virial(9, -7.0);
    auto expect_error = [&](const atomfp_descriptor_t* descriptor, const atomfp_system_t* s, const double* weights,
                            atomfp_status_t status, const std::string& needle) {
        EXPECT_EQ(atomfp_descriptor_contract(descriptor, s, weights, features.data(), forces.data(), virial.data()), status);
        EXPECT_NE(std::string(atomfp_last_error()).find(needle), std::string::npos) << atomfp_last_error();
        for (const std::vector<double>* v : {&features, &forces, &virial})
            for (double x : *v) ASSERT_EQ(x, -7.0);
    };
    expect_error(nullptr, &system, w.data(), ATOMFP_ERROR_INVALID_ARGUMENT, "descriptor");
    expect_error(d, nullptr, w.data(), ATOMFP_ERROR_INVALID_ARGUMENT, "system");
    expect_error(d, &system, nullptr, ATOMFP_ERROR_INVALID_ARGUMENT, "energy_derivatives");
    w[7] = NAN;
    expect_error(d, &system, w.data(), ATOMFP_ERROR_INVALID_ARGUMENT, "energy_derivatives[7] is not finite");
    w[7] = INFINITY;
    expect_error(d, &system, w.data(), ATOMFP_ERROR_INVALID_ARGUMENT, "energy_derivatives[7] is not finite");
    w[7] = 0.5;
    std::vector<int32_t> unknown = crystal.atoms.species;
    unknown[3] = 8;
    atomfp_system_t oxygen = system;
    oxygen.species = unknown.data();
    expect_error(d, &oxygen, w.data(), ATOMFP_ERROR_SPECIES, "species 8");
    std::vector<double> nan_positions = crystal.atoms.positions;
    nan_positions[4] = NAN;
    atomfp_system_t broken = system;
    broken.positions = nan_positions.data();
    expect_error(d, &broken, w.data(), ATOMFP_ERROR_INVALID_ARGUMENT, "not finite");
    atomfp_system_t out_of_range = system;
    std::vector<int64_t> centres(system.centers, system.centers + n);
    centres[2] = n + 4;
    out_of_range.centers = centres.data();
    expect_error(d, &out_of_range, w.data(), ATOMFP_ERROR_NEIGHBOURS, "out of range");

    // Every output may be NULL.
    EXPECT_EQ(atomfp_descriptor_contract(d, &system, w.data(), nullptr, nullptr, nullptr), ATOMFP_OK);
    EXPECT_EQ(atomfp_descriptor_contract(d, &system, w.data(), nullptr, forces.data(), nullptr), ATOMFP_OK);
    atomfp_neighbours_free(list);
    atomfp_descriptor_free(d);
}

}  // namespace
