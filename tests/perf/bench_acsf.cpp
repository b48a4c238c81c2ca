// Throughput of ACSF features and features + gradients on rattled diamond Si (r_c = 6 Å, the
// default 10 radial + 48 angular set), through the public C API. Reported as centres/s. The same
// 48 angular functions in the narrow form (G3, with the r_jk factor, as n2p2 and DScribe define
// them) are measured next to the wide form (G9), alternately.
//
//   atomfp_bench_acsf --benchmark_counters_tabular=true
#include "descriptor_throughput.hpp"

namespace {

using atomfp::bench::check;

// range(0): supercell repeats (3 -> 216 atoms, 5 -> 1000); range(1): threads; range(2): gradients.
void acsf_silicon(benchmark::State& state) {
    atomfp::bench::descriptor_throughput(state, R"({"type": "acsf", "species": [14], "cutoff": 6.0})",
                                         static_cast<int>(state.range(0)), static_cast<int>(state.range(1)),
                                         state.range(2) != 0);
}

// range(0): 0 wide, 1 narrow angular form; range(1): gradients. 1000 atoms, one thread.
void acsf_angular_form(benchmark::State& state) {
    const std::string form = state.range(0) ? "narrow" : "wide";
    atomfp::bench::descriptor_throughput(
        state, R"({"type": "acsf", "species": [14], "cutoff": 6.0, "preset_angular_form": ")" + form + R"("})", 5, 1,
        state.range(1) != 0);
}

void neighbour_list_silicon(benchmark::State& state) {
    const atomfp::test::DiamondCrystal crystal = atomfp::test::rattled_diamond(static_cast<int>(state.range(0)), 5.431, 0.1, 42);
    const int64_t n_atoms = static_cast<int64_t>(crystal.species.size());
    omp_set_num_threads(1);
    for (auto _ : state) {
        atomfp_neighbours_t* list = nullptr;
        check(atomfp_neighbours_build(n_atoms, crystal.positions.data(), crystal.species.data(), crystal.cell.data(),
                                      nullptr, 6.0, &list));
        atomfp_neighbours_free(list);
    }
    state.counters["atoms/s"] = benchmark::Counter(static_cast<double>(n_atoms), benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

BENCHMARK(acsf_silicon)
    ->Apply(atomfp::bench::best_of_repetitions)
    ->ArgNames({"cells", "threads", "gradients"})
    ->ArgsProduct({{3, 5}, {1, 2}, {0, 1}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(acsf_angular_form)
    ->Apply(atomfp::bench::best_of_repetitions)
    ->ArgNames({"narrow", "gradients"})
    ->ArgsProduct({{0, 1}, {0, 1}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(neighbour_list_silicon)->ArgNames({"cells"})->Args({3})->Args({5})->Args({10})->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
