// Sensitivity analysis through the public C API: one 3N x 3N spectrum of a 17-atom environment with
// SOAP n_max = l_max = 16, manifold-tracing steps around methane's carbon (per step, with and
// without the random-displacement reference), and the blind-spot index of every centre of 216-atom
// rattled diamond Si with SOAP n_max = 8, l_max = 6 and r_c = 4.7 Å (28 neighbours per centre).
#include "descriptor_throughput.hpp"

#include <cmath>
#include <random>

namespace {

using atomfp::bench::check;

const char* soap16 = R"({"type": "soap_power_spectrum", "species": [1, 6], "cutoff": 4.8,
                         "atomic_gaussian_width": 0.3, "max_radial": 16, "max_angular": 16})";

struct Cluster {
    std::vector<double> positions;
    std::vector<int32_t> species;
};

// A carbon and 16 neighbours (4 C, 12 H) at least 0.9 Å apart, all within 3.5 Å of the centre.
Cluster seventeen_atoms() {
    Cluster c{{0.0, 0.0, 0.0}, {6}};
    std::mt19937 generator(17);
    std::uniform_real_distribution<double> uniform(-2.0, 2.0);
    while (c.species.size() < 17) {
        const double p[3] = {uniform(generator), uniform(generator), uniform(generator)};
        bool ok = std::sqrt(p[0] * p[0] + p[1] * p[1] + p[2] * p[2]) < 3.5;
        for (std::size_t a = 0; ok && a < c.species.size(); ++a) {
            const double* q = c.positions.data() + 3 * a;
            ok = std::hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]) > 0.9;
        }
        if (!ok) continue;
        c.positions.insert(c.positions.end(), p, p + 3);
        c.species.push_back(c.species.size() <= 4 ? 6 : 1);
    }
    return c;
}

struct Prepared {
    atomfp_descriptor_t* descriptor = nullptr;
    atomfp_neighbours_t* list = nullptr;
    atomfp_system_t system{};
    Prepared(const Cluster& c, const char* spec) {
        check(atomfp_descriptor_create(spec, &descriptor));
        check(atomfp_neighbours_build(static_cast<int64_t>(c.species.size()), c.positions.data(), c.species.data(), nullptr,
                                      nullptr, 4.8, &list));
        check(atomfp_neighbours_system(list, &system));
    }
    ~Prepared() {
        atomfp_neighbours_free(list);
        atomfp_descriptor_free(descriptor);
    }
};

void sensitivity_spectrum_17_atoms(benchmark::State& state) {
    const Prepared p(seventeen_atoms(), soap16);
    int64_t n = 0;
    check(atomfp_sensitivity_size(p.descriptor, &p.system, 0, &n));
    std::vector<double> eigenvalues(3 * n), eigenvectors(9 * n * n);
    omp_set_num_threads(static_cast<int>(state.range(0)));
    for (auto _ : state) {
        check(atomfp_sensitivity_spectrum(p.descriptor, &p.system, 0, ATOMFP_SENSITIVITY_REMOVE_RIGID | ATOMFP_SENSITIVITY_SCALE_MAX,
                                          eigenvalues.data(), eigenvectors.data()));
        benchmark::DoNotOptimize(eigenvalues.data());
    }
    state.counters["env_atoms"] = static_cast<double>(n);
    state.counters["spectra/s"] = benchmark::Counter(1.0, benchmark::Counter::kIsIterationInvariantRate);
}

void manifold_steps_methane(benchmark::State& state) {
    const Cluster methane{{0.0, 0.0, 0.0, 0.496054, 0.743703, 0.705441, -0.653304, -0.562752, 0.662293, 0.590436, -0.552564,
                           -0.622454, -0.653474, 0.614110, -0.584179},
                          {6, 1, 1, 1, 1}};
    const Prepared p(methane, soap16);
    const int64_t steps = 10;
    const std::string options = R"({"steps": 10, "stop_at_loop": false, "random_samples": )" + std::to_string(state.range(1)) + "}";
    int64_t frames = 0;
    omp_set_num_threads(static_cast<int>(state.range(0)));
    for (auto _ : state) {
        check(atomfp_manifold_trace(p.descriptor, 0, nullptr, &p.system, 0, options.c_str(), steps + 1, &frames, nullptr,
                                    nullptr, nullptr, nullptr, nullptr, nullptr));
    }
    state.counters["steps/s"] = benchmark::Counter(static_cast<double>(steps), benchmark::Counter::kIsIterationInvariantRate);
}

// range(0): threads. Reported per centre.
void blind_spot_indices_silicon(benchmark::State& state) {
    const atomfp::test::DiamondCrystal crystal = atomfp::test::rattled_diamond(3, 5.431, 0.1, 42);
    const int64_t n = static_cast<int64_t>(crystal.species.size());
    atomfp_descriptor_t* descriptor = nullptr;
    check(atomfp_descriptor_create(R"({"type": "soap_power_spectrum", "species": [14], "cutoff": 4.7, "max_radial": 8, "max_angular": 6})",
                                   &descriptor));
    atomfp_neighbours_t* list = nullptr;
    check(atomfp_neighbours_build(n, crystal.positions.data(), crystal.species.data(), crystal.cell.data(), nullptr, 4.7, &list));
    atomfp_system_t system;
    check(atomfp_neighbours_system(list, &system));
    std::vector<double> index(n);
    omp_set_num_threads(static_cast<int>(state.range(0)));
    for (auto _ : state) {
        check(atomfp_blind_spot_indices(descriptor, &system, 1e-6, index.data(), nullptr));
        benchmark::DoNotOptimize(index.data());
    }
    state.counters["neighbours"] = static_cast<double>(system.offsets[1] - system.offsets[0]);
    state.counters["centres/s"] = benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate);
    atomfp_neighbours_free(list);
    atomfp_descriptor_free(descriptor);
}

}  // namespace

BENCHMARK(blind_spot_indices_silicon)->Apply(atomfp::bench::best_of_repetitions)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(sensitivity_spectrum_17_atoms)->Apply(atomfp::bench::best_of_repetitions)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(manifold_steps_methane)
    ->Apply(atomfp::bench::best_of_repetitions)
    ->Args({1, 0})
    ->Args({1, 20})
    ->Args({2, 20})
    ->UseRealTime();

BENCHMARK_MAIN();
