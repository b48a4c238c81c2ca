// An owned full neighbour list built with cell lists, for callers that have none of their own.
#pragma once

#include "core/system.hpp"

#include <cstdint>
#include <vector>

namespace atomfp {

struct NeighbourList {
    std::vector<double> positions;
    std::vector<int32_t> species;
    std::vector<double> cell;  // 9 entries, or empty for an open cluster
    std::vector<int64_t> centers;
    std::vector<int64_t> offsets;
    std::vector<int64_t> neighbours;
    std::vector<int32_t> cell_shifts;  // [n_pairs][3]; empty when there is no cell

    SystemView view() const;
};

// Every pair with r_ij < cutoff, in both directions; periodic images as cell shifts. For each
// centre, neighbours are sorted by atom index, then by shift. `cell` may be NULL (open cluster);
// `pbc` may be NULL (periodic in all directions when a cell is given).
NeighbourList build_neighbour_list(int64_t n_atoms, const double* positions, const int32_t* species,
                                   const double* cell, const int32_t* pbc, double cutoff);

}  // namespace atomfp
