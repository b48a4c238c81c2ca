#include "core/system.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "core/mat3.hpp"

#include <cmath>

namespace atomfp {

void validate_system(const SystemView& s) {
    if (s.n_atoms < 0 || s.n_atoms > max_system_atoms) {
        fail(Status::invalid_argument, "system.n_atoms must be in [0, ", max_system_atoms, "], got ", s.n_atoms);
    }
    if (s.n_centers < 0 || s.n_centers > max_system_atoms) {
        fail(Status::invalid_argument, "system.n_centers must be in [0, ", max_system_atoms, "], got ", s.n_centers);
    }
    if (s.n_atoms > 0 && !s.positions) fail(Status::invalid_argument, "system.positions is NULL");
    if (s.n_atoms > 0 && !s.species) fail(Status::invalid_argument, "system.species is NULL");
    if (!s.offsets) fail(Status::invalid_argument, "system.offsets is NULL");
    if (s.n_centers > 0 && !s.centers) fail(Status::invalid_argument, "system.centers is NULL");
    for (int64_t i = 0; i < 3 * s.n_atoms; ++i) {
        if (!std::isfinite(s.positions[i])) {
            fail(Status::invalid_argument, "system.positions of atom ", i / 3, " is not finite (", s.positions[i], ")");
        }
    }
    if (s.cell && !all_finite(s.cell, 9)) fail(Status::invalid_argument, "system.cell has a non-finite entry");
    if (s.offsets[0] != 0) fail(Status::neighbours, "system.offsets[0] must be 0, got ", s.offsets[0]);
    for (int64_t c = 0; c < s.n_centers; ++c) {
        if (s.centers[c] < 0 || s.centers[c] >= s.n_atoms) {
            fail(Status::neighbours, "system.centers[", c, "] = ", s.centers[c], " is out of range [0, ", s.n_atoms, ")");
        }
        if (s.offsets[c + 1] < s.offsets[c]) {
            fail(Status::neighbours, "system.offsets must be non-decreasing: offsets[", c + 1, "] = ", s.offsets[c + 1],
                 " < offsets[", c, "] = ", s.offsets[c]);
        }
    }
    const int64_t n_pairs = s.n_pairs();
    if (n_pairs > 0 && !s.neighbours) fail(Status::invalid_argument, "system.neighbours is NULL");
    for (int64_t p = 0; p < n_pairs; ++p) {
        if (s.neighbours[p] < 0 || s.neighbours[p] >= s.n_atoms) {
            fail(Status::neighbours, "system.neighbours[", p, "] = ", s.neighbours[p], " is out of range [0, ", s.n_atoms, ")");
        }
    }
    if (s.cell_shifts && !s.cell) fail(Status::invalid_argument, "system.cell_shifts is given but system.cell is NULL");
}

void Environment::build(const SystemView& s, int64_t center_index, double cutoff) {
    displacements.clear();
    distances.clear();
    species.clear();
    atoms.clear();
    slots.clear();
    const int64_t i = s.centers[center_index];
    center_atom = i;
    center_species = s.species[i];
    const double cutoff2 = cutoff * cutoff;
    const int64_t begin = s.offsets[center_index], end = s.offsets[center_index + 1];
    for (int64_t p = begin; p < end; ++p) {
        const int64_t j = s.neighbours[p];
        double d[3];
        pair_vector(s, center_index, p, d);
        // Finite positions and cells far beyond any physical size can still give an infinite or
        // NaN separation, which would pass the cutoff test below as NaN does.
        if (!std::isfinite(d[0]) || !std::isfinite(d[1]) || !std::isfinite(d[2])) {
            fail(Status::invalid_argument, "the separation of atoms ", i, " and ", j, " (list entry ", p,
                 ") is not finite: positions or cell are too large");
        }
        const double r2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
        if (r2 >= cutoff2) continue;
        const double r = std::sqrt(r2);
        if (r < coincidence_distance) {
            fail(Status::invalid_argument, "atoms ", i, " and ", j, " (list entry ", p, ") coincide: distance ", r,
                 " Å is below ", coincidence_distance, " Å");
        }
        displacements.insert(displacements.end(), d, d + 3);
        distances.push_back(r);
        species.push_back(s.species[j]);
        atoms.push_back(j);
        slots.push_back(p - begin);
    }
}

CentreView::CentreView(const SystemView& system, const std::vector<int64_t>& centre_indices) : atoms_(system) {
    for (int64_t c : centre_indices) {
        if (c < 0 || c >= system.n_centers) {
            fail(Status::invalid_argument, "centre ", c, " is out of range [0, ", system.n_centers, ")");
        }
        centers_.push_back(system.centers[c]);
        neighbours_.insert(neighbours_.end(), system.neighbours + system.offsets[c], system.neighbours + system.offsets[c + 1]);
        if (system.cell_shifts) {
            cell_shifts_.insert(cell_shifts_.end(), system.cell_shifts + 3 * system.offsets[c],
                                system.cell_shifts + 3 * system.offsets[c + 1]);
        }
        offsets_.push_back(static_cast<int64_t>(neighbours_.size()));
    }
}

CentreView CentreView::cluster(int64_t n_atoms, const double* positions, const int32_t* species, int64_t centre_atom) {
    if (n_atoms < 1 || centre_atom < 0 || centre_atom >= n_atoms) {
        fail(Status::invalid_argument, "centre atom ", centre_atom, " of a cluster of ", n_atoms, " atoms");
    }
    CentreView out;
    out.atoms_.n_atoms = n_atoms;
    out.atoms_.positions = positions;
    out.atoms_.species = species;
    out.centers_ = {centre_atom};
    for (int64_t a = 0; a < n_atoms; ++a) {
        if (a != centre_atom) out.neighbours_.push_back(a);
    }
    out.offsets_.push_back(n_atoms - 1);
    return out;
}

SystemView CentreView::view() const {
    SystemView view = atoms_;
    view.n_centers = static_cast<int64_t>(centers_.size());
    view.centers = centers_.data();
    view.offsets = offsets_.data();
    view.neighbours = neighbours_.data();
    view.cell_shifts = atoms_.cell_shifts ? cell_shifts_.data() : nullptr;
    return view;
}

void forces_and_virial(const SystemView& system, const double* contracted, double* forces, double* virial) {
    if (forces) std::fill(forces, forces + 3 * system.n_atoms, 0.0);
    double W[9] = {0, 0, 0, 0, 0, 0, 0, 0, 0};
    for (int64_t c = 0; c < system.n_centers; ++c) {
        const double* blocks = contracted + 3 * (c + system.offsets[c]);
        for_each_block_of_centre(system, c, [&](int64_t b, int64_t atom, const double* r) {
            const double* g = blocks + 3 * b;
            if (forces)
                for (int k = 0; k < 3; ++k) forces[3 * atom + k] -= g[k];
            if (virial && r)
                for (int a = 0; a < 3; ++a)
                    for (int k = 0; k < 3; ++k) W[3 * a + k] -= r[a] * g[k];
        });
    }
    if (virial) std::copy(W, W + 9, virial);
}

}  // namespace atomfp
