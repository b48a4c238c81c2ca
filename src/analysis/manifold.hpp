// Manifolds of quasi-constant fingerprint (Parsaeifard & Goedecker 2022): starting from one
// centre's environment, follow the softest non-rigid eigenvector of the sensitivity matrix with a
// second-order predictor–corrector step, and measure how far the environment moved (modulo rigid
// motion and relabelling of like atoms) against how far its fingerprints moved, for the traced
// descriptor, for probe descriptors, and for random displacements of the same amplitude.
#pragma once

#include "analysis/sensitivity.hpp"
#include "descriptors/descriptor.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace atomfp {

struct ManifoldOptions {
    int64_t steps = 400;            // at most this many steps (frames = steps + 1)
    double step = 0.002;            // initial largest single-atom move per step, Å
    double min_step = 1e-5;         // step control never goes below this, Å
    double max_step = 0.01;         // ... nor above this, Å
    double tolerance = 0.01;        // accepted local error, relative to the stiffest response (see .cpp)
    int64_t mode = 0;               // follow the (mode + 1)-th softest non-rigid eigenvector
    bool scale_max = true;          // report eigenvalues divided by the largest
    bool stop_at_loop = true;       // stop when the path returns to the start
    double loop_tolerance = 0.01;   // ... i.e. D <= this after D once exceeded 3x this, Å
    int64_t random_samples = 20;    // random displacements per frame for the reference curve
    uint64_t seed = 1;              // of the random displacement directions
    bool permutations = true;       // D is measured modulo relabelling of like neighbours
    bool corrector = true;          // false: plain Euler steps of fixed length, for comparison only

    // Reads a JSON object whose keys are the member names; unknown keys are errors. "" or "{}"
    // keeps every default.
    static ManifoldOptions parse(const std::string& json_text);
};

struct ManifoldTrace {
    int64_t n_atoms = 0;                    // N, the environment's atoms (centre first)
    int64_t n_descriptors = 0;              // 1 + number of probes
    int64_t n_rigid = 0;
    bool closed = false;                    // the path returned to the start
    std::vector<int32_t> species;           // [N]
    std::vector<double> positions;          // [n_frames][N][3], the centre starts at the origin
    std::vector<double> eigenvalues;        // [n_frames][3N], rigid modes first as exact zeros
    std::vector<double> displacement;       // [n_frames] D: largest atomic deviation from frame 0 after
                                            //   superposition, least over relabellings of like neighbours, Å
    std::vector<double> distances;          // [n_frames][n_descriptors] |F_k - F_0|
    std::vector<double> random_distances;   // [n_frames][n_descriptors] mean |F(x_0 + r) - F_0| over
                                            //   random rigid-free r with largest atomic move D_k
    std::vector<double> step_sizes;         // [n_frames] largest atomic move of the step into the frame

    int64_t n_frames() const { return static_cast<int64_t>(displacement.size()); }
};

// What a three-body descriptor of one centre is built from: the distances r_j of the neighbours to
// the centre and the angles θ_jk they make at it (j < k), with the first moments of both
// distributions. Along a three-body descriptor's manifold single bonds and angles change while these
// moments stay nearly fixed.
struct EnvironmentGeometry {
    std::vector<double> distances;  // [N-1] r_j, Å
    std::vector<double> cosines;    // [(N-1)(N-2)/2] cos θ_jk, j < k
    double mean_distance = 0, mean_squared_distance = 0, mean_cosine = 0, mean_squared_cosine = 0;
};

// The geometry of an environment of `n_atoms` atoms, centre first (positions [n_atoms][3]).
EnvironmentGeometry environment_geometry(int64_t n_atoms, const double* positions);

// Traces from the environment of `center` (the traced descriptor's cutoff defines it; the probes
// see the same atoms). Throws Error for bad options, a centre out of range or an environment
// without non-rigid modes.
ManifoldTrace trace_manifold(const Descriptor& traced, const std::vector<const Descriptor*>& probes,
                             const SystemView& system, int64_t center, const ManifoldOptions& options);

}  // namespace atomfp
