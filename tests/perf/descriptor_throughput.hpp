// One benchmark body for every descriptor: compute a spec on rattled diamond Si through the public
// C API and report centres/s (and the mean number of listed neighbours).
#pragma once

#include "atomfp.h"
#include "support/diamond.hpp"

#include <benchmark/benchmark.h>
#ifdef _OPENMP
#include <omp.h>
#else
inline void omp_set_num_threads(int) {}
#endif

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

namespace atomfp::bench {

// Every report names the kernels that ran: atomfp's SIMD copy and OpenBLAS's core type.
inline const bool kernels_recorded = [] {
    benchmark::AddCustomContext("atomfp_simd_kernels", atomfp_simd_kernels());
    const char* core = std::getenv("OPENBLAS_CORETYPE");
    benchmark::AddCustomContext("OPENBLAS_CORETYPE", core ? core : "unset (OpenBLAS detects the CPU)");
    return true;
}();

inline void check(atomfp_status_t status) {
    if (status != ATOMFP_OK) throw std::runtime_error(atomfp_last_error());
}

// cells: supercell repeats of the 8-atom cube (5 -> 1000 atoms).
inline void descriptor_throughput(benchmark::State& state, const std::string& spec, int cells, int threads,
                                  bool with_gradients) {
    const test::DiamondCrystal crystal = test::rattled_diamond(cells, 5.431, 0.1, 42);
    const int64_t n_atoms = static_cast<int64_t>(crystal.species.size());
    atomfp_descriptor_t* d = nullptr;
    check(atomfp_descriptor_create(spec.c_str(), &d));
    double cutoff = 0.0;
    check(atomfp_descriptor_cutoff(d, &cutoff));
    atomfp_neighbours_t* list = nullptr;
    check(atomfp_neighbours_build(n_atoms, crystal.positions.data(), crystal.species.data(), crystal.cell.data(), nullptr,
                                  cutoff, &list));
    atomfp_system_t system;
    check(atomfp_neighbours_system(list, &system));
    int64_t nf = 0;
    check(atomfp_descriptor_feature_count(d, &nf));
    std::vector<double> features(n_atoms * nf);
    std::vector<double> gradients(with_gradients ? (n_atoms + system.offsets[n_atoms]) * 3 * nf : 0);
    omp_set_num_threads(threads);
    for (auto _ : state) {
        check(atomfp_descriptor_compute(d, &system, features.data(), with_gradients ? gradients.data() : nullptr));
        benchmark::DoNotOptimize(features.data());
    }
    state.counters["centres/s"] = benchmark::Counter(static_cast<double>(n_atoms), benchmark::Counter::kIsIterationInvariantRate);
    state.counters["neighbours"] = static_cast<double>(system.offsets[n_atoms]) / static_cast<double>(n_atoms);
    state.counters["features"] = static_cast<double>(nf);
    atomfp_neighbours_free(list);
    atomfp_descriptor_free(d);
}

// Shared machines disturb single runs by tens of percent; many short repetitions and their best
// value ("_max" rows: read the centres/s column, the largest of the repetitions) estimate the undisturbed speed.
inline void best_of_repetitions(benchmark::internal::Benchmark* b) {
    b->Repetitions(12)
        ->MinTime(0.05)
        ->ReportAggregatesOnly(true)
        ->ComputeStatistics("max", [](const std::vector<double>& v) {
            // Rates (centres/s) are best when largest; times are reported per iteration, so the
            // caller reads the centres/s column of this row.
            return *std::max_element(v.begin(), v.end());
        });
}

}  // namespace atomfp::bench
