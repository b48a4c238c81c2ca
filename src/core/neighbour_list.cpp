#include "core/neighbour_list.hpp"

#include "core/error.hpp"
#include "core/limits.hpp"
#include "core/parallel.hpp"
#include "core/mat3.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>

namespace atomfp {

SystemView NeighbourList::view() const {
    SystemView v;
    v.n_atoms = static_cast<int64_t>(species.size());
    v.positions = positions.data();
    v.species = species.data();
    v.cell = cell.empty() ? nullptr : cell.data();
    v.n_centers = static_cast<int64_t>(centers.size());
    v.centers = centers.data();
    v.offsets = offsets.data();
    v.neighbours = neighbours.data();
    v.cell_shifts = cell_shifts.empty() ? nullptr : cell_shifts.data();
    return v;
}

namespace {

struct Pair {
    int64_t atom;
    std::array<int32_t, 3> shift;
    bool operator<(const Pair& o) const { return atom != o.atom ? atom < o.atom : shift < o.shift; }
};

int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

void check_inputs(int64_t n_atoms, const double* positions, const int32_t* species, double cutoff) {
    if (n_atoms < 0 || n_atoms > max_system_atoms) {
        fail(Status::invalid_argument, "n_atoms must be in [0, ", max_system_atoms, "], got ", n_atoms);
    }
    if (n_atoms > 0 && !positions) fail(Status::invalid_argument, "positions is NULL");
    if (n_atoms > 0 && !species) fail(Status::invalid_argument, "species is NULL");
    if (!(cutoff > 0.0) || !std::isfinite(cutoff)) fail(Status::invalid_argument, "cutoff must be positive and finite, got ", cutoff);
    for (int64_t i = 0; i < 3 * n_atoms; ++i) {
        if (!std::isfinite(positions[i])) {
            fail(Status::invalid_argument, "positions of atom ", i / 3, " is not finite (", positions[i], ")");
        }
    }
}

// The cell as the search uses it: the identity (and no periodic direction) for an open cluster.
struct Lattice {
    Mat3 cell = {1, 0, 0, 0, 1, 0, 0, 0, 1};
    Mat3 inverse = {1, 0, 0, 0, 1, 0, 0, 0, 1};
    bool periodic[3] = {false, false, false};
};

Lattice lattice_of(const double* cell, const int32_t* pbc) {
    Lattice lattice;
    if (cell) {
        if (!all_finite(cell, 9)) fail(Status::invalid_argument, "cell has a non-finite entry");
        for (int k = 0; k < 3; ++k) lattice.periodic[k] = pbc ? pbc[k] != 0 : true;
    } else if (pbc && (pbc[0] || pbc[1] || pbc[2])) {
        fail(Status::invalid_argument, "pbc asks for periodic directions but cell is NULL");
    }
    // A cell is only inverted when it is needed; a degenerate cell of an open cluster is fine.
    if (cell && (lattice.periodic[0] || lattice.periodic[1] || lattice.periodic[2])) {
        std::copy(cell, cell + 9, lattice.cell.begin());
        lattice.inverse = inverse(lattice.cell);
    }
    return lattice;
}

// Fractional coordinates, wrapped into [0, 1) along periodic directions; `wrap` remembers the
// lattice translation so shifts can be expressed for the caller's unwrapped positions, and
// `wrapped` holds the wrapped Cartesian positions the search works on.
struct WrappedAtoms {
    std::vector<double> fractional, wrapped;
    std::vector<int32_t> wrap;
};

WrappedAtoms wrap_atoms(int64_t n_atoms, const double* positions, const Lattice& lattice) {
    WrappedAtoms atoms;
    atoms.fractional.resize(3 * n_atoms);
    atoms.wrap.assign(3 * n_atoms, 0);
    const Mat3& inv = lattice.inverse;
    for (int64_t i = 0; i < n_atoms; ++i) {
        const double* x = positions + 3 * i;
        for (int k = 0; k < 3; ++k) {
            double s = x[0] * inv[k] + x[1] * inv[3 + k] + x[2] * inv[6 + k];
            if (lattice.periodic[k]) {
                double w = std::floor(s);
                if (std::fabs(w) > 1e9) fail(Status::invalid_argument, "atom ", i, " lies ", w, " cells away from the origin");
                s -= w;
                if (s >= 1.0) {
                    s -= 1.0;
                    w += 1.0;
                }
                atoms.wrap[3 * i + k] = static_cast<int32_t>(w);
            }
            atoms.fractional[3 * i + k] = s;
        }
    }
    const Mat3& cell = lattice.cell;
    atoms.wrapped.resize(3 * n_atoms);
    for (int64_t i = 0; i < n_atoms; ++i) {
        const int32_t* w = &atoms.wrap[3 * i];
        for (int k = 0; k < 3; ++k) {
            atoms.wrapped[3 * i + k] = positions[3 * i + k] - (w[0] * cell[k] + w[1] * cell[3 + k] + w[2] * cell[6 + k]);
        }
    }
    return atoms;
}

// Bins at least `cutoff` thick perpendicular to each pair of lattice planes, each atom's bin, and
// the atoms of each bin (bin_atoms[bin_start[b] .. bin_start[b + 1])).
struct BinGrid {
    int64_t n_bins[3], reach[3];
    double low[3], width[3];
    std::vector<std::array<int64_t, 3>> atom_bin;
    std::vector<int64_t> bin_start, bin_atoms;

    int64_t index(const int64_t bin[3]) const { return (bin[0] * n_bins[1] + bin[1]) * n_bins[2] + bin[2]; }
};

BinGrid bin_grid(int64_t n_atoms, const std::vector<double>& frac, const Lattice& lattice, double cutoff) {
    BinGrid grid;
    const Mat3& inv = lattice.inverse;
    const bool* periodic = lattice.periodic;
    double spacing[3];
    for (int k = 0; k < 3; ++k) {
        spacing[k] = 1.0 / std::sqrt(inv[k] * inv[k] + inv[3 + k] * inv[3 + k] + inv[6 + k] * inv[6 + k]);
        double lo = 0.0, hi = 1.0;
        if (!periodic[k]) {
            lo = hi = frac[k];
            for (int64_t i = 0; i < n_atoms; ++i) {
                lo = std::min(lo, frac[3 * i + k]);
                hi = std::max(hi, frac[3 * i + k]);
            }
        }
        grid.low[k] = lo;
        double thickness = (hi - lo) * spacing[k];
        grid.n_bins[k] = std::max<int64_t>(1, static_cast<int64_t>(std::min(thickness / cutoff, 1e6)));
    }
    // Keep the bin count O(n_atoms) for sparse systems.
    const int64_t max_bins = std::max<int64_t>(27, 2 * n_atoms);
    int64_t* n_bins = grid.n_bins;
    while (n_bins[0] * n_bins[1] * n_bins[2] > max_bins) {
        int k = static_cast<int>(std::max_element(n_bins, n_bins + 3) - n_bins);
        n_bins[k] = (n_bins[k] + 1) / 2;
    }
    double n_images = 1.0;
    for (int k = 0; k < 3; ++k) {
        double range = periodic[k] ? 1.0 : 0.0;
        if (!periodic[k]) {
            for (int64_t i = 0; i < n_atoms; ++i) range = std::max(range, frac[3 * i + k] - grid.low[k]);
        }
        grid.width[k] = range > 0.0 ? range / static_cast<double>(n_bins[k]) : 1.0;
        double bin_thickness = grid.width[k] * spacing[k];
        grid.reach[k] = periodic[k] ? static_cast<int64_t>(std::ceil(cutoff / bin_thickness)) : std::min<int64_t>(1, n_bins[k] - 1);
        n_images *= static_cast<double>(2 * grid.reach[k] + 1);
    }
    // No physical cell needs more than a million images of its bins per atom (a cutoff 100 times
    // the cell's thickness); beyond that the search itself would take minutes.
    if (n_images > 1e6 || n_images * static_cast<double>(n_atoms) > 1e10) {
        fail(Status::invalid_argument, "the cell is too small for cutoff ", cutoff, " Å: ", n_images,
             " periodic images would have to be searched per atom (are positions and cell in Å?)");
    }

    const int64_t total_bins = n_bins[0] * n_bins[1] * n_bins[2];
    grid.atom_bin.resize(n_atoms);
    grid.bin_start.assign(total_bins + 1, 0);
    grid.bin_atoms.resize(n_atoms);
    std::vector<int64_t> flat(n_atoms);
    for (int64_t i = 0; i < n_atoms; ++i) {
        for (int k = 0; k < 3; ++k) {
            const int64_t b = static_cast<int64_t>(std::floor((frac[3 * i + k] - grid.low[k]) / grid.width[k]));
            grid.atom_bin[i][k] = std::clamp<int64_t>(b, 0, n_bins[k] - 1);
        }
        flat[i] = grid.index(grid.atom_bin[i].data());
        ++grid.bin_start[flat[i] + 1];
    }
    for (int64_t b = 0; b < total_bins; ++b) grid.bin_start[b + 1] += grid.bin_start[b];
    std::vector<int64_t> fill(grid.bin_start.begin(), grid.bin_start.end() - 1);
    for (int64_t i = 0; i < n_atoms; ++i) grid.bin_atoms[fill[flat[i]]++] = i;
    return grid;
}

// Every atom's pairs within the cutoff, sorted. Input in the wrong units (a 1 Å cell, a cluster
// squeezed into a point) would make the list exhaust the host's memory: each atom's pairs and the
// total are bounded, and the search stops at the first excess with a message (core/limits.hpp).
std::vector<std::vector<Pair>> search_pairs(int64_t n_atoms, const WrappedAtoms& atoms, const Lattice& lattice,
                                            const BinGrid& grid, double cutoff) {
    const double cutoff2 = cutoff * cutoff;
    const int64_t atom_limit = limit_value(max_neighbours_per_atom);
    const int64_t pair_limit = limit_value(max_neighbour_pairs);
    const Mat3& cell = lattice.cell;
    const bool* periodic = lattice.periodic;
    const int64_t* reach = grid.reach;
    const int64_t* n_bins = grid.n_bins;
    const std::vector<int32_t>& wrap = atoms.wrap;
    std::atomic<int64_t> total_pairs{0};
    std::vector<std::vector<Pair>> pairs(n_atoms);
    // An atom's search visits at least 27 bins, tens of pairs' work.
    parallel_for(n_atoms, 64, worth_threads(32 * n_atoms), [&](int64_t i) {
        std::vector<Pair>& mine = pairs[i];
        const double* xi = &atoms.wrapped[3 * i];
        for (int64_t dx = -reach[0]; dx <= reach[0]; ++dx) {
            for (int64_t dy = -reach[1]; dy <= reach[1]; ++dy) {
                for (int64_t dz = -reach[2]; dz <= reach[2]; ++dz) {
                    const int64_t delta[3] = {dx, dy, dz};
                    int64_t target[3];
                    int32_t shift[3];
                    bool inside = true;
                    for (int k = 0; k < 3; ++k) {
                        int64_t t = grid.atom_bin[i][k] + delta[k];
                        if (periodic[k]) {
                            int64_t q = floor_div(t, n_bins[k]);
                            shift[k] = static_cast<int32_t>(q);
                            target[k] = t - q * n_bins[k];
                        } else {
                            shift[k] = 0;
                            target[k] = t;
                            if (t < 0 || t >= n_bins[k]) inside = false;
                        }
                    }
                    if (!inside) continue;
                    double offset[3];
                    for (int k = 0; k < 3; ++k) {
                        offset[k] = shift[0] * cell[k] + shift[1] * cell[3 + k] + shift[2] * cell[6 + k];
                    }
                    const bool self_image = shift[0] == 0 && shift[1] == 0 && shift[2] == 0;
                    const int64_t b = grid.index(target);
                    for (int64_t q = grid.bin_start[b]; q < grid.bin_start[b + 1]; ++q) {
                        const int64_t j = grid.bin_atoms[q];
                        if (j == i && self_image) continue;
                        const double* xj = &atoms.wrapped[3 * j];
                        double d0 = xj[0] + offset[0] - xi[0];
                        double d1 = xj[1] + offset[1] - xi[1];
                        double d2 = xj[2] + offset[2] - xi[2];
                        if (d0 * d0 + d1 * d1 + d2 * d2 >= cutoff2) continue;
                        Pair pair;
                        pair.atom = j;
                        for (int k = 0; k < 3; ++k) pair.shift[k] = shift[k] - wrap[3 * j + k] + wrap[3 * i + k];
                        if (static_cast<int64_t>(mine.size()) >= atom_limit) {
                            fail(Status::neighbours, "atom ", i, " has more than ", atom_limit, " neighbours within ",
                                 cutoff, " Å (", n_atoms, " atoms): are positions and cell in Å? ",
                                 max_neighbours_per_atom.variable, " raises the limit");
                        }
                        mine.push_back(pair);
                    }
                }
            }
        }
        if (total_pairs.fetch_add(static_cast<int64_t>(mine.size())) + static_cast<int64_t>(mine.size()) > pair_limit) {
            fail(Status::neighbours, "the neighbour list would hold more than ", pair_limit, " pairs (", n_atoms,
                 " atoms, cutoff ", cutoff, " Å); ", max_neighbour_pairs.variable, " raises the limit");
        }
        std::sort(mine.begin(), mine.end());
    });
    return pairs;
}

}  // namespace

NeighbourList build_neighbour_list(int64_t n_atoms, const double* positions, const int32_t* species,
                                   const double* cell_in, const int32_t* pbc_in, double cutoff) {
    check_inputs(n_atoms, positions, species, cutoff);
    const Lattice lattice = lattice_of(cell_in, pbc_in);

    NeighbourList list;
    list.positions.assign(positions, positions + 3 * n_atoms);
    list.species.assign(species, species + n_atoms);
    if (cell_in) list.cell.assign(cell_in, cell_in + 9);
    list.centers.resize(static_cast<std::size_t>(n_atoms));
    for (int64_t i = 0; i < n_atoms; ++i) list.centers[i] = i;
    list.offsets.assign(static_cast<std::size_t>(n_atoms) + 1, 0);
    if (n_atoms == 0) return list;

    const WrappedAtoms atoms = wrap_atoms(n_atoms, positions, lattice);
    const BinGrid grid = bin_grid(n_atoms, atoms.fractional, lattice, cutoff);
    const std::vector<std::vector<Pair>> pairs = search_pairs(n_atoms, atoms, lattice, grid, cutoff);
    for (int64_t i = 0; i < n_atoms; ++i) list.offsets[i + 1] = list.offsets[i] + static_cast<int64_t>(pairs[i].size());
    const int64_t n_pairs = list.offsets[n_atoms];
    list.neighbours.resize(n_pairs);
    if (cell_in) list.cell_shifts.resize(3 * n_pairs);
    for (int64_t i = 0; i < n_atoms; ++i) {
        int64_t p = list.offsets[i];
        for (const Pair& pair : pairs[i]) {
            list.neighbours[p] = pair.atom;
            if (cell_in) std::copy(pair.shift.begin(), pair.shift.end(), list.cell_shifts.begin() + 3 * p);
            ++p;
        }
    }
    return list;
}

}  // namespace atomfp
