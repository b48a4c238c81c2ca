// Rattled cubic diamond supercells for tests and benchmarks (no atomfp dependency).
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace atomfp::test {

struct DiamondCrystal {
    std::vector<double> positions;  // [n_atoms][3]
    std::vector<int32_t> species;
    std::vector<double> cell;  // rows
};

// n x n x n conventional cells of lattice constant a; positions rattled by a Gaussian of width rattle.
inline DiamondCrystal rattled_diamond(int n, double a, double rattle, uint32_t seed, int32_t z = 14) {
    const double basis[8][3] = {{0, 0, 0},          {0, 0.5, 0.5},      {0.5, 0, 0.5},      {0.5, 0.5, 0},
                                {0.25, 0.25, 0.25}, {0.25, 0.75, 0.75}, {0.75, 0.25, 0.75}, {0.75, 0.75, 0.25}};
    std::mt19937 rng(seed);
    std::normal_distribution<double> noise(0.0, rattle);
    DiamondCrystal c;
    for (int i = 0; i < n; ++i)
        for (int j = 0; j < n; ++j)
            for (int k = 0; k < n; ++k)
                for (const auto& b : basis) {
                    c.positions.push_back((i + b[0]) * a + noise(rng));
                    c.positions.push_back((j + b[1]) * a + noise(rng));
                    c.positions.push_back((k + b[2]) * a + noise(rng));
                    c.species.push_back(z);
                }
    c.cell = {n * a, 0, 0, 0, n * a, 0, 0, 0, n * a};
    return c;
}

}  // namespace atomfp::test
