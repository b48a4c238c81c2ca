// Langevin molecular dynamics driven by a kernel model, in metal units (Å, eV, fs, amu, K): the
// exploration that active learning needs (atomfp learn), not a production MD engine. The
// integrator is BAOAB (Leimkuhler & Matthews 2013): half kick, half drift, the exact
// Ornstein-Uhlenbeck update of the velocities, half drift, half kick; with zero friction it is
// velocity Verlet. The target temperature ramps linearly over the run; the cell is fixed.
#pragma once

#include "io/frame.hpp"
#include "models/model.hpp"

#include <cstdint>
#include <functional>
#include <string>

namespace atomfp {

struct LangevinSettings {
    double timestep = 1.0;                                     // fs
    double temperature_start = 300.0, temperature_end = 300.0;  // K, linear in the step
    double friction = 0.01;                                    // 1/fs; 0: constant energy
    int64_t steps = 1000;
    double min_distance = 0.5;  // Å: two atoms closer than this end the run as exploded
    uint64_t seed = 1;          // initial velocities and the thermostat's noise
};

// How a run ended: the steps completed, and whether (and why) it stopped early.
struct LangevinReport {
    int64_t steps = 0;
    bool exploded = false;
    std::string reason;
};

// Called after every completed step with the frame (positions wrapped into the cell along its
// periodic directions), the potential energy (eV) and the instantaneous temperature (K: the kinetic
// energy over 3N/2 k_B with a thermostat, over 3(N - 1)/2 k_B at constant energy, where the centre
// of mass stays at rest); returning false stops the run.
using LangevinVisit = std::function<bool(int64_t step, const Frame& frame, double energy, double temperature)>;

// Runs from `frame` with velocities drawn from Maxwell-Boltzmann at temperature_start (no centre of
// mass motion). A non-finite energy or force, or two atoms closer than min_distance, ends the run
// with exploded = true before the offending step is reported. Throws Error(invalid_argument) for
// settings out of range or a species without a known mass.
LangevinReport run_langevin(const Model& model, Frame frame, const LangevinSettings& settings, const LangevinVisit& visit);

// The shortest interatomic distance of a frame within `reach` (Å), or +infinity if no pair is that close.
double shortest_distance(const Frame& frame, double reach);

}  // namespace atomfp
