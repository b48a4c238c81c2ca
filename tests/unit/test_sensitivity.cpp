// Sensitivity matrices: the Jacobian against finite differences, the rigid-body null space, the
// rigid-free spectrum against the full one, and the C API's argument checks.
#include "analysis/sensitivity.hpp"
#include "atomfp.h"
#include "checks.hpp"
#include "core/lapack.hpp"
#include "descriptors/factory.hpp"
#include "structures.hpp"

#include <gtest/gtest.h>

#include <cmath>

using namespace atomfp;
using namespace atomfp::test;

namespace {

// A generically distorted methane-like molecule and a second species, all within the cutoff of atom 0.
Structure molecule() {
    Structure s;
    s.positions = {0.02, -0.01, 0.03, 0.63, 0.61, 0.66, -0.65, -0.58, 0.62, -0.61, 0.67, -0.60, 0.66, -0.63, -0.69, 1.9, 0.3, -0.4};
    s.species = {6, 1, 1, 1, 1, 8};
    return s;
}

const char* soap_spec = R"({"type": "soap_power_spectrum", "species": [1, 6, 8], "cutoff": 4.0, "max_radial": 6, "max_angular": 5})";
const char* acsf_spec = R"({"type": "acsf", "species": [1, 6, 8], "cutoff": 4.0})";

}  // namespace

TEST(Sensitivity, JacobianMatchesFiniteDifferencesOfTheCentreFeatures) {
    Structure s = molecule();
    for (const char* spec : {soap_spec, acsf_spec}) {
        auto d = create_descriptor(spec);
        NeighbourList list = neighbour_list(s, d->cutoff());
        const EnvironmentJacobian J = environment_jacobian(*d, list.view(), 0);
        ASSERT_EQ(J.n_atoms, 6);
        const int64_t nf = d->feature_count(), n = 3 * J.n_atoms;
        double scale = 0.0;
        for (double x : J.transposed) scale = std::max(scale, std::abs(x));
        // Environment entry a is atom a here (a cluster, list order = atom order).
        for (int64_t a = 0; a < J.n_atoms; ++a) {
            for (int alpha = 0; alpha < 3; ++alpha) {
                const double h = 1e-5;
                Structure plus = s, minus = s;
                plus.positions[3 * a + alpha] += h;
                minus.positions[3 * a + alpha] -= h;
                const auto fp = features_of(*d, neighbour_list(plus, d->cutoff()).view());
                const auto fm = features_of(*d, neighbour_list(minus, d->cutoff()).view());
                for (int64_t f = 0; f < nf; ++f) {
                    const double fd = (fp[f] - fm[f]) / (2 * h);
                    ASSERT_NEAR(J.transposed[(3 * a + alpha) * nf + f], fd, 1e-6 * std::max(std::abs(fd), 1e-3 * scale)) << spec;
                }
            }
        }
    }
}

TEST(Sensitivity, RigidBasisIsOrthonormalAndSpansTranslationsAndRotations) {
    Structure s = molecule();
    std::vector<double> rigid, complement;
    rigid_body_basis(s.size(), s.positions.data(), rigid, complement);
    const int64_t n = 3 * s.size();
    ASSERT_EQ(rigid.size(), 6u * n);
    ASSERT_EQ(complement.size(), (n - 6) * n);
    std::vector<double> all = rigid;
    all.insert(all.end(), complement.begin(), complement.end());
    for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < n; ++j) {
            double d = 0.0;
            for (int64_t k = 0; k < n; ++k) d += all[i * n + k] * all[j * n + k];
            ASSERT_NEAR(d, i == j ? 1.0 : 0.0, 1e-12) << i << "," << j;
        }
    // A rotation about z of every atom lies in the rigid span: no component along the complement.
    std::vector<double> rotation(n);
    for (int64_t a = 0; a < s.size(); ++a) {
        rotation[3 * a] = -s.positions[3 * a + 1];
        rotation[3 * a + 1] = s.positions[3 * a];
        rotation[3 * a + 2] = 0.0;
    }
    for (int64_t i = 0; i < n - 6; ++i) {
        double d = 0.0;
        for (int64_t k = 0; k < n; ++k) d += complement[i * n + k] * rotation[k];
        ASSERT_NEAR(d, 0.0, 1e-12);
    }
    // Collinear atoms have only two rotations.
    const std::vector<double> line = {0, 0, 0, 0, 0, 1.1, 0, 0, -1.3};
    rigid_body_basis(3, line.data(), rigid, complement);
    EXPECT_EQ(rigid.size(), 5u * 9);
    EXPECT_EQ(complement.size(), 4u * 9);
}

TEST(Sensitivity, MatrixIsSymmetricPositiveSemidefiniteWithExactlySixRigidZeros) {
    Structure s = molecule();
    for (const char* spec : {soap_spec, acsf_spec}) {
        auto d = create_descriptor(spec);
        NeighbourList list = neighbour_list(s, d->cutoff());
        const EnvironmentJacobian J = environment_jacobian(*d, list.view(), 0);
        const int64_t n = 3 * J.n_atoms;
        std::vector<double> S = sensitivity_matrix(J, 0);
        for (int64_t i = 0; i < n; ++i)
            for (int64_t j = 0; j < n; ++j) ASSERT_EQ(S[i * n + j], S[j * n + i]);
        std::vector<double> values, vectors;
        EXPECT_EQ(sensitivity_spectrum(J, 0, values, &vectors), 6);
        const double largest = values.back();
        ASSERT_GT(largest, 0.0);
        for (int k = 0; k < 6; ++k) EXPECT_LE(std::abs(values[k]), 1e-10 * largest) << spec << " eigenvalue " << k;
        EXPECT_GT(values[6], 1e-8 * largest) << spec;
        // S v = lambda v for every mode, and the modes are orthonormal.
        for (int64_t k = 0; k < n; ++k) {
            for (int64_t i = 0; i < n; ++i) {
                double sv = 0.0;
                for (int64_t j = 0; j < n; ++j) sv += S[i * n + j] * vectors[k * n + j];
                ASSERT_NEAR(sv, values[k] * vectors[k * n + i], 1e-10 * largest);
            }
        }
        // Without the rigid modes: six exact zeros, then the same nonzero spectrum.
        std::vector<double> reduced;
        sensitivity_spectrum(J, sensitivity_remove_rigid, reduced, nullptr);
        for (int k = 0; k < 6; ++k) EXPECT_EQ(reduced[k], 0.0);
        for (int64_t k = 6; k < n; ++k) EXPECT_NEAR(reduced[k], values[k], 1e-10 * largest) << spec << " " << k;
        // Scaled: the largest is 1.
        std::vector<double> scaled;
        sensitivity_spectrum(J, sensitivity_remove_rigid | sensitivity_scale_max, scaled, nullptr);
        EXPECT_NEAR(scaled.back(), 1.0, 1e-15);
        EXPECT_NEAR(scaled[6], reduced[6] / reduced.back(), 1e-15);
        EXPECT_NEAR(condition_number(reduced, 6), std::sqrt(reduced.back() / reduced[6]), 1e-12 * condition_number(reduced, 6));
        // The projected matrix annihilates the rigid modes and keeps the spectrum.
        std::vector<double> projected = sensitivity_matrix(J, sensitivity_remove_rigid), projected_values;
        symmetric_eigen(static_cast<int>(n), projected, projected_values);
        for (int64_t k = 0; k < n; ++k) EXPECT_NEAR(projected_values[k], reduced[k], 1e-10 * largest);
    }
}

namespace {

// molecule() as an open cluster through the C API, with the ACSF descriptor.
struct MoleculeThroughCApi {
    Structure s = molecule();
    atomfp_descriptor_t* d = nullptr;
    atomfp_neighbours_t* list = nullptr;
    atomfp_system_t system{};
    MoleculeThroughCApi() {
        EXPECT_EQ(atomfp_descriptor_create(acsf_spec, &d), ATOMFP_OK);
        EXPECT_EQ(atomfp_neighbours_build(s.size(), s.positions.data(), s.species.data(), nullptr, nullptr, 4.5, &list), ATOMFP_OK);
        EXPECT_EQ(atomfp_neighbours_system(list, &system), ATOMFP_OK);
    }
    ~MoleculeThroughCApi() {
        atomfp_neighbours_free(list);
        atomfp_descriptor_free(d);
    }
};

}  // namespace

TEST(Sensitivity, CApiChecksItsArguments) {
    MoleculeThroughCApi m;
    const Structure& s = m.s;
    atomfp_descriptor_t* d = m.d;
    atomfp_system_t& system = m.system;
    int64_t n = 0;
    ASSERT_EQ(atomfp_sensitivity_size(d, &system, 0, &n), ATOMFP_OK);
    EXPECT_EQ(n, 6);
    std::vector<double> values(3 * n, 42.0), vectors(9 * n * n), matrix(9 * n * n, 42.0);
    EXPECT_EQ(atomfp_sensitivity_spectrum(d, &system, 0, ATOMFP_SENSITIVITY_REMOVE_RIGID, values.data(), vectors.data()), ATOMFP_OK);
    EXPECT_EQ(values[0], 0.0);
    EXPECT_EQ(atomfp_sensitivity_matrix(d, &system, 0, ATOMFP_SENSITIVITY_SCALE_MAX, matrix.data()), ATOMFP_OK);

    std::fill(values.begin(), values.end(), 42.0);
    EXPECT_EQ(atomfp_sensitivity_spectrum(d, &system, 6, 0, values.data(), nullptr), ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(atomfp_last_error()).find("out of range"), std::string::npos);
    EXPECT_EQ(atomfp_sensitivity_spectrum(d, &system, -1, 0, values.data(), nullptr), ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(atomfp_sensitivity_spectrum(d, &system, 0, 4, values.data(), nullptr), ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(atomfp_last_error()).find("flags"), std::string::npos);
    EXPECT_EQ(atomfp_sensitivity_matrix(d, &system, 0, -1, values.data()), ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(atomfp_sensitivity_spectrum(d, &system, 0, 0, nullptr, nullptr), ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(atomfp_sensitivity_matrix(nullptr, &system, 0, 0, values.data()), ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(atomfp_sensitivity_size(d, nullptr, 0, &n), ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(atomfp_sensitivity_size(d, &system, 0, nullptr), ATOMFP_ERROR_INVALID_ARGUMENT);
    std::vector<double> bad = s.positions;
    bad[4] = std::nan("");
    atomfp_system_t broken = system;
    broken.positions = bad.data();
    EXPECT_EQ(atomfp_sensitivity_spectrum(d, &broken, 0, 0, values.data(), nullptr), ATOMFP_ERROR_INVALID_ARGUMENT);
    for (double v : values) EXPECT_EQ(v, 42.0);  // untouched on every failure
}

namespace {

// The blind-spot index of every centre through the C API.
void blind_spots(const char* spec, const Structure& s, double cutoff, double threshold, std::vector<double>& index,
                 std::vector<int64_t>& below) {
    atomfp_descriptor_t* d = nullptr;
    ASSERT_EQ(atomfp_descriptor_create(spec, &d), ATOMFP_OK) << atomfp_last_error();
    atomfp_neighbours_t* list = nullptr;
    ASSERT_EQ(atomfp_neighbours_build(s.size(), s.positions.data(), s.species.data(), nullptr, nullptr, cutoff, &list), ATOMFP_OK);
    atomfp_system_t system;
    ASSERT_EQ(atomfp_neighbours_system(list, &system), ATOMFP_OK);
    index.assign(s.size(), -1.0);
    below.assign(s.size(), -1);
    ASSERT_EQ(atomfp_blind_spot_indices(d, &system, threshold, index.data(), below.data()), ATOMFP_OK) << atomfp_last_error();
    atomfp_neighbours_free(list);
    atomfp_descriptor_free(d);
}

}  // namespace

// The index against the full eigendecomposition of J^T J done here: the analytic S of the whole
// environment, its rigid modes projected out with a basis built in the test by Gram-Schmidt, every
// eigenvalue of P S P, the six (rigid) smallest dropped.
TEST(BlindSpot, IndexIsTheSmallestNonRigidEigenvalueOverTheLargest) {
    const Structure s = molecule();
    std::vector<double> index;
    std::vector<int64_t> below;
    blind_spots(soap_spec, s, 4.0, 1e-3, index, below);
    const NeighbourList list = neighbour_list(s, 4.0);
    auto d = create_descriptor(soap_spec);
    for (int64_t c = 0; c < s.size(); ++c) {
        const EnvironmentJacobian j = environment_jacobian(*d, list.view(), c);
        const int64_t n = 3 * j.n_atoms;
        std::vector<double> S = sensitivity_matrix(j, 0);
        // Rigid modes: three translations, three rotations about the origin, orthonormalised.
        std::vector<std::vector<double>> rigid;
        for (int mode = 0; mode < 6; ++mode) {
            std::vector<double> v(n, 0.0);
            for (int64_t a = 0; a < j.n_atoms; ++a) {
                const double* x = &j.positions[3 * a];
                if (mode < 3) {
                    v[3 * a + mode] = 1.0;
                } else {
                    const int p = (mode - 3 + 1) % 3, q = (mode - 3 + 2) % 3;  // rotation about axis mode-3
                    v[3 * a + p] = -x[q];
                    v[3 * a + q] = x[p];
                }
            }
            for (const auto& u : rigid) {
                double dot = 0.0;
                for (int64_t k = 0; k < n; ++k) dot += u[k] * v[k];
                for (int64_t k = 0; k < n; ++k) v[k] -= dot * u[k];
            }
            double norm = 0.0;
            for (double x : v) norm += x * x;
            for (double& x : v) x /= std::sqrt(norm);
            rigid.push_back(v);
        }
        std::vector<double> P(n * n, 0.0), PS(n * n, 0.0), PSP(n * n, 0.0), eigenvalues;
        for (int64_t i = 0; i < n; ++i) {
            P[i * n + i] = 1.0;
            for (const auto& u : rigid)
                for (int64_t k = 0; k < n; ++k) P[i * n + k] -= u[i] * u[k];
        }
        for (int64_t i = 0; i < n; ++i)
            for (int64_t k = 0; k < n; ++k)
                for (int64_t m = 0; m < n; ++m) PS[i * n + m] += P[i * n + k] * S[k * n + m];
        for (int64_t i = 0; i < n; ++i)
            for (int64_t k = 0; k < n; ++k)
                for (int64_t m = 0; m < n; ++m) PSP[i * n + m] += PS[i * n + k] * P[k * n + m];
        symmetric_eigen(static_cast<int>(n), PSP, eigenvalues);
        const double largest = eigenvalues.back();
        EXPECT_NEAR(index[c], eigenvalues[6] / largest, 1e-9) << c;
        int64_t count = 0;
        for (int64_t k = 6; k < n; ++k) count += eigenvalues[k] < 1e-3 * largest;
        EXPECT_EQ(below[c], count) << c;
    }
}

// A radial fingerprint cannot see a neighbour move on its sphere: a centre with three neighbours
// has three such blind motions (6 non-rigid, 3 distances), the power spectrum sees them all.
TEST(BlindSpot, RadialFingerprintsAreBlindToMotionsOnTheirSpheres) {
    Structure s;
    s.positions = {0, 0, 0, 1.1, 0.1, -0.2, -0.3, 1.2, 0.4, 0.2, -0.5, 1.3};
    s.species = {6, 6, 6, 6};
    std::vector<double> radial_index, power_index;
    std::vector<int64_t> radial_below, power_below;
    blind_spots(R"({"type": "soap_radial_spectrum", "species": [6], "cutoff": 1.5, "max_radial": 6})", s, 1.5, 1e-8,
                radial_index, radial_below);
    blind_spots(R"({"type": "soap_power_spectrum", "species": [6], "cutoff": 1.5, "max_radial": 6, "max_angular": 6})", s, 1.5,
                1e-8, power_index, power_below);
    EXPECT_EQ(radial_below[0], 3);
    EXPECT_LT(radial_index[0], 1e-12);
    EXPECT_EQ(power_below[0], 0);
    EXPECT_GT(power_index[0], 1e-8);
    EXPECT_GT(power_index[0], 1e4 * radial_index[0]);
}

TEST(BlindSpot, CApiChecksItsArguments) {
    MoleculeThroughCApi m;
    const Structure& s = m.s;
    atomfp_descriptor_t* d = m.d;
    const atomfp_system_t& system = m.system;
    std::vector<double> index(s.size(), 42.0);
    EXPECT_EQ(atomfp_blind_spot_indices(d, &system, 1e-6, index.data(), nullptr), ATOMFP_OK);
    std::fill(index.begin(), index.end(), 42.0);
    EXPECT_EQ(atomfp_blind_spot_indices(d, &system, -1.0, index.data(), nullptr), ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(atomfp_blind_spot_indices(d, &system, 1.0, index.data(), nullptr), ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(atomfp_blind_spot_indices(d, &system, std::nan(""), index.data(), nullptr), ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(atomfp_blind_spot_indices(d, &system, 1e-6, nullptr, nullptr), ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(atomfp_blind_spot_indices(nullptr, &system, 1e-6, index.data(), nullptr), ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(atomfp_blind_spot_indices(d, nullptr, 1e-6, index.data(), nullptr), ATOMFP_ERROR_INVALID_ARGUMENT);
    std::vector<double> bad = s.positions;
    bad[4] = std::nan("");
    atomfp_system_t broken = system;
    broken.positions = bad.data();
    EXPECT_EQ(atomfp_blind_spot_indices(d, &broken, 1e-6, index.data(), nullptr), ATOMFP_ERROR_INVALID_ARGUMENT);
    for (double v : index) EXPECT_EQ(v, 42.0);
}
