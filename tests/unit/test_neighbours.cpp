// The cell-list builder against an O(N^2 * images) brute force, for clusters, small and skewed
// cells, and mixed boundary conditions.
#include "core/error.hpp"
#include "core/neighbour_list.hpp"
#include "descriptors/factory.hpp"
#include "atomfp.h"
#include "structures.hpp"

#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <cmath>
#include <cstdlib>
#include <random>
#include <string>
#include <tuple>
#include <vector>

using namespace atomfp;
using namespace atomfp::test;

namespace {

using Entry = std::tuple<int64_t, int64_t, std::array<int32_t, 3>>;  // (i, j, shift)

std::vector<Entry> brute_pairs(const Structure& s, const std::array<int32_t, 3>& pbc, double cutoff, int reach) {
    std::vector<Entry> out;
    for (int64_t i = 0; i < s.size(); ++i)
        for (int64_t j = 0; j < s.size(); ++j)
            for (int a = -reach * pbc[0]; a <= reach * pbc[0]; ++a)
                for (int b = -reach * pbc[1]; b <= reach * pbc[1]; ++b)
                    for (int c = -reach * pbc[2]; c <= reach * pbc[2]; ++c) {
                        if (i == j && a == 0 && b == 0 && c == 0) continue;
                        double r2 = 0;
                        for (int k = 0; k < 3; ++k) {
                            double d = s.positions[3 * j + k] - s.positions[3 * i + k];
                            if (!s.cell.empty()) d += a * s.cell[k] + b * s.cell[3 + k] + c * s.cell[6 + k];
                            r2 += d * d;
                        }
                        if (r2 < cutoff * cutoff) out.emplace_back(i, j, std::array<int32_t, 3>{a, b, c});
                    }
    return out;  // already in (i, j, shift) lexicographic order
}

std::vector<Entry> listed_pairs(const NeighbourList& list) {
    std::vector<Entry> out;
    for (std::size_t i = 0; i + 1 < list.offsets.size(); ++i)
        for (int64_t p = list.offsets[i]; p < list.offsets[i + 1]; ++p) {
            std::array<int32_t, 3> shift{0, 0, 0};
            if (!list.cell_shifts.empty()) shift = {list.cell_shifts[3 * p], list.cell_shifts[3 * p + 1], list.cell_shifts[3 * p + 2]};
            out.emplace_back(static_cast<int64_t>(i), list.neighbours[p], shift);
        }
    return out;
}

void expect_same_as_brute_force(const Structure& s, const std::array<int32_t, 3>& pbc, double cutoff, int reach) {
    NeighbourList list = build_neighbour_list(s.size(), s.positions.data(), s.species.data(),
                                              s.cell.empty() ? nullptr : s.cell.data(), pbc.data(), cutoff);
    auto expected = brute_pairs(s, pbc, cutoff, reach);
    ASSERT_FALSE(expected.empty());
    EXPECT_EQ(listed_pairs(list), expected);
}

}  // namespace

TEST(NeighbourList, Cluster) {
    Structure s = cluster(std::vector<int32_t>(60, 6), 12.0, 1.0, 1);
    expect_same_as_brute_force(s, {0, 0, 0}, 3.5, 0);
}

TEST(NeighbourList, CubicSupercell) {
    Structure s = diamond(3, 5.431, 0.1, 2);
    expect_same_as_brute_force(s, {1, 1, 1}, 5.0, 1);
}

TEST(NeighbourList, CellSmallerThanCutoffGivesManyImages) {
    Structure s = primitive_diamond(5.431, 0.05, 3);
    expect_same_as_brute_force(s, {1, 1, 1}, 7.0, 5);
    NeighbourList list = build_neighbour_list(s.size(), s.positions.data(), s.species.data(), s.cell.data(), nullptr, 7.0);
    // Each atom sees images of itself.
    bool self_image = false;
    for (int64_t p = list.offsets[0]; p < list.offsets[1]; ++p) self_image = self_image || list.neighbours[p] == 0;
    EXPECT_TRUE(self_image);
}

TEST(NeighbourList, SkewedCellAndAtomsOutsideIt) {
    Structure s = triclinic(5, {14, 14, 6, 6, 8, 1});
    s.positions[0] += 9.0;  // outside the cell: shifts are relative to the caller's positions
    s.positions[4] -= 13.0;
    expect_same_as_brute_force(s, {1, 1, 1}, 6.0, 9);
}

TEST(NeighbourList, MixedBoundaryConditions) {
    Structure s = diamond(2, 5.431, 0.1, 4);
    for (std::size_t i = 2; i < s.positions.size(); i += 3) s.positions[i] *= 1.3;  // a slab along z, not periodic
    expect_same_as_brute_force(s, {1, 1, 0}, 4.0, 2);
    expect_same_as_brute_force(s, {0, 1, 0}, 4.0, 2);
}

TEST(NeighbourList, CellWithoutPeriodicityIsAnOpenCluster) {
    Structure s = cluster(std::vector<int32_t>(20, 1), 6.0, 0.7, 5);
    s.cell = {6, 0, 0, 0, 6, 0, 0, 0, 6};
    expect_same_as_brute_force(s, {0, 0, 0}, 2.5, 0);
}

TEST(NeighbourList, LargeSparseSystemStaysBounded) {
    // A few atoms spread over a huge box: the bin grid must not grow with the volume.
    Structure s = cluster(std::vector<int32_t>(30, 1), 1e4, 1.0, 6);
    NeighbourList list = build_neighbour_list(s.size(), s.positions.data(), s.species.data(), nullptr, nullptr, 2.0);
    EXPECT_EQ(list.offsets.back(), 0);
}

TEST(NeighbourList, RejectsBadInput) {
    const double positions[6] = {0, 0, 0, 1, 0, 0};
    const int32_t species[2] = {1, 1};
    const double nan_positions[6] = {0, 0, 0, NAN, 0, 0};
    const double singular[9] = {1, 0, 0, 2, 0, 0, 0, 0, 1};
    const int32_t periodic[3] = {1, 1, 1};
    auto code = [](auto&& call) {
        try {
            call();
        } catch (const Error& e) {
            return e.status();
        }
        return Status::ok;
    };
    EXPECT_EQ(code([&] { build_neighbour_list(2, positions, species, nullptr, nullptr, 0.0); }), Status::invalid_argument);
    EXPECT_EQ(code([&] { build_neighbour_list(2, positions, species, nullptr, nullptr, -1.0); }), Status::invalid_argument);
    EXPECT_EQ(code([&] { build_neighbour_list(2, positions, species, nullptr, nullptr, NAN); }), Status::invalid_argument);
    EXPECT_EQ(code([&] { build_neighbour_list(2, nan_positions, species, nullptr, nullptr, 2.0); }), Status::invalid_argument);
    EXPECT_EQ(code([&] { build_neighbour_list(2, positions, species, singular, nullptr, 2.0); }), Status::invalid_argument);
    EXPECT_EQ(code([&] { build_neighbour_list(2, positions, species, nullptr, periodic, 2.0); }), Status::invalid_argument);
    EXPECT_EQ(code([&] { build_neighbour_list(-1, positions, species, nullptr, nullptr, 2.0); }), Status::invalid_argument);
    const double tiny[9] = {1e-3, 0, 0, 0, 1e-3, 0, 0, 0, 1e-3};
    EXPECT_EQ(code([&] { build_neighbour_list(2, positions, species, tiny, nullptr, 10.0); }), Status::invalid_argument);
}

// Input that would make a neighbour list exhaust the host (a cell in the wrong units, atoms squeezed
// together) is refused through the C API with a status and a message, promptly and without an
// exception escaping the parallel search (each used to abort the process or exhaust its memory).
TEST(NeighbourList, ExplosiveInputIsRefusedWithAMessage) {
    struct Case {
        const char* what;
        std::vector<double> positions;
        std::vector<double> cell;  // empty: open cluster
        double cutoff;
        atomfp_status_t status = ATOMFP_ERROR_NEIGHBOURS;
        const char* needle = "ATOMFP_MAX_NEIGHBOURS";
    };
    std::vector<Case> cases;
    cases.push_back({"one atom in a 1e-7 Å thin periodic cell", {0, 0, 0}, {5.43, 0, 0, 0, 5.43, 0, 0, 0, 1e-7}, 5.0,
                     ATOMFP_ERROR_INVALID_ARGUMENT, "the cell is too small for cutoff"});
    {
        std::mt19937 random(3);
        std::uniform_real_distribution<double> in_box(0.0, 5.0);
        Case crowd{"20,000 atoms in a 5 Å open cluster", {}, {}, 6.0};
        for (int k = 0; k < 3 * 20000; ++k) crowd.positions.push_back(in_box(random));
        cases.push_back(crowd);
        Case dense{"2,000 atoms in a periodic 10 Å cube, cutoff 30 Å", {}, {10, 0, 0, 0, 10, 0, 0, 0, 10}, 30.0};
        for (int k = 0; k < 3 * 2000; ++k) dense.positions.push_back(2 * in_box(random));
        cases.push_back(dense);
        Case units{"1,000 Si atoms in a 1 Å periodic cell", {}, {1, 0, 0, 0, 1, 0, 0, 0, 1}, 5.0};
        for (int k = 0; k < 3 * 1000; ++k) units.positions.push_back(in_box(random) / 5.0);
        cases.push_back(units);
    }
    for (const Case& c : cases) {
        const int64_t n = static_cast<int64_t>(c.positions.size() / 3);
        const std::vector<int32_t> species(static_cast<size_t>(n), 14);
        atomfp_neighbours_t* list = reinterpret_cast<atomfp_neighbours_t*>(0x1);
        const atomfp_status_t status = atomfp_neighbours_build(n, c.positions.data(), species.data(),
                                                               c.cell.empty() ? nullptr : c.cell.data(), nullptr,
                                                               c.cutoff, &list);
        EXPECT_EQ(status, c.status) << c.what;
        EXPECT_NE(std::string(atomfp_last_error()).find(c.needle), std::string::npos)
            << c.what << ": " << atomfp_last_error();
        EXPECT_EQ(list, reinterpret_cast<atomfp_neighbours_t*>(0x1)) << c.what;
    }
}

// The limits are documented environment variables: lowering them refuses an ordinary crystal,
// and a malformed value is an error naming the variable.
TEST(NeighbourList, LimitsFollowTheirEnvironmentVariables) {
    Structure s = diamond(2, 5.431, 0.0, 1);
    auto build = [&] {
        atomfp_neighbours_t* list = nullptr;
        const atomfp_status_t status =
            atomfp_neighbours_build(s.size(), s.positions.data(), s.species.data(), s.cell.data(), nullptr, 4.0, &list);
        atomfp_neighbours_free(list);
        return status;
    };
    ASSERT_EQ(build(), ATOMFP_OK);
    setenv("ATOMFP_MAX_NEIGHBOURS", "10", 1);
    EXPECT_EQ(build(), ATOMFP_ERROR_NEIGHBOURS);
    EXPECT_NE(std::string(atomfp_last_error()).find("more than 10 neighbours"), std::string::npos) << atomfp_last_error();
    setenv("ATOMFP_MAX_NEIGHBOURS", "ten", 1);
    EXPECT_EQ(build(), ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(atomfp_last_error()).find("ATOMFP_MAX_NEIGHBOURS must be a positive integer"), std::string::npos);
    unsetenv("ATOMFP_MAX_NEIGHBOURS");
    setenv("ATOMFP_MAX_NEIGHBOUR_PAIRS", "100", 1);
    EXPECT_EQ(build(), ATOMFP_ERROR_NEIGHBOURS);
    EXPECT_NE(std::string(atomfp_last_error()).find("more than 100 pairs"), std::string::npos) << atomfp_last_error();
    unsetenv("ATOMFP_MAX_NEIGHBOUR_PAIRS");
    EXPECT_EQ(build(), ATOMFP_OK);
}

// A centre view of some centres gives those centres' features and gradient blocks exactly as the
// whole system does, survives copying the view object, and refuses out-of-range centres.
TEST(CentreView, SelectedCentresEqualTheWholeSystem) {
    const Structure s = diamond(2, 5.43, 0.1, 5);
    const NeighbourList list = neighbour_list(s, 4.0);
    const auto d = create_descriptor(R"({"type": "acsf", "species": [14], "cutoff": 4.0})");
    const int64_t nf = d->feature_count();
    const std::vector<double> all = features_of(*d, list.view()), all_gradients = gradients_of(*d, list.view());
    const std::vector<int64_t> chosen = {7, 2, 11};
    std::unique_ptr<CentreView> original = std::make_unique<CentreView>(list.view(), chosen);
    const CentreView copy = *original;
    original.reset();  // the copy must not point into the destroyed object
    const SystemView view = copy.view();
    ASSERT_EQ(view.n_centers, 3);
    const std::vector<double> some = features_of(*d, view), some_gradients = gradients_of(*d, view);
    const SystemView whole = list.view();
    for (int64_t k = 0; k < 3; ++k) {
        const int64_t c = chosen[k];
        for (int64_t f = 0; f < nf; ++f) EXPECT_EQ(some[k * nf + f], all[c * nf + f]);
        // Gradient blocks per centre: d/d(centre), then d/d(each listed neighbour) in order.
        const int64_t n_pairs = whole.offsets[c + 1] - whole.offsets[c];
        ASSERT_EQ(view.offsets[k + 1] - view.offsets[k], n_pairs);
        for (int64_t b = 0; b <= n_pairs; ++b) {
            const int64_t mine = (k + view.offsets[k] + b) * 3 * nf;
            const int64_t theirs = (c + whole.offsets[c] + b) * 3 * nf;
            for (int64_t q = 0; q < 3 * nf; ++q) EXPECT_EQ(some_gradients[mine + q], all_gradients[theirs + q]);
        }
    }
    EXPECT_THROW(CentreView(list.view(), {whole.n_centers}), Error);
    EXPECT_THROW(CentreView(list.view(), {-1}), Error);
}

// The cluster form lists every other atom as the centre's neighbour.
TEST(CentreView, ClusterListsEveryOtherAtom) {
    const double positions[9] = {0, 0, 0, 1.5, 0, 0, 0, 1.6, 0};
    const int32_t species[3] = {14, 14, 6};
    const CentreView cluster = CentreView::cluster(3, positions, species, 1);
    const SystemView view = cluster.view();
    ASSERT_EQ(view.n_centers, 1);
    EXPECT_EQ(view.centers[0], 1);
    ASSERT_EQ(view.offsets[1], 2);
    EXPECT_EQ(view.neighbours[0], 0);
    EXPECT_EQ(view.neighbours[1], 2);
    EXPECT_NO_THROW(validate_system(view));
    EXPECT_THROW(CentreView::cluster(3, positions, species, 3), Error);
}
