#include "structures.hpp"

#include "support/diamond.hpp"

#include <algorithm>
#include <cmath>

namespace atomfp::test {

Structure diamond(int n, double a, double rattle, uint32_t seed, int32_t z) {
    DiamondCrystal c = rattled_diamond(n, a, rattle, seed, z);
    return Structure{c.positions, c.species, c.cell};
}

Structure primitive_diamond(double a, double rattle, uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<double> noise(0.0, rattle);
    Structure s;
    s.cell = {0, a / 2, a / 2, a / 2, 0, a / 2, a / 2, a / 2, 0};
    s.positions = {noise(rng), noise(rng), noise(rng), a / 4 + noise(rng), a / 4 + noise(rng), a / 4 + noise(rng)};
    s.species = {14, 14};
    return s;
}

Structure triclinic(uint32_t seed, const std::vector<int32_t>& species) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    Structure s;
    s.cell = {4.1, 0.0, 0.0, 1.3, 3.7, 0.0, -0.9, 1.1, 3.9};
    s.species = species;
    for (std::size_t i = 0; i < species.size(); ++i) {
        // Atoms on a coarse jittered grid so none coincide.
        double f[3] = {(i % 2) * 0.5 + 0.2 * unit(rng), ((i / 2) % 2) * 0.5 + 0.2 * unit(rng), 0.3 * unit(rng) + 0.35 * (i / 4)};
        for (int k = 0; k < 3; ++k) s.positions.push_back(f[0] * s.cell[k] + f[1] * s.cell[3 + k] + f[2] * s.cell[6 + k]);
    }
    return s;
}

Structure cluster(const std::vector<int32_t>& species, double box, double min_distance, uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> coordinate(0.0, box);
    Structure s;
    s.species = species;
    while (static_cast<std::size_t>(s.positions.size()) < 3 * species.size()) {
        double x[3] = {coordinate(rng), coordinate(rng), coordinate(rng)};
        bool ok = true;
        for (std::size_t j = 0; j < s.positions.size(); j += 3) {
            double d2 = 0;
            for (int k = 0; k < 3; ++k) d2 += (x[k] - s.positions[j + k]) * (x[k] - s.positions[j + k]);
            ok = ok && d2 > min_distance * min_distance;
        }
        if (ok) s.positions.insert(s.positions.end(), x, x + 3);
    }
    return s;
}

NeighbourList neighbour_list(const Structure& s, double cutoff) {
    return build_neighbour_list(s.size(), s.positions.data(), s.species.data(), s.cell.empty() ? nullptr : s.cell.data(),
                                nullptr, cutoff + 0.5);
}

SystemView GhostSystem::view() const {
    SystemView v;
    v.n_atoms = static_cast<int64_t>(species.size());
    v.positions = positions.data();
    v.species = species.data();
    v.n_centers = static_cast<int64_t>(centers.size());
    v.centers = centers.data();
    v.offsets = offsets.data();
    v.neighbours = neighbours.data();
    return v;
}

GhostSystem with_ghosts(const NeighbourList& list) {
    const SystemView s = list.view();
    GhostSystem g;
    g.positions = list.positions;
    g.species = list.species;
    g.centers = list.centers;
    g.offsets = list.offsets;
    for (int64_t i = 0; i < s.n_atoms; ++i) g.owner.push_back(i);
    std::vector<std::array<int64_t, 4>> known;  // (atom, shift) of each ghost
    for (int64_t p = 0; p < s.n_pairs(); ++p) {
        const int64_t j = s.neighbours[p];
        const int32_t* n = s.cell_shifts ? s.cell_shifts + 3 * p : nullptr;
        if (!n || (n[0] == 0 && n[1] == 0 && n[2] == 0)) {
            g.neighbours.push_back(j);
            continue;
        }
        std::array<int64_t, 4> key = {j, n[0], n[1], n[2]};
        int64_t index = -1;
        for (std::size_t q = 0; q < known.size(); ++q) {
            if (known[q] == key) index = s.n_atoms + static_cast<int64_t>(q);
        }
        if (index < 0) {
            index = static_cast<int64_t>(g.species.size());
            known.push_back(key);
            for (int k = 0; k < 3; ++k) {
                g.positions.push_back(s.positions[3 * j + k] + n[0] * s.cell[k] + n[1] * s.cell[3 + k] + n[2] * s.cell[6 + k]);
            }
            g.species.push_back(s.species[j]);
            g.owner.push_back(j);
        }
        g.neighbours.push_back(index);
    }
    return g;
}

std::vector<double> features_of(const Descriptor& d, const SystemView& s) {
    std::vector<double> f(static_cast<std::size_t>(s.n_centers * d.feature_count()));
    compute(d, s, f.data(), nullptr);
    return f;
}

std::vector<double> gradients_of(const Descriptor& d, const SystemView& s) {
    std::vector<double> g(static_cast<std::size_t>(s.n_gradient_blocks() * 3 * d.feature_count()));
    compute(d, s, nullptr, g.data());
    return g;
}

std::vector<double> per_atom_gradients(const SystemView& s, const std::vector<double>& blocks, int64_t nf,
                                       int64_t n_real, const std::vector<int64_t>& owner) {
    std::vector<double> out(static_cast<std::size_t>(s.n_centers * n_real * 3 * nf), 0.0);
    auto add = [&](int64_t c, int64_t atom, int64_t block) {
        const int64_t real = owner.empty() ? atom : owner[atom];
        for (int64_t k = 0; k < 3 * nf; ++k) out[(c * n_real + real) * 3 * nf + k] += blocks[block * 3 * nf + k];
    };
    for (int64_t c = 0; c < s.n_centers; ++c) {
        const int64_t first = c + s.offsets[c];
        add(c, s.centers[c], first);
        for (int64_t p = s.offsets[c]; p < s.offsets[c + 1]; ++p) add(c, s.neighbours[p], first + 1 + (p - s.offsets[c]));
    }
    return out;
}

std::array<double, 9> random_rotation(uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<double> g(0.0, 1.0);
    double q[4] = {g(rng), g(rng), g(rng), g(rng)};
    double n = std::sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
    for (double& x : q) x /= n;
    const double w = q[0], x = q[1], y = q[2], z = q[3];
    return {1 - 2 * (y * y + z * z), 2 * (x * y - z * w),     2 * (x * z + y * w),
            2 * (x * y + z * w),     1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
            2 * (x * z - y * w),     2 * (y * z + x * w),     1 - 2 * (x * x + y * y)};
}

std::vector<BruteNeighbour> brute_neighbours(const Structure& s, int64_t i, double cutoff) {
    std::vector<BruteNeighbour> out;
    const int m = s.cell.empty() ? 0 : 4;
    for (int64_t j = 0; j < s.size(); ++j)
        for (int a = -m; a <= m; ++a)
            for (int b = -m; b <= m; ++b)
                for (int c = -m; c <= m; ++c) {
                    if (j == i && a == 0 && b == 0 && c == 0) continue;
                    BruteNeighbour n;
                    for (int k = 0; k < 3; ++k) {
                        n.d[k] = s.positions[3 * j + k] - s.positions[3 * i + k];
                        if (m) n.d[k] += a * s.cell[k] + b * s.cell[3 + k] + c * s.cell[6 + k];
                    }
                    n.r = std::sqrt(n.d[0] * n.d[0] + n.d[1] * n.d[1] + n.d[2] * n.d[2]);
                    n.z = s.species[j];
                    if (n.r < cutoff) out.push_back(n);
                }
    return out;
}

Frame frame_of(const Structure& s) {
    Frame f;
    f.species = s.species;
    f.positions = s.positions;
    Mat3 cell;
    std::copy(s.cell.begin(), s.cell.end(), cell.begin());
    f.cell = cell;
    f.pbc = {true, true, true};
    return f;
}

}  // namespace atomfp::test
