// The borrowed view of atoms plus a caller-owned neighbour list (mirrors atomfp_system_t), its
// validation, and the per-centre environment that descriptors consume.
#pragma once

#include <cstdint>
#include <vector>

namespace atomfp {

// More atoms than any system (or a negative count passed as unsigned); keeps 3 * n_atoms and the
// pair counts far from overflow.
constexpr int64_t max_system_atoms = int64_t(1) << 40;

struct SystemView {
    int64_t n_atoms = 0;
    const double* positions = nullptr;
    const int32_t* species = nullptr;
    const double* cell = nullptr;
    int64_t n_centers = 0;
    const int64_t* centers = nullptr;
    const int64_t* offsets = nullptr;
    const int64_t* neighbours = nullptr;
    const int32_t* cell_shifts = nullptr;

    int64_t n_pairs() const { return n_centers > 0 ? offsets[n_centers] : 0; }
    // Gradient blocks: one per centre plus one per listed pair.
    int64_t n_gradient_blocks() const { return n_centers + n_pairs(); }
};

// r_ij = x_j - x_i + shift . cell for list entry `pair` (an index into neighbours) of centre `center`.
inline void pair_vector(const SystemView& s, int64_t center, int64_t pair, double* r) {
    const double* xi = s.positions + 3 * s.centers[center];
    const double* xj = s.positions + 3 * s.neighbours[pair];
    for (int k = 0; k < 3; ++k) r[k] = xj[k] - xi[k];
    if (s.cell_shifts) {
        const int32_t* n = s.cell_shifts + 3 * pair;
        for (int k = 0; k < 3; ++k) r[k] += n[0] * s.cell[k] + n[1] * s.cell[3 + k] + n[2] * s.cell[6 + k];
    }
}

// The gradient blocks of centre `center`, in the order every driver writes them (system-wide, the
// centre's first block is center + offsets[center]): b = 0 is d/d(the centre's own atom), then one
// block per listed pair. visit(b, atom, r) gets the block's atom and, for pairs, r_ij (nullptr for
// b = 0, whose derivative carries no separation).
template <class Visit>
void for_each_block_of_centre(const SystemView& system, int64_t center, Visit&& visit) {
    visit(int64_t(0), system.centers[center], static_cast<const double*>(nullptr));
    for (int64_t q = system.offsets[center]; q < system.offsets[center + 1]; ++q) {
        double r[3];
        pair_vector(system, center, q, r);
        visit(1 + q - system.offsets[center], system.neighbours[q], static_cast<const double*>(r));
    }
}

// Forces F = -dE/dx and the virial W = -sum over pairs r_ij (x) dE/dr_ij from dE/dx of every
// gradient block (contracted [n_gradient_blocks][3]). Either output may be NULL; forces are
// [n_atoms][3] and overwritten, the virial [3][3].
void forces_and_virial(const SystemView& system, const double* contracted, double* forces, double* virial);

// Distances below this are coincident atoms, an error rather than a NaN.
constexpr double coincidence_distance = 1e-8;

// Checks pointers, finiteness, index ranges and CSR consistency; throws Error naming the problem.
void validate_system(const SystemView& system);

// Some centres of a system as a system of its own: the same atoms, the chosen centres with their
// neighbour lists in the original pair order (so gradient blocks keep their meaning). It owns its
// index arrays and hands out the view by value, so copies are safe; the atoms stay borrowed.
class CentreView {
public:
    // `centre_indices` index system.centers; each must be in range.
    CentreView(const SystemView& system, const std::vector<int64_t>& centre_indices);
    // Atom `centre_atom` of an open cluster of n_atoms, with every other atom as its neighbour.
    static CentreView cluster(int64_t n_atoms, const double* positions, const int32_t* species, int64_t centre_atom);

    SystemView view() const;

private:
    CentreView() = default;
    SystemView atoms_;  // positions, species and cell of the system; its centres are not used
    std::vector<int64_t> centers_, offsets_{0}, neighbours_;
    std::vector<int32_t> cell_shifts_;
};

// A system that validate_system accepted. The drivers take one, so a caller that needs the system
// valid before it computes (a model reads its centres' species first) checks it once.
class ValidatedSystem {
public:
    explicit ValidatedSystem(const SystemView& system) : system_(system) { validate_system(system_); }
    const SystemView& view() const { return system_; }

private:
    SystemView system_;  // a copy of the pointers, so no temporary can dangle
};

// The neighbours of one centre that lie strictly inside a cutoff, in list order.
struct Environment {
    int64_t center_atom = 0;
    int32_t center_species = 0;
    std::vector<double> displacements;  // [n][3], x_j - x_i + shift . cell
    std::vector<double> distances;      // [n]
    std::vector<int32_t> species;       // [n] atomic numbers
    std::vector<int64_t> atoms;         // [n] atom indices
    std::vector<int64_t> slots;         // [n] position within the centre's list, 0-based

    int64_t size() const { return static_cast<int64_t>(distances.size()); }

    // Reuses the vectors' capacity; throws Error for coincident atoms.
    void build(const SystemView& system, int64_t center_index, double cutoff);
};

}  // namespace atomfp
