#include "models/repulsion.hpp"

#include "core/elements.hpp"
#include "core/error.hpp"

#include <algorithm>
#include <cmath>

namespace atomfp {

namespace {

constexpr double coulomb_constant = 14.399645;  // e^2 / (4 pi epsilon_0), eV Å
constexpr double screening_length = 0.46850;     // 0.8854 a_0, Å
// The universal screening function phi(x) = sum_k c_k exp(-d_k x).
constexpr double screening_c[4] = {0.18175, 0.50986, 0.28022, 0.02817};
constexpr double screening_d[4] = {3.19980, 0.94229, 0.40290, 0.20162};

std::pair<int32_t, int32_t> ordered(int32_t a, int32_t b) { return a < b ? std::make_pair(a, b) : std::make_pair(b, a); }

}  // namespace

void zbl_energy(int32_t zi, int32_t zj, double r, double& energy, double& derivative) {
    const double a = screening_length / (std::pow(zi, 0.23) + std::pow(zj, 0.23));
    const double prefactor = coulomb_constant * zi * zj;
    double phi = 0.0, dphi = 0.0;  // dphi = d phi / d r
    for (int k = 0; k < 4; ++k) {
        const double term = screening_c[k] * std::exp(-screening_d[k] * r / a);
        phi += term;
        dphi -= screening_d[k] / a * term;
    }
    energy = prefactor * phi / r;
    derivative = prefactor * (dphi / r - phi / (r * r));
}

CoreRepulsion::CoreRepulsion(const json& spec, double max_outer) : spec_(spec) {
    if (!spec.is_object()) fail(Status::json_error, "'repulsion' must be an object such as {\"type\": \"zbl\", \"inner\": 0.8, \"outer\": 1.4}");
    SpecReader r(spec, "repulsion");
    r.string("type", std::nullopt, {"zbl"});
    auto read_range = [max_outer](SpecReader& reader) {
        Range range;
        range.inner = reader.number("inner", std::nullopt, 0.0, 1e3, true);
        range.outer = reader.number("outer", std::nullopt, 0.0, 1e3, true);
        if (!(range.inner < range.outer)) {
            fail(Status::json_error, "key '", reader.key_name("inner"), "' = ", range.inner, " must be below 'outer' = ", range.outer);
        }
        if (range.outer > max_outer) {
            fail(Status::json_error, "key '", reader.key_name("outer"), "' = ", range.outer, " exceeds the descriptor's cutoff ",
                 max_outer, " Å");
        }
        return range;
    };
    global_ = read_range(r);
    if (r.has("pairs")) {
        r.element_pairs("pairs", [&](int32_t za, int32_t zb, SpecReader& entry) { pairs_.emplace(std::make_pair(za, zb), read_range(entry)); });
    }
    r.finish();
}

double CoreRepulsion::max_outer() const {
    double out = global_.outer;
    for (const auto& [key, range] : pairs_) out = std::max(out, range.outer);
    return out;
}

const CoreRepulsion::Range& CoreRepulsion::range_of(int32_t zi, int32_t zj) const {
    const auto it = pairs_.find(ordered(zi, zj));
    return it == pairs_.end() ? global_ : it->second;
}

void CoreRepulsion::pair(int32_t zi, int32_t zj, double r, double& energy, double& derivative) const {
    const Range& range = range_of(zi, zj);
    energy = derivative = 0.0;
    if (r >= range.outer) return;
    double e, de;
    zbl_energy(zi, zj, r, e, de);
    if (r <= range.inner) {
        energy = e, derivative = de;
        return;
    }
    // s(t) = 1 - 10 t^3 + 15 t^4 - 6 t^5: 1 at t = 0, 0 at t = 1, first and second derivatives zero at both.
    const double width = range.outer - range.inner, t = (r - range.inner) / width;
    const double s = 1.0 - t * t * t * (10.0 - t * (15.0 - 6.0 * t));
    const double ds = -30.0 * t * t * (1.0 - t) * (1.0 - t) / width;
    energy = e * s;
    derivative = de * s + e * ds;
}

void CoreRepulsion::add(const SystemView& system, double* local, double* contracted) const {
    const double reach = max_outer();
    for (int64_t c = 0; c < system.n_centers; ++c) {
        const int32_t zi = system.species[system.centers[c]];
        double* centre = contracted ? contracted + 3 * (c + system.offsets[c]) : nullptr;
        for (int64_t q = system.offsets[c]; q < system.offsets[c + 1]; ++q) {
            double d[3];
            pair_vector(system, c, q, d);
            const double r2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
            if (r2 >= reach * reach) continue;
            const double r = std::sqrt(r2);
            if (r < coincidence_distance) {
                fail(Status::invalid_argument, "atoms ", system.centers[c], " and ", system.neighbours[q], " (list entry ", q,
                     ") coincide: distance ", r, " Å is below ", coincidence_distance, " Å");
            }
            double e, de;
            pair(zi, system.species[system.neighbours[q]], r, e, de);
            // Each pair is listed from both of its atoms: each centre takes half of it.
            local[c] += 0.5 * e;
            if (!centre) continue;
            double* neighbour = centre + 3 * (1 + q - system.offsets[c]);
            for (int k = 0; k < 3; ++k) {
                const double g = 0.5 * de * d[k] / r;  // d(e/2)/dx_j; the centre's own block gets minus it
                neighbour[k] += g;
                centre[k] -= g;
            }
        }
    }
}

}  // namespace atomfp
