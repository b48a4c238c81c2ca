// The cell-list builder against an O(N^2 * images) brute force, for clusters, small and skewed
// cells, and mixed boundary conditions.
#include "core/error.hpp"
#include "core/neighbour_list.hpp"
#include "structures.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <tuple>

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
