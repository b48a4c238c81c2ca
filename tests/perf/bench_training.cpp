// Time per stage of a sparse-GPR fit (TrainingSummary::stages) on the Erhart–Albe Tersoff SiC
// training set (tests/data/sic_tersoff_train.extxyz, 240 structures, 27,166 atoms): SOAP power
// spectrum n_max = 8, l_max = 6, r_c = 4.5 Å (952 features), polynomial kernel zeta = 4, 1000
// references per species, energies, forces and virials. range(0) takes every k-th structure
// (6: 40 structures, 1: all 240); each stage's CPU seconds is a counter.
//
//   atomfp_bench_training --benchmark_counters_tabular=true                 (40 structures)
//   atomfp_bench_training --benchmark_filter='every:1/' --benchmark_counters_tabular=true
#include "core/json_spec.hpp"
#include "io/extxyz.hpp"
#include "models/trainer.hpp"

#include <benchmark/benchmark.h>
#ifdef _OPENMP
#include <omp.h>
#else
inline void omp_set_num_threads(int) {}
#endif

#include <chrono>
#include <ctime>

namespace {

const char* configuration = R"({"descriptor": {"type": "soap_power_spectrum", "species": [6, 14], "cutoff": 4.5,
    "atomic_gaussian_width": 0.5, "max_radial": 8, "max_angular": 6}, "kernel": {"type": "polynomial", "zeta": 4},
    "sparse_per_species": 1000, "sigma_energy": 0.002, "sigma_forces": 0.05, "sigma_virial": 0.01, "use_virials": true})";

// range(0): every k-th structure; range(1): threads.
void fit_sic(benchmark::State& state) {
    static const std::vector<atomfp::Frame> all = atomfp::read_extxyz(ATOMFP_SIC_TRAINING_SET);
    std::vector<atomfp::Frame> frames;
    for (std::size_t a = 0; a < all.size(); a += static_cast<std::size_t>(state.range(0))) frames.push_back(all[a]);
    const atomfp::TrainingSettings settings = atomfp::TrainingSettings::parse(atomfp::parse_json(configuration));
    omp_set_num_threads(static_cast<int>(state.range(1)));
    atomfp::TrainingSummary summary;
    double cpu = 0.0;
    for (auto _ : state) {
        const std::clock_t start = std::clock();
        const atomfp::Model model = atomfp::train(frames, settings, &summary);
        cpu += static_cast<double>(std::clock() - start) / CLOCKS_PER_SEC;
        benchmark::DoNotOptimize(&model);
    }
    state.counters["structures"] = static_cast<double>(frames.size());
    state.counters["force rows"] = static_cast<double>(summary.n_force_rows);
    state.counters["CPU s"] = cpu / static_cast<double>(state.iterations());
    for (const atomfp::TrainingSummary::Stage& stage : summary.stages) state.counters[stage.name + " CPU s"] = stage.cpu_seconds;
}

}  // namespace

BENCHMARK(fit_sic)
    ->ArgNames({"every", "threads"})
    ->Args({6, 1})
    ->Args({6, 2})
    ->Args({1, 1})
    ->Iterations(1)
    ->Unit(benchmark::kSecond)
    ->UseRealTime();

BENCHMARK_MAIN();
