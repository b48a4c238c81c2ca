// Langevin dynamics with a kernel model: velocity Verlet conserves the energy with second-order
// accuracy, the thermostat reaches its target temperature, atoms stay in the cell, and a collapse
// stops the run with a reason.
#include "core/error.hpp"
#include "io/frame.hpp"
#include "models/dynamics.hpp"
#include "models/model_file.hpp"
#include "structures.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

using namespace atomfp;
using namespace atomfp::test;

namespace {

// The Stillinger-Weber Si model (a format version 1 file: forces and energies are all MD needs).
const Model& silicon_model() {
    static const Model model = load_model(std::string(ATOMFP_TEST_DATA) + "/si_sw_soap_v1.afp");
    return model;
}

Frame silicon_frame(uint32_t seed) {
    return frame_of(diamond(1, 5.431, 0.05, seed));  // 8 atoms, their images inside the cutoff
}

// max - min of the total energy over a constant-energy run of `duration` fs.
double energy_spread(double timestep, double duration) {
    LangevinSettings s;
    s.timestep = timestep;
    s.temperature_start = s.temperature_end = 600.0;
    s.friction = 0.0;
    s.steps = static_cast<int64_t>(std::lround(duration / timestep));
    double lo = INFINITY, hi = -INFINITY;
    const Frame start = silicon_frame(3);
    const double dof = 3.0 * static_cast<double>(start.size() - 1);
    run_langevin(silicon_model(), start, s, [&](int64_t, const Frame&, double energy, double temperature) {
        const double total = energy + 0.5 * dof * 8.617333262e-5 * temperature;
        lo = std::min(lo, total);
        hi = std::max(hi, total);
        return true;
    });
    return hi - lo;
}

}  // namespace

TEST(Dynamics, VelocityVerletConservesEnergyToSecondOrder) {
    const double coarse = energy_spread(2.0, 100.0), fine = energy_spread(1.0, 100.0);
    EXPECT_LT(fine / 8, 2e-4) << "eV/atom";
    // Halving the step divides the energy error by about four.
    EXPECT_GT(coarse / fine, 2.5);
    EXPECT_LT(coarse / fine, 6.0);
}

TEST(Dynamics, ThermostatReachesItsTargetAndAtomsStayInTheCell) {
    LangevinSettings s;
    s.timestep = 2.0;
    s.temperature_start = s.temperature_end = 500.0;
    s.friction = 0.1;
    s.steps = 1500;
    double sum = 0;
    int64_t count = 0;
    bool inside = true;
    const LangevinReport report = run_langevin(silicon_model(), silicon_frame(4), s, [&](int64_t step, const Frame& f, double, double t) {
        if (step > 100) sum += t, ++count;
        const Mat3 inverse_cell = inverse(*f.cell);
        for (int64_t a = 0; a < f.size(); ++a)
            for (int j = 0; j < 3; ++j) {
                const double* x = f.positions.data() + 3 * a;
                const double u = x[0] * inverse_cell[j] + x[1] * inverse_cell[3 + j] + x[2] * inverse_cell[6 + j];
                inside = inside && u >= -1e-12 && u < 1.0 + 1e-12;
            }
        return true;
    });
    EXPECT_EQ(report.steps, 1500);
    EXPECT_FALSE(report.exploded);
    EXPECT_NEAR(sum / static_cast<double>(count), 500.0, 50.0);
    EXPECT_TRUE(inside);
}

TEST(Dynamics, RampFollowsTheTargetAndAVisitCanStopTheRun) {
    LangevinSettings s;
    s.timestep = 2.0;
    s.temperature_start = 100.0;
    s.temperature_end = 1500.0;
    s.friction = 0.1;
    s.steps = 400;
    double early = 0, late = 0;
    run_langevin(silicon_model(), silicon_frame(5), s, [&](int64_t step, const Frame&, double, double t) {
        if (step > 50 && step <= 100) early += t / 50;
        if (step > 350) late += t / 50;
        return true;
    });
    EXPECT_LT(early, 600.0);
    EXPECT_GT(late, 1000.0);
    int64_t visited = 0;
    const LangevinReport stopped = run_langevin(silicon_model(), silicon_frame(5), s, [&](int64_t step, const Frame&, double, double) {
        visited = step;
        return step < 7;
    });
    EXPECT_EQ(visited, 7);
    EXPECT_EQ(stopped.steps, 7);
    EXPECT_FALSE(stopped.exploded);
}

TEST(Dynamics, CollapseStopsTheRunWithAReason) {
    Frame f = silicon_frame(6);
    for (int k = 0; k < 3; ++k) f.positions[3 + k] = f.positions[k] + 0.2;  // 0.35 Å apart
    LangevinSettings s;
    s.steps = 10;
    bool visited = false;
    const LangevinReport report = run_langevin(silicon_model(), f, s, [&](int64_t, const Frame&, double, double) { return visited = true; });
    EXPECT_TRUE(report.exploded);
    EXPECT_FALSE(visited);
    EXPECT_NE(report.reason.find("within"), std::string::npos) << report.reason;
    EXPECT_NEAR(shortest_distance(f, 1.0), std::sqrt(3.0) * 0.2, 1e-12);
    s.timestep = 0.0;
    EXPECT_THROW(run_langevin(silicon_model(), silicon_frame(6), s, [](int64_t, const Frame&, double, double) { return true; }), Error);
    Frame unknown = silicon_frame(6);
    unknown.species[0] = 200;
    s.timestep = 1.0;
    EXPECT_THROW(run_langevin(silicon_model(), unknown, s, [](int64_t, const Frame&, double, double) { return true; }), Error);
}
