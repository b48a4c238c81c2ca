// Throughput of the SOAP family on rattled diamond Si, 1000 atoms, periodic, r_c = 5 Å,
// sigma = 0.5 Å, GTO splined: power spectrum n_max = 8, l_max = 6 (252 features) and bispectrum
// n_max = 6, l_max = 4, with and without gradients, 1 and 2 threads. Reported as centres/s.
//
//   atomfp_bench_soap --benchmark_counters_tabular=true
#include "descriptor_throughput.hpp"

namespace {

const char* power_spectrum = R"({"type": "soap_power_spectrum", "species": [14], "cutoff": 5.0, "cutoff_width": 0.5,
    "atomic_gaussian_width": 0.5, "max_radial": 8, "max_angular": 6, "radial_basis": "gto"})";
const char* bispectrum = R"({"type": "soap_bispectrum", "species": [14], "cutoff": 5.0, "cutoff_width": 0.5,
    "atomic_gaussian_width": 0.5, "max_radial": 6, "max_angular": 4, "radial_basis": "gto"})";
const char* expansion = R"({"type": "spherical_expansion", "species": [14], "cutoff": 5.0, "cutoff_width": 0.5,
    "atomic_gaussian_width": 0.5, "max_radial": 8, "max_angular": 6, "radial_basis": "gto"})";

// range(0): threads; range(1): gradients.
void soap_power_spectrum_silicon(benchmark::State& state) {
    atomfp::bench::descriptor_throughput(state, power_spectrum, 5, static_cast<int>(state.range(0)), state.range(1) != 0);
}
void soap_bispectrum_silicon(benchmark::State& state) {
    atomfp::bench::descriptor_throughput(state, bispectrum, 5, static_cast<int>(state.range(0)), state.range(1) != 0);
}
void spherical_expansion_silicon(benchmark::State& state) {
    atomfp::bench::descriptor_throughput(state, expansion, 5, static_cast<int>(state.range(0)), state.range(1) != 0);
}

}  // namespace

BENCHMARK(soap_power_spectrum_silicon)
    ->Apply(atomfp::bench::best_of_repetitions)
    ->ArgNames({"threads", "gradients"})
    ->ArgsProduct({{1, 2}, {0, 1}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(soap_bispectrum_silicon)
    ->Apply(atomfp::bench::best_of_repetitions)
    ->ArgNames({"threads", "gradients"})
    ->ArgsProduct({{1, 2}, {0, 1}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(spherical_expansion_silicon)
    ->Apply(atomfp::bench::best_of_repetitions)
    ->ArgNames({"threads", "gradients"})
    ->ArgsProduct({{1}, {0, 1}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

BENCHMARK_MAIN();
