// Test structures and helpers shared by the unit tests.
#pragma once

#include "core/neighbour_list.hpp"
#include "core/system.hpp"
#include "descriptors/descriptor.hpp"
#include "io/frame.hpp"

#include <array>
#include <cstdint>
#include <random>
#include <vector>

namespace atomfp::test {

struct Structure {
    std::vector<double> positions;
    std::vector<int32_t> species;
    std::vector<double> cell;  // empty for clusters
    int64_t size() const { return static_cast<int64_t>(species.size()); }
};

// Cubic diamond supercell (n x n x n conventional cells), positions rattled by a Gaussian.
Structure diamond(int n, double a, double rattle, uint32_t seed, int32_t z = 14);

// The structure as a periodic frame (no labels).
Frame frame_of(const Structure& s);
// The two-atom primitive diamond cell (fcc vectors), much smaller than typical cutoffs.
Structure primitive_diamond(double a, double rattle, uint32_t seed);
// A skewed triclinic cell with a few atoms.
Structure triclinic(uint32_t seed, const std::vector<int32_t>& species);
// Random cluster with a minimum interatomic distance.
Structure cluster(const std::vector<int32_t>& species, double box, double min_distance, uint32_t seed);

// Every image of every atom strictly within `cutoff` of atom i (periodic shifts up to +-4 cells),
// except i itself: the brute-force reference for the descriptor tests.
struct BruteNeighbour {
    double d[3];  // x_j + shift - x_i
    double r;
    int32_t z;
};
std::vector<BruteNeighbour> brute_neighbours(const Structure& s, int64_t i, double cutoff);

// A neighbour list that stays valid for small displacements (cutoff plus a skin).
NeighbourList neighbour_list(const Structure& s, double cutoff);

// The periodic list rewritten LAMMPS-style: every image becomes an explicit ghost atom appended
// after the local atoms, and the list has no cell shifts. owner[g] is the real atom of atom g.
struct GhostSystem {
    std::vector<double> positions;
    std::vector<int32_t> species;
    std::vector<int64_t> centers, offsets, neighbours, owner;
    SystemView view() const;
};
GhostSystem with_ghosts(const NeighbourList& list);

std::vector<double> features_of(const Descriptor& d, const SystemView& s);
std::vector<double> gradients_of(const Descriptor& d, const SystemView& s);

// Sum gradient blocks per real atom: result [n_centers][n_atoms][3][n_features].
std::vector<double> per_atom_gradients(const SystemView& s, const std::vector<double>& blocks, int64_t n_features,
                                       int64_t n_real_atoms, const std::vector<int64_t>& owner = {});

std::array<double, 9> random_rotation(uint32_t seed);

}  // namespace atomfp::test
