// Choosing representative rows of a matrix: deterministic greedy CUR and farthest-point sampling.
// Used for sparse points in training and for feature and sample selection in analysis.
#pragma once

#include <cstdint>
#include <vector>

namespace atomfp {

// Deterministic greedy CUR selection of `count` rows of X [n][d]: repeatedly the row with the
// largest weight on the leading right singular vector of the remaining matrix (found by power
// iteration on its Gram matrix), after which every row loses its component along the chosen one.
// Returns row indices in selection order; stops early when what remains is below 1e-12 of the
// total squared norm (the matrix's rank is exhausted).
std::vector<int64_t> cur_selection(int64_t n, int64_t d, const double* X, int64_t count);

// Farthest-point sampling of `count` rows of X [n][d] by Euclidean distance, starting from row
// `first` (by default the row farthest from the mean); returns row indices in selection order (all
// rows if count >= n).
std::vector<int64_t> farthest_point_sampling(int64_t n, int64_t d, const double* X, int64_t count, int64_t first = -1);

}  // namespace atomfp
