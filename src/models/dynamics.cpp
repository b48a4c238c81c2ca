#include "models/dynamics.hpp"

#include "core/elements.hpp"
#include "core/error.hpp"

#include <cmath>
#include <limits>
#include <random>

namespace atomfp {

namespace {

// eV / (amu Å) in Å / fs², and the Boltzmann constant in eV / K.
constexpr double acceleration_unit = 9.648533212e-3;
constexpr double boltzmann = 8.617333262e-5;

void wrap_into_cell(Frame& frame) {
    if (!frame.cell) return;
    const Mat3& cell = *frame.cell;
    const Mat3 inverse_cell = inverse(cell);
    for (int64_t a = 0; a < frame.size(); ++a) {
        double* x = frame.positions.data() + 3 * a;
        double fractional[3];
        for (int j = 0; j < 3; ++j) fractional[j] = x[0] * inverse_cell[0 * 3 + j] + x[1] * inverse_cell[1 * 3 + j] + x[2] * inverse_cell[2 * 3 + j];
        for (int j = 0; j < 3; ++j)
            if (frame.pbc[j]) fractional[j] -= std::floor(fractional[j]);
        for (int k = 0; k < 3; ++k) x[k] = fractional[0] * cell[0 * 3 + k] + fractional[1] * cell[1 * 3 + k] + fractional[2] * cell[2 * 3 + k];
    }
}

}  // namespace

double shortest_distance(const Frame& frame, double reach) {
    const NeighbourList list = neighbours_of(frame, reach);
    const SystemView view = list.view();
    double shortest = std::numeric_limits<double>::infinity();
    for (int64_t c = 0; c < view.n_centers; ++c) {
        for (int64_t q = view.offsets[c]; q < view.offsets[c + 1]; ++q) {
            double r[3];
            pair_vector(view, c, q, r);
            shortest = std::min(shortest, std::sqrt(r[0] * r[0] + r[1] * r[1] + r[2] * r[2]));
        }
    }
    return shortest;
}

LangevinReport run_langevin(const Model& model, Frame frame, const LangevinSettings& s, const LangevinVisit& visit) {
    if (!(s.timestep > 0) || !std::isfinite(s.timestep)) fail(Status::invalid_argument, "the MD timestep must be positive");
    if (!(s.temperature_start >= 0) || !(s.temperature_end >= 0) || !std::isfinite(s.temperature_start) ||
        !std::isfinite(s.temperature_end)) {
        fail(Status::invalid_argument, "MD temperatures must be finite and >= 0 K");
    }
    if (!(s.friction >= 0) || !std::isfinite(s.friction)) fail(Status::invalid_argument, "the Langevin friction must be >= 0");
    if (s.steps < 0) fail(Status::invalid_argument, "the number of MD steps must be >= 0");
    if (!(s.min_distance >= 0)) fail(Status::invalid_argument, "min_distance must be >= 0");
    const int64_t n = frame.size();
    std::vector<double> mass(n);
    for (int64_t a = 0; a < n; ++a) {
        mass[a] = atomic_mass(frame.species[a]);
        if (!(mass[a] > 0)) fail(Status::invalid_argument, "atom ", a, " has species ", frame.species[a], " without a known mass");
    }
    std::mt19937_64 generator(s.seed);
    std::normal_distribution<double> normal(0.0, 1.0);
    // Velocities in Å/fs: sqrt(kT/m) per component, then the centre of mass at rest.
    std::vector<double> v(3 * n);
    double momentum[3] = {0, 0, 0}, total_mass = 0;
    for (int64_t a = 0; a < n; ++a) {
        const double width = std::sqrt(boltzmann * s.temperature_start / mass[a] * acceleration_unit);
        for (int k = 0; k < 3; ++k) {
            v[3 * a + k] = width * normal(generator);
            momentum[k] += mass[a] * v[3 * a + k];
        }
        total_mass += mass[a];
    }
    for (int64_t a = 0; a < n; ++a)
        for (int k = 0; k < 3; ++k) v[3 * a + k] -= momentum[k] / total_mass;

    std::vector<double> forces(3 * n);
    double energy = 0;
    LangevinReport report;
    // Computes forces and energy at the current positions; false (with the reason) when the
    // configuration has left what a model can be trusted with.
    auto evaluate = [&]() {
        if (s.min_distance > 0) {
            const double shortest = shortest_distance(frame, s.min_distance);
            if (shortest < s.min_distance) {
                report.reason = "two atoms came within " + std::to_string(shortest) + " Å";
                return false;
            }
        }
        const NeighbourList list = neighbours_of(frame, model.cutoff());
        model.predict(list.view(), &energy, nullptr, forces.data(), nullptr);
        bool finite = std::isfinite(energy);
        for (double f : forces) finite = finite && std::isfinite(f);
        if (!finite) report.reason = "the energy or a force is not finite";
        return finite;
    };
    if (!evaluate()) {
        report.exploded = true;
        return report;
    }
    // The thermostat's noise moves the centre of mass too; without it, the centre stays at rest.
    const int64_t degrees_of_freedom = std::max<int64_t>(1, s.friction > 0 ? 3 * n : 3 * (n - 1));
    const double dt = s.timestep;
    const double decay = std::exp(-s.friction * dt);
    const double noise = std::sqrt(std::max(0.0, 1.0 - decay * decay));
    for (int64_t step = 1; step <= s.steps; ++step) {
        const double fraction = s.steps > 1 ? static_cast<double>(step - 1) / static_cast<double>(s.steps - 1) : 0.0;
        const double target = s.temperature_start + fraction * (s.temperature_end - s.temperature_start);
        for (int64_t a = 0; a < n; ++a) {
            const double kick = 0.5 * dt * acceleration_unit / mass[a];
            const double width = std::sqrt(boltzmann * target / mass[a] * acceleration_unit);
            for (int k = 0; k < 3; ++k) {
                double& velocity = v[3 * a + k];
                double& x = frame.positions[3 * a + k];
                velocity += kick * forces[3 * a + k];  // B
                x += 0.5 * dt * velocity;               // A
                if (s.friction > 0) velocity = decay * velocity + noise * width * normal(generator);  // O
                x += 0.5 * dt * velocity;               // A
            }
        }
        wrap_into_cell(frame);
        if (!evaluate()) {
            report.exploded = true;
            return report;
        }
        double kinetic = 0;
        for (int64_t a = 0; a < n; ++a) {
            const double kick = 0.5 * dt * acceleration_unit / mass[a];
            for (int k = 0; k < 3; ++k) {
                v[3 * a + k] += kick * forces[3 * a + k];  // B
                kinetic += 0.5 * mass[a] * v[3 * a + k] * v[3 * a + k] / acceleration_unit;
            }
        }
        report.steps = step;
        const double temperature = 2.0 * kinetic / (static_cast<double>(degrees_of_freedom) * boltzmann);
        if (!visit(step, frame, energy, temperature)) break;
    }
    return report;
}

}  // namespace atomfp
