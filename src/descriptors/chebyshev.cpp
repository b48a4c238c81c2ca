#include "descriptors/chebyshev.hpp"

#include "core/elements.hpp"
#include "core/error.hpp"

#include <algorithm>
#include <cmath>

namespace atomfp {

std::vector<int> chebyshev_type_spins(int n_species) {
    std::vector<int> spins;
    int s = -(n_species / 2);
    while (static_cast<int>(spins.size()) < n_species) {
        if (s == 0 && n_species % 2 == 0) {
            ++s;
            continue;
        }
        spins.push_back(s++);
    }
    return spins;
}

namespace {

// T_0..T_n(x) and their derivatives T_n' = n U_{n-1}.
void chebyshev(int n, double x, double* t, double* dt) {
    double u_previous = 0.0, u = 1.0;  // U_{-1}, U_0
    t[0] = 1.0;
    dt[0] = 0.0;
    if (n >= 1) {
        t[1] = x;
        dt[1] = 1.0;
    }
    for (int k = 2; k <= n; ++k) {
        t[k] = 2.0 * x * t[k - 1] - t[k - 2];
        const double u_next = 2.0 * x * u - u_previous;  // U_{k-1}
        u_previous = u;
        u = u_next;
        dt[k] = k * u;
    }
}

void cosine_cutoff(double r, double rc, double& f, double& df) {
    if (r >= rc) {
        f = df = 0.0;
        return;
    }
    f = 0.5 * (std::cos(M_PI * r / rc) + 1.0);
    df = -0.5 * M_PI / rc * std::sin(M_PI * r / rc);
}

}  // namespace

ChebyshevDescriptor::ChebyshevDescriptor(const json& spec) {
    SpecReader reader(spec);
    reader.string("type", std::nullopt, {"chebyshev"});
    species_ = SpeciesList::read(reader);
    radial_cutoff_ = reader.number("radial_cutoff", 8.0, 0.0, 1e3, true);
    radial_order_ = static_cast<int>(reader.integer("radial_order", 16, 0, 100));
    angular_cutoff_ = reader.number("angular_cutoff", 6.5, 0.0, 1e3, true);
    angular_order_ = static_cast<int>(reader.integer("angular_order", 4, 0, 100));
    mixed_ = reader.string("mixing", std::string("none"), {"none", "full"}) == "full";
    mixed_radial_order_ = mixed_ ? static_cast<int>(reader.integer("mixed_radial_order", angular_order_, 0, 30)) : 0;
    reader.finish();
    spins_ = chebyshev_type_spins(species_.size());
    if (mixed_) {
        for (int a = 0; a <= mixed_radial_order_; ++a)
            for (int b = a; b <= mixed_radial_order_; ++b) mixed_pairs_.emplace_back(a, b);
    }
    angular_offset_ = radial_order_ + 1;
    mixed_offset_ = angular_offset_ + angular_order_ + 1;
    block_size_ = mixed_offset_ + static_cast<int64_t>(mixed_pairs_.size()) * (angular_order_ + 1);
    n_features_ = block_size_ * (species_.size() > 1 ? 2 : 1);
}

json ChebyshevDescriptor::parameters() const {
    json out;
    out["type"] = "chebyshev";
    out["species"] = species_.atomic_numbers();
    out["radial_cutoff"] = radial_cutoff_;
    out["radial_order"] = radial_order_;
    out["angular_cutoff"] = angular_cutoff_;
    out["angular_order"] = angular_order_;
    out["mixing"] = mixed_ ? "full" : "none";
    if (mixed_) out["mixed_radial_order"] = mixed_radial_order_;
    return out;
}

std::string ChebyshevDescriptor::feature_label(int64_t index) const {
    const std::string prefix = index >= block_size_ ? "spin-weighted " : "";
    const int64_t i = index % block_size_;
    if (i < angular_offset_) return prefix + "T_radial(" + std::to_string(i) + ")";
    if (i < mixed_offset_) return prefix + "T_angular(" + std::to_string(i - angular_offset_) + ")";
    const int64_t m = i - mixed_offset_;
    const auto& [a, b] = mixed_pairs_[m / (angular_order_ + 1)];
    return prefix + "T_mixed(" + std::to_string(a) + "," + std::to_string(b) + ";" + std::to_string(m % (angular_order_ + 1)) + ")";
}

class ChebyshevDescriptor::ChebyshevWorkspace final : public Descriptor::Workspace {
public:
    std::vector<double> t, dt;                    // scratch for one Chebyshev evaluation
    std::vector<double> fa, dfa, spin;            // [n] angular cutoff and its derivative, type spin
    std::vector<double> mixed_radial, mixed_radial_derivative;  // [n][mixed order + 1]
    std::vector<char> in_angular;                 // [n]
};

std::unique_ptr<Descriptor::Workspace> ChebyshevDescriptor::make_workspace() const {
    auto ws = std::make_unique<ChebyshevWorkspace>();
    const int order = std::max({radial_order_, angular_order_, mixed_radial_order_}) + 1;
    ws->t.resize(order);
    ws->dt.resize(order);
    return ws;
}

void ChebyshevDescriptor::compute_environment(const Environment& environment, double* features, double* neighbour_gradients,
                                              Workspace& workspace) const {
    auto& ws = static_cast<ChebyshevWorkspace&>(workspace);
    const int64_t n = environment.size();
    const bool weighted = species_.size() > 1;
    const int NM = mixed_radial_order_ + 1, NA = angular_order_ + 1;
    std::fill(features, features + n_features_, 0.0);
    if (static_cast<int64_t>(ws.fa.size()) < n) {
        ws.fa.resize(n);
        ws.dfa.resize(n);
        ws.spin.resize(n);
        ws.in_angular.resize(n);
        ws.mixed_radial.resize(static_cast<std::size_t>(n) * NM);
        ws.mixed_radial_derivative.resize(static_cast<std::size_t>(n) * NM);
    }
    double* t = ws.t.data();
    double* dt = ws.dt.data();
    auto gradient = [&](int64_t q) { return neighbour_gradients + environment.slots[q] * 3 * n_features_; };
    // Adds value v to feature f (and its spin-weighted copy with weight w); the gradient with
    // respect to neighbour q is `along` times the vector `direction`.
    auto add = [&](int64_t f, double v, double w) {
        features[f] += v;
        if (weighted) features[block_size_ + f] += w * v;
    };
    auto add_gradient = [&](int64_t q, int64_t f, double w, const double* direction, double along) {
        double* g = gradient(q);
        for (int alpha = 0; alpha < 3; ++alpha) {
            g[alpha * n_features_ + f] += along * direction[alpha];
            if (weighted) g[alpha * n_features_ + block_size_ + f] += w * along * direction[alpha];
        }
    };

    for (int64_t j = 0; j < n; ++j) {
        const double r = environment.distances[j];
        const double* d = &environment.displacements[3 * j];
        const double u[3] = {d[0] / r, d[1] / r, d[2] / r};
        const double s = spins_[species_.index(environment.species[j])];
        ws.spin[j] = s;
        if (r < radial_cutoff_) {
            double fc, dfc;
            cosine_cutoff(r, radial_cutoff_, fc, dfc);
            chebyshev(radial_order_, 2.0 * r / radial_cutoff_ - 1.0, t, dt);
            for (int a = 0; a <= radial_order_; ++a) {
                add(a, t[a] * fc, s);
                if (neighbour_gradients) add_gradient(j, a, s, u, dt[a] * 2.0 / radial_cutoff_ * fc + t[a] * dfc);
            }
        }
        ws.in_angular[j] = r < angular_cutoff_;
        cosine_cutoff(r, angular_cutoff_, ws.fa[j], ws.dfa[j]);
        if (mixed_ && ws.in_angular[j]) {
            chebyshev(mixed_radial_order_, 2.0 * r / angular_cutoff_ - 1.0, t, dt);
            for (int a = 0; a < NM; ++a) {
                ws.mixed_radial[j * NM + a] = t[a] * ws.fa[j];
                ws.mixed_radial_derivative[j * NM + a] = dt[a] * 2.0 / angular_cutoff_ * ws.fa[j] + t[a] * ws.dfa[j];
            }
        }
    }

    for (int64_t j = 0; j < n; ++j) {
        if (!ws.in_angular[j]) continue;
        const double rj = environment.distances[j];
        const double* dj = &environment.displacements[3 * j];
        const double uj[3] = {dj[0] / rj, dj[1] / rj, dj[2] / rj};
        for (int64_t k = j + 1; k < n; ++k) {
            if (!ws.in_angular[k]) continue;
            const double rk = environment.distances[k];
            const double* dk = &environment.displacements[3 * k];
            const double uk[3] = {dk[0] / rk, dk[1] / rk, dk[2] / rk};
            const double cosine = std::clamp(uj[0] * uk[0] + uj[1] * uk[1] + uj[2] * uk[2], -1.0, 1.0);
            chebyshev(angular_order_, cosine, t, dt);
            const double dcos_j[3] = {(uk[0] - cosine * uj[0]) / rj, (uk[1] - cosine * uj[1]) / rj, (uk[2] - cosine * uj[2]) / rj};
            const double dcos_k[3] = {(uj[0] - cosine * uk[0]) / rk, (uj[1] - cosine * uk[1]) / rk, (uj[2] - cosine * uk[2]) / rk};
            const double w = ws.fa[j] * ws.fa[k], spin = ws.spin[j] * ws.spin[k];
            for (int g = 0; g < NA; ++g) {
                const int64_t f = angular_offset_ + g;
                add(f, t[g] * w, spin);
                if (!neighbour_gradients) continue;
                add_gradient(j, f, spin, dcos_j, dt[g] * w);
                add_gradient(j, f, spin, uj, t[g] * ws.dfa[j] * ws.fa[k]);
                add_gradient(k, f, spin, dcos_k, dt[g] * w);
                add_gradient(k, f, spin, uk, t[g] * ws.fa[j] * ws.dfa[k]);
            }
            if (!mixed_) continue;
            const double* Rj = &ws.mixed_radial[j * NM];
            const double* Rk = &ws.mixed_radial[k * NM];
            const double* dRj = &ws.mixed_radial_derivative[j * NM];
            const double* dRk = &ws.mixed_radial_derivative[k * NM];
            for (std::size_t p = 0; p < mixed_pairs_.size(); ++p) {
                const auto [a, b] = mixed_pairs_[p];
                // Symmetrised over the two orders of (j, k) so that the pair sum is order-free.
                const double P = a == b ? Rj[a] * Rk[a] : Rj[a] * Rk[b] + Rk[a] * Rj[b];
                const double dPj = a == b ? dRj[a] * Rk[a] : dRj[a] * Rk[b] + Rk[a] * dRj[b];
                const double dPk = a == b ? Rj[a] * dRk[a] : Rj[a] * dRk[b] + dRk[a] * Rj[b];
                for (int g = 0; g < NA; ++g) {
                    const int64_t f = mixed_offset_ + static_cast<int64_t>(p) * NA + g;
                    add(f, P * t[g], spin);
                    if (!neighbour_gradients) continue;
                    add_gradient(j, f, spin, dcos_j, P * dt[g]);
                    add_gradient(j, f, spin, uj, dPj * t[g]);
                    add_gradient(k, f, spin, dcos_k, P * dt[g]);
                    add_gradient(k, f, spin, uk, dPk * t[g]);
                }
            }
        }
    }
}

}  // namespace atomfp
