// How far one configuration of a set of atoms is from another once rigid motion and the labelling
// of like atoms no longer count: the least-squares superposition over translations, proper
// rotations (Horn's quaternion method) and permutations of atoms of the same species.
#pragma once

#include <cstdint>
#include <vector>

namespace atomfp {

struct Superposition {
    double rmsd = 0.0;                  // root-mean-square deviation after superposition, Å
    double max_deviation = 0.0;         // largest single-atom deviation after superposition, Å
    std::vector<int64_t> permutation;   // moving atom permutation[a] is matched with reference atom a
    double rotation[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};  // row-major, applied to centred moving atoms
};

// Which relabelling counts as the best: the one of least RMSD, or the one whose largest single-atom
// deviation is least (so that a reported largest deviation is a continuous function of the atoms).
// The rotation is the least-squares one for every labelling.
enum class RelabelBy { rmsd, max_deviation };

// Superposes `moving` onto `reference` (both [n][3]). With `permute`, atoms a >= fixed may be
// relabelled among atoms of equal species; the first `fixed` atoms (e.g. an environment's centre)
// keep their labels. Permutations are enumerated exhaustively while there are at most 40,320 of
// them, and the best by `relabel_by` is kept; beyond that, optimal assignment (Hungarian algorithm)
// and rotation are alternated from the identity labelling until the labelling stops changing, which
// finds a local optimum of the RMSD whatever `relabel_by` says.
Superposition superpose(int64_t n, const double* reference, const double* moving, const int32_t* species,
                        int64_t fixed, bool permute, RelabelBy relabel_by = RelabelBy::rmsd);

// `moving` translated and rotated onto `reference` without relabelling ([n][3]): the same internal
// configuration, seen from the reference's frame.
std::vector<double> superposed_positions(int64_t n, const double* reference, const double* moving);

// The minimum-cost perfect matching of an n x n cost matrix (row-major): assignment[row] = column.
std::vector<int64_t> optimal_assignment(int64_t n, const std::vector<double>& cost);

}  // namespace atomfp
