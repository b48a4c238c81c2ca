// Superposition modulo relabelling and manifold tracing: optimality against brute force, frames
// against an independent recomputation through the sensitivity and descriptor APIs, the physics of
// quasi-constant SOAP manifolds in methane, and the C API's argument checks.
#include "analysis/manifold.hpp"
#include "analysis/superposition.hpp"
#include "atomfp.h"
#include "core/error.hpp"
#include "descriptors/factory.hpp"
#include "structures.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

using namespace atomfp;
using namespace atomfp::test;

namespace {

// A generically distorted methane (C first), ~0.05-0.1 Å from the tetrahedral geometry.
Structure methane() {
    Structure s;
    s.positions = {0.0,       0.0,       0.0,       0.496054, 0.743703,  0.705441,  -0.653304, -0.562752,
                   0.662293,  0.590436,  -0.552564, -0.622454, -0.653474, 0.614110, -0.584179};
    s.species = {6, 1, 1, 1, 1};
    return s;
}

const char* soap_spec = R"({"type": "soap_power_spectrum", "species": [1, 6], "cutoff": 4.0,
                            "atomic_gaussian_width": 0.3, "max_radial": 8, "max_angular": 8})";
const char* omfp_spec = R"({"type": "omfp", "species": [1, 6], "cutoff": 4.0, "orbitals": "sp", "max_atoms": 8})";

std::vector<double> apply(const std::array<double, 9>& R, const std::vector<double>& x, const double* shift) {
    std::vector<double> out(x.size());
    for (std::size_t a = 0; a < x.size(); a += 3)
        for (int i = 0; i < 3; ++i) out[a + i] = R[3 * i] * x[a] + R[3 * i + 1] * x[a + 1] + R[3 * i + 2] * x[a + 2] + shift[i];
    return out;
}

double rmsd(const std::vector<double>& a, const std::vector<double>& b) {
    double sum = 0.0;
    for (std::size_t k = 0; k < a.size(); ++k) sum += (a[k] - b[k]) * (a[k] - b[k]);
    return std::sqrt(sum / static_cast<double>(a.size() / 3));
}

// Relabels atoms: new atom a is old atom order[a].
std::vector<double> relabelled(const std::vector<double>& x, const std::vector<int64_t>& order) {
    std::vector<double> out(x.size());
    for (std::size_t a = 0; a < order.size(); ++a)
        for (int k = 0; k < 3; ++k) out[3 * a + k] = x[3 * order[a] + k];
    return out;
}

ManifoldTrace trace_methane(const std::string& options, const std::vector<const Descriptor*>& probes = {}) {
    auto soap = create_descriptor(soap_spec);
    const Structure s = methane();
    const NeighbourList list = neighbour_list(s, soap->cutoff());
    return trace_manifold(*soap, probes, list.view(), 0, ManifoldOptions::parse(options));
}

}  // namespace

TEST(Superposition, RecoversARotatedTranslatedRelabelledCopy) {
    const Structure s = cluster({6, 1, 1, 1, 1, 8, 8}, 4.0, 0.9, 3);
    const double shift[3] = {0.3, -1.2, 2.0};
    const std::vector<int64_t> order = {0, 3, 1, 4, 2, 6, 5};
    const std::vector<double> moving = relabelled(apply(random_rotation(7), s.positions, shift), order);
    const Superposition found = superpose(s.size(), s.positions.data(), moving.data(), s.species.data(), 1, true);
    EXPECT_LT(found.max_deviation, 1e-10);
    EXPECT_LT(found.rmsd, 1e-10);
    // moving atom permutation[a] sits where reference atom a was: the inverse relabelling.
    for (int64_t a = 0; a < s.size(); ++a) EXPECT_EQ(order[found.permutation[a]], a);
    const Superposition fixed_labels = superpose(s.size(), s.positions.data(), moving.data(), s.species.data(), 1, false);
    EXPECT_GT(fixed_labels.max_deviation, 0.1);
    // The centre never changes label, even when a like atom would fit better.
    const Superposition centre_fixed = superpose(s.size(), s.positions.data(), relabelled(s.positions, {1, 0, 2, 3, 4, 5, 6}).data(),
                                                 std::vector<int32_t>{1, 1, 1, 1, 1, 8, 8}.data(), 1, true);
    EXPECT_EQ(centre_fixed.permutation[0], 0);
}

TEST(Superposition, RotationIsOptimalAgainstRandomTrials) {
    const Structure s = cluster({6, 1, 1, 1, 1}, 3.0, 0.9, 11);
    std::mt19937 generator(5);
    std::normal_distribution<double> noise(0.0, 0.1);
    const double shift[3] = {0.0, 0.0, 0.0};
    std::vector<double> moving = apply(random_rotation(2), s.positions, shift);
    for (double& x : moving) x += noise(generator);
    const Superposition best = superpose(s.size(), s.positions.data(), moving.data(), s.species.data(), 0, false);
    ASSERT_GT(best.rmsd, 0.01);
    // Any other rotation (about the centroids) does worse: perturb the optimum slightly, and try at random.
    auto centred = [](std::vector<double> x) {
        double c[3] = {0, 0, 0};
        for (std::size_t a = 0; a < x.size(); a += 3)
            for (int k = 0; k < 3; ++k) c[k] += x[a + k] / static_cast<double>(x.size() / 3);
        for (std::size_t a = 0; a < x.size(); a += 3)
            for (int k = 0; k < 3; ++k) x[a + k] -= c[k];
        return x;
    };
    const std::vector<double> x = centred(s.positions), y = centred(moving);
    std::array<double, 9> R_best;
    std::copy(best.rotation, best.rotation + 9, R_best.begin());
    EXPECT_NEAR(rmsd(apply(R_best, y, shift), x), best.rmsd, 1e-12);
    for (uint32_t trial = 0; trial < 200; ++trial) {
        EXPECT_GE(rmsd(apply(random_rotation(100 + trial), y, shift), x), best.rmsd - 1e-12);
        // A small rotation composed with the optimum.
        const double angle = 1e-3 * (trial + 1), c = std::cos(angle), sn = std::sin(angle);
        const std::array<double, 9> small = {c, -sn, 0, sn, c, 0, 0, 0, 1};
        EXPECT_GE(rmsd(apply(small, apply(R_best, y, shift), shift), x), best.rmsd - 1e-12);
    }
    double det = R_best[0] * (R_best[4] * R_best[8] - R_best[5] * R_best[7]) -
                 R_best[1] * (R_best[3] * R_best[8] - R_best[5] * R_best[6]) +
                 R_best[2] * (R_best[3] * R_best[7] - R_best[4] * R_best[6]);
    EXPECT_NEAR(det, 1.0, 1e-12);  // proper: a mirror image is not superposable
}

TEST(Superposition, RelabellingFollowsTheChosenMeasure) {
    // Brute force: every labelling of the four like atoms superposed without relabelling; the
    // relabelling search keeps the least RMSD or the least largest deviation, as asked. Random
    // distortions where the two choices differ must occur, or the test proves nothing.
    const Structure s = cluster({6, 1, 1, 1, 1}, 3.0, 0.9, 17);
    std::mt19937 generator(3);
    std::normal_distribution<double> noise(0.0, 0.35);
    int differing = 0;
    for (int trial = 0; trial < 200; ++trial) {
        std::vector<double> moving = s.positions;
        for (double& x : moving) x += noise(generator);
        std::vector<int64_t> order = {0, 1, 2, 3, 4};
        double least_rmsd = INFINITY, least_max = INFINITY, max_of_least_rmsd = 0;
        do {
            const std::vector<double> labelled = relabelled(moving, order);
            const Superposition p = superpose(s.size(), s.positions.data(), labelled.data(), s.species.data(), 1, false);
            if (p.rmsd < least_rmsd) least_rmsd = p.rmsd, max_of_least_rmsd = p.max_deviation;
            least_max = std::min(least_max, p.max_deviation);
        } while (std::next_permutation(order.begin() + 1, order.end()));
        const Superposition by_rmsd = superpose(s.size(), s.positions.data(), moving.data(), s.species.data(), 1, true);
        const Superposition by_max =
            superpose(s.size(), s.positions.data(), moving.data(), s.species.data(), 1, true, RelabelBy::max_deviation);
        EXPECT_NEAR(by_rmsd.rmsd, least_rmsd, 1e-12);
        EXPECT_NEAR(by_rmsd.max_deviation, max_of_least_rmsd, 1e-12);
        EXPECT_NEAR(by_max.max_deviation, least_max, 1e-12);
        if (least_max < max_of_least_rmsd - 1e-6) ++differing;
    }
    EXPECT_GT(differing, 0);
}

TEST(Superposition, LargeGroupsAreRelabelledByAssignment) {
    // 10 like atoms: 10! labellings, beyond exhaustive enumeration.
    const Structure s = cluster(std::vector<int32_t>(10, 14), 5.0, 1.5, 21);
    std::vector<int64_t> order(10);
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), std::mt19937(4));
    const double angle = 0.1, shift[3] = {1.0, 2.0, 3.0};
    const std::array<double, 9> R = {std::cos(angle), -std::sin(angle), 0, std::sin(angle), std::cos(angle), 0, 0, 0, 1};
    const std::vector<double> moving = relabelled(apply(R, s.positions, shift), order);
    const Superposition found = superpose(s.size(), s.positions.data(), moving.data(), s.species.data(), 0, true);
    EXPECT_LT(found.max_deviation, 1e-10);
    for (int64_t a = 0; a < s.size(); ++a) EXPECT_EQ(order[found.permutation[a]], a);
}

TEST(Superposition, AssignmentMatchesBruteForce) {
    std::mt19937 generator(8);
    std::uniform_real_distribution<double> uniform(0.0, 10.0);
    for (int trial = 0; trial < 20; ++trial) {
        const int64_t n = 6;
        std::vector<double> cost(n * n);
        for (double& c : cost) c = uniform(generator);
        std::vector<int64_t> p(n);
        std::iota(p.begin(), p.end(), 0);
        double best = INFINITY;
        do {
            double sum = 0.0;
            for (int64_t i = 0; i < n; ++i) sum += cost[i * n + p[i]];
            best = std::min(best, sum);
        } while (std::next_permutation(p.begin(), p.end()));
        const std::vector<int64_t> assignment = optimal_assignment(n, cost);
        double sum = 0.0;
        std::vector<int64_t> sorted = assignment;
        std::sort(sorted.begin(), sorted.end());
        for (int64_t i = 0; i < n; ++i) {
            EXPECT_EQ(sorted[i], i);
            sum += cost[i * n + assignment[i]];
        }
        EXPECT_NEAR(sum, best, 1e-12);
    }
}

TEST(Manifold, FramesAgreeWithAnIndependentRecomputation) {
    auto soap = create_descriptor(soap_spec);
    auto omfp = create_descriptor(omfp_spec);
    const ManifoldTrace trace = trace_methane(R"({"steps": 6, "random_samples": 3})", {omfp.get()});
    ASSERT_EQ(trace.n_frames(), 7);
    ASSERT_EQ(trace.n_atoms, 5);
    ASSERT_EQ(trace.n_descriptors, 2);
    ASSERT_EQ(trace.n_rigid, 6);
    const int64_t n = 15;
    const Structure start = methane();
    const auto f0 = features_of(*soap, neighbour_list(start, soap->cutoff()).view());
    const auto g0 = features_of(*omfp, neighbour_list(start, omfp->cutoff()).view());
    for (int64_t f = 0; f < trace.n_frames(); ++f) {
        Structure frame = start;
        frame.positions.assign(trace.positions.begin() + f * n, trace.positions.begin() + (f + 1) * n);
        const NeighbourList list = neighbour_list(frame, soap->cutoff());
        // The spectrum through the sensitivity API (scaled, rigid-free).
        std::vector<double> eigenvalues;
        sensitivity_spectrum(environment_jacobian(*soap, list.view(), 0), sensitivity_remove_rigid | sensitivity_scale_max,
                             eigenvalues, nullptr);
        for (int64_t k = 0; k < n; ++k) EXPECT_NEAR(trace.eigenvalues[f * n + k], eigenvalues[k], 1e-10) << f << "," << k;
        // Distances through the ordinary descriptor route (centre 0 of a freshly built list).
        auto distance = [](const std::vector<double>& a, const std::vector<double>& b, int64_t count) {
            double sum = 0.0;
            for (int64_t k = 0; k < count; ++k) sum += (a[k] - b[k]) * (a[k] - b[k]);
            return std::sqrt(sum);
        };
        EXPECT_NEAR(trace.distances[2 * f], distance(features_of(*soap, list.view()), f0, soap->feature_count()), 1e-12);
        EXPECT_NEAR(trace.distances[2 * f + 1], distance(features_of(*omfp, neighbour_list(frame, omfp->cutoff()).view()), g0, omfp->feature_count()), 1e-12);
        // D is at most the raw largest atomic move, and no more than the path length so far.
        double raw = 0.0, path = 0.0;
        for (int64_t a = 0; a < 5; ++a) {
            raw = std::max(raw, std::hypot(frame.positions[3 * a] - start.positions[3 * a], frame.positions[3 * a + 1] - start.positions[3 * a + 1],
                                           frame.positions[3 * a + 2] - start.positions[3 * a + 2]));
        }
        for (int64_t k = 1; k <= f; ++k) path += trace.step_sizes[k];
        EXPECT_LE(trace.displacement[f], raw + 1e-12);
        EXPECT_LE(trace.displacement[f], path + 1e-12);
    }
    EXPECT_EQ(trace.displacement[0], 0.0);
    EXPECT_EQ(trace.distances[0], 0.0);
    EXPECT_EQ(trace.random_distances[0], 0.0);
    // For small D the random reference is linear in D (first-order response).
    const double r1 = trace.random_distances[2 * 1] / trace.displacement[1];
    const double r6 = trace.random_distances[2 * 6] / trace.displacement[6];
    EXPECT_NEAR(r6 / r1, 1.0, 0.2);
}

TEST(Manifold, StepsAreRigidFreeAndOfTheControlledLength) {
    const ManifoldTrace trace = trace_methane(R"({"steps": 8, "random_samples": 0})");
    const int64_t n = 15;
    for (int64_t f = 1; f < trace.n_frames(); ++f) {
        const double* before = trace.positions.data() + (f - 1) * n;
        const double* after = trace.positions.data() + f * n;
        std::vector<double> step(n), relative(n);
        for (int64_t k = 0; k < n; ++k) {
            step[k] = after[k] - before[k];
            relative[k] = before[k] - before[k % 3];
        }
        double largest = 0.0, norm = 0.0;
        for (int64_t a = 0; a < 5; ++a) largest = std::max(largest, std::hypot(step[3 * a], step[3 * a + 1], step[3 * a + 2]));
        for (double x : step) norm += x * x;
        EXPECT_NEAR(largest, trace.step_sizes[f], 1e-14);
        const std::vector<double> rigid = rigid_body_modes(5, relative.data());
        for (std::size_t r = 0; r < rigid.size() / n; ++r) {
            double overlap = 0.0;
            for (int64_t k = 0; k < n; ++k) overlap += rigid[r * n + k] * step[k];
            EXPECT_LT(std::abs(overlap), 1e-12 * std::sqrt(norm)) << "step " << f << " rigid mode " << r;
        }
    }
}

TEST(Manifold, SoapIsQuasiConstantAlongTheTracedPathButOverlapMatrixIsNot) {
    auto omfp = create_descriptor(omfp_spec);
    const ManifoldTrace trace = trace_methane(R"({"steps": 60, "random_samples": 10})", {omfp.get()});
    const int64_t peak = std::max_element(trace.displacement.begin(), trace.displacement.end()) - trace.displacement.begin();
    ASSERT_GT(trace.displacement[peak], 0.03);
    // The traced fingerprint moves far less than under random motion of the same size; the s+p
    // overlap-matrix fingerprint, a witness the SOAP manifold does not bind, moves comparably.
    EXPECT_LT(trace.distances[2 * peak], trace.random_distances[2 * peak] / 20.0);
    EXPECT_GT(trace.distances[2 * peak + 1], trace.random_distances[2 * peak + 1] / 10.0);
    const int64_t n = 15;
    for (int64_t f = 0; f < trace.n_frames(); ++f) {
        EXPECT_LT(trace.eigenvalues[f * n + 6], 1e-3);   // a soft mode all along
        EXPECT_EQ(trace.eigenvalues[f * n + 14], 1.0);  // scaled
    }
}

TEST(Manifold, EnvironmentGeometryOfATetrahedron) {
    // Regular tetrahedron about the centre: r = 1.09 Å, cos θ = -1/3 for all six pairs.
    const double a = 1.09 / std::sqrt(3.0);
    const std::vector<double> x = {0, 0, 0, a, a, a, -a, -a, a, -a, a, -a, a, -a, -a};
    const EnvironmentGeometry g = environment_geometry(5, x.data());
    ASSERT_EQ(g.distances.size(), 4u);
    ASSERT_EQ(g.cosines.size(), 6u);
    EXPECT_NEAR(g.mean_distance, 1.09, 1e-14);
    EXPECT_NEAR(g.mean_squared_distance, 1.09 * 1.09, 1e-14);
    EXPECT_NEAR(g.mean_cosine, -1.0 / 3.0, 1e-14);
    EXPECT_NEAR(g.mean_squared_cosine, 1.0 / 9.0, 1e-14);
    EXPECT_THROW(environment_geometry(1, x.data()), Error);
}

TEST(Manifold, SoapManifoldKeepsTheMomentsOfBondsAndAnglesNotTheBondsThemselves) {
    // A three-body descriptor's manifold: single bonds and angles change as much as the path
    // moves the atoms, the first moments of their distributions barely.
    const ManifoldTrace trace = trace_methane(R"({"steps": 60, "random_samples": 0})");
    const EnvironmentGeometry start = environment_geometry(trace.n_atoms, trace.positions.data());
    double bond_change = 0, moment_change = 0;
    for (int64_t f = 0; f < trace.n_frames(); ++f) {
        const EnvironmentGeometry g = environment_geometry(trace.n_atoms, trace.positions.data() + f * 3 * trace.n_atoms);
        for (std::size_t j = 0; j < g.distances.size(); ++j) bond_change = std::max(bond_change, std::abs(g.distances[j] - start.distances[j]));
        moment_change = std::max({moment_change, std::abs(g.mean_distance - start.mean_distance),
                                  std::abs(g.mean_squared_distance - start.mean_squared_distance),
                                  std::abs(g.mean_cosine - start.mean_cosine), std::abs(g.mean_squared_cosine - start.mean_squared_cosine)});
    }
    EXPECT_GT(bond_change, 0.02);
    EXPECT_LT(moment_change, bond_change / 20.0);
}

TEST(Manifold, PredictorCorrectorStaysCloserToTheManifoldThanEuler) {
    const char* fixed = R"({"steps": 12, "random_samples": 0, "stop_at_loop": false, "step": 0.01, "min_step": 0.01,
                            "max_step": 0.01, "corrector": %s})";
    char heun_options[512], euler_options[512];
    std::snprintf(heun_options, sizeof heun_options, fixed, "true");
    std::snprintf(euler_options, sizeof euler_options, fixed, "false");
    const ManifoldTrace heun = trace_methane(heun_options), euler = trace_methane(euler_options);
    const double heun_drift = *std::max_element(heun.distances.begin(), heun.distances.end());
    const double euler_drift = *std::max_element(euler.distances.begin(), euler.distances.end());
    EXPECT_LT(2.0 * heun_drift, euler_drift);
}

TEST(Manifold, StopsWhenThePathCloses) {
    const ManifoldTrace trace = trace_methane(R"({"steps": 400, "random_samples": 0, "loop_tolerance": 0.01})");
    ASSERT_TRUE(trace.closed);
    EXPECT_LT(trace.n_frames(), 401);
    EXPECT_LE(trace.displacement.back(), 0.01);
    EXPECT_GE(*std::max_element(trace.displacement.begin(), trace.displacement.end()), 0.03);
}

TEST(Manifold, RejectsBadOptionsAndModes) {
    for (const char* bad : {R"({"stepz": 3})", R"({"step": -1})", R"({"step": 0.5, "max_step": 0.1})",
                            R"({"min_step": 0.1, "max_step": 0.01})", R"({"steps": -1})", R"([1, 2])", "{"}) {
        EXPECT_THROW(ManifoldOptions::parse(bad), Error) << bad;
    }
    EXPECT_THROW(trace_methane(R"({"mode": 9})"), Error);  // 15 - 6 = 9 non-rigid modes: 0 ... 8
    EXPECT_NO_THROW(trace_methane(R"({"mode": 8, "steps": 1, "random_samples": 0})"));
}

TEST(Manifold, CApiMatchesTheLibraryAndChecksItsArguments) {
    const Structure s = methane();
    auto reference = trace_methane(R"({"steps": 3, "random_samples": 2})");
    atomfp_descriptor_t *soap = nullptr, *omfp = nullptr;
    ASSERT_EQ(atomfp_descriptor_create(soap_spec, &soap), ATOMFP_OK);
    ASSERT_EQ(atomfp_descriptor_create(omfp_spec, &omfp), ATOMFP_OK);
    atomfp_neighbours_t* list = nullptr;
    ASSERT_EQ(atomfp_neighbours_build(5, s.positions.data(), s.species.data(), nullptr, nullptr, 5.0, &list), ATOMFP_OK);
    atomfp_system_t system;
    ASSERT_EQ(atomfp_neighbours_system(list, &system), ATOMFP_OK);

    const char* options = R"({"steps": 3, "random_samples": 2})";
    const int64_t frames = 4, n = 5;
    int64_t n_frames = -1;
    std::vector<int32_t> species(n);
    std::vector<double> positions(frames * n * 3), eigenvalues(frames * 3 * n), displacement(frames), distances(frames),
        random_distances(frames);
    ASSERT_EQ(atomfp_manifold_trace(soap, 0, nullptr, &system, 0, options, frames, &n_frames, species.data(), positions.data(),
                                    eigenvalues.data(), displacement.data(), distances.data(), random_distances.data()),
              ATOMFP_OK)
        << atomfp_last_error();
    EXPECT_EQ(n_frames, 4);
    EXPECT_EQ(species, reference.species);
    EXPECT_EQ(positions, reference.positions);
    EXPECT_EQ(eigenvalues, reference.eigenvalues);
    EXPECT_EQ(displacement, reference.displacement);
    EXPECT_EQ(distances, reference.distances);
    EXPECT_EQ(random_distances, reference.random_distances);
    // Only the counts are required.
    EXPECT_EQ(atomfp_manifold_trace(soap, 1, &omfp, &system, 0, options, frames, &n_frames, nullptr, nullptr, nullptr, nullptr,
                                    nullptr, nullptr),
              ATOMFP_OK);

    auto status = [&](const atomfp_descriptor_t* d, int64_t n_probes, const atomfp_descriptor_t* const* probes,
                      const atomfp_system_t* sys, int64_t center, const char* opts, int64_t max_frames, int64_t* count) {
        return atomfp_manifold_trace(d, n_probes, probes, sys, center, opts, max_frames, count, nullptr, nullptr, nullptr,
                                     nullptr, nullptr, nullptr);
    };
    const atomfp_descriptor_t* null_probe[1] = {nullptr};
    EXPECT_EQ(status(nullptr, 0, nullptr, &system, 0, options, frames, &n_frames), ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(status(soap, 0, nullptr, nullptr, 0, options, frames, &n_frames), ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(status(soap, 0, nullptr, &system, 0, options, frames, nullptr), ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(status(soap, -1, nullptr, &system, 0, options, frames, &n_frames), ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(status(soap, 1, nullptr, &system, 0, options, frames, &n_frames), ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(status(soap, 1, null_probe, &system, 0, options, frames, &n_frames), ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(status(soap, 0, nullptr, &system, 5, options, frames, &n_frames), ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(status(soap, 0, nullptr, &system, -1, options, frames, &n_frames), ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(status(soap, 0, nullptr, &system, 0, R"({"steps": 3,)", frames, &n_frames), ATOMFP_ERROR_JSON);
    EXPECT_EQ(status(soap, 0, nullptr, &system, 0, R"({"unknown": 1})", frames, &n_frames), ATOMFP_ERROR_JSON);
    EXPECT_NE(std::string(atomfp_last_error()).find("unknown"), std::string::npos) << atomfp_last_error();
    n_frames = -1;
    EXPECT_EQ(status(soap, 0, nullptr, &system, 0, options, 3, &n_frames), ATOMFP_ERROR_BUFFER_TOO_SMALL);
    EXPECT_EQ(n_frames, 4);
    EXPECT_EQ(status(soap, 0, nullptr, &system, 0, nullptr, 3, &n_frames), ATOMFP_ERROR_BUFFER_TOO_SMALL);
    EXPECT_EQ(n_frames, 401);  // the default step limit
    // NaN positions are refused before any work.
    std::vector<double> bad = s.positions;
    bad[4] = NAN;
    atomfp_system_t nan_system = system;
    nan_system.positions = bad.data();
    EXPECT_EQ(status(soap, 0, nullptr, &nan_system, 0, options, frames, &n_frames), ATOMFP_ERROR_INVALID_ARGUMENT);

    atomfp_neighbours_free(list);
    atomfp_descriptor_free(soap);
    atomfp_descriptor_free(omfp);
}
