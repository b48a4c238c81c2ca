// Assertions shared by the descriptor tests: finite differences, closeness, invariance helpers.
#pragma once

#include "descriptors/descriptor.hpp"
#include "structures.hpp"

#include <array>
#include <cstdint>
#include <vector>

namespace atomfp::test {

// |a - b| <= tolerance * max(|b|, 1e-3 max|b|), entry by entry.
void expect_close_relative(const std::vector<double>& a, const std::vector<double>& b, double tolerance);
// The same with 1e-12 and a floor of 1e-2 max|a|: for invariance checks.
void expect_same_features(const std::vector<double>& a, const std::vector<double>& b);

// Central differences of the features of every centre of `base` with respect to every coordinate
// of the atoms in `atoms`, compared with the per-atom sums of the analytic blocks (relative
// tolerance, floor 1e-3 of the largest gradient).
void check_finite_differences(const Descriptor& d, std::vector<double> positions, const SystemView& base,
                              const std::vector<int64_t>& atoms, double tolerance = 1e-6, double step = 1e-5);

std::vector<int64_t> all_atoms(int64_t n);

// Reorders the atoms of `s` (new atom i is old atom order[i], species included) and checks that
// every centre's features follow its atom, against `reference` = the features of `s`.
void expect_permutation_covariant(const Descriptor& d, const Structure& s, const std::vector<int64_t>& order,
                                  const std::vector<double>& reference);

// The structure (positions and cell) rotated by the 3x3 row-major matrix R (proper or improper).
Structure transformed(const Structure& s, const std::array<double, 9>& R);

}  // namespace atomfp::test
