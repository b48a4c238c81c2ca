// Prediction speed of a kernel model through the C API: energy, forces and virial of 1000-atom
// rattled diamond Si with a SOAP power-spectrum model (n_max = 8, l_max = 6, r_c = 5 Å, 252
// features), 2000 reference environments, polynomial kernel zeta = 4. The weights are random: the
// cost does not depend on their values. Reported as atoms/s. predict_by_size compares the energy
// alone with energy + forces + virial from 512 to 32,768 atoms, one thread, with the process's
// peak resident memory (run one size per process to read it: --benchmark_filter='by_size/cells:16/').
// predict_with_variance: energy + forces with and without the posterior variances, M = 1000.
//
//   atomfp_bench_model --benchmark_counters_tabular=true
#include "descriptor_throughput.hpp"
#include "core/neighbour_list.hpp"
#include "descriptors/factory.hpp"
#include "models/model_file.hpp"

#include <cstdio>
#include <sys/resource.h>
#include <random>

namespace {

using atomfp::bench::check;

const char* power_spectrum = R"({"type": "soap_power_spectrum", "species": [14], "cutoff": 5.0, "cutoff_width": 0.5,
    "atomic_gaussian_width": 0.5, "max_radial": 8, "max_angular": 6, "radial_basis": "gto"})";

// Reference environments of rattled crystals, saved and loaded through the C API; with_covariance
// adds a posterior covariance of well-conditioned random triangles (its cost does not depend on
// their values).
atomfp_model_t* silicon_model(int64_t n_references, bool with_covariance = false) {
    auto d = atomfp::create_descriptor(power_spectrum);
    const int64_t nf = d->feature_count();
    atomfp::SpeciesWeights block;
    block.species = 14;
    block.baseline = -4.0;
    std::mt19937 generator(5);
    std::normal_distribution<double> normal(0.0, 0.01);
    for (uint32_t seed = 1; static_cast<int64_t>(block.weights.size()) < n_references; ++seed) {
        const atomfp::test::DiamondCrystal c = atomfp::test::rattled_diamond(3, 5.431, 0.2, seed);
        const int64_t n = static_cast<int64_t>(c.species.size());
        const atomfp::NeighbourList list = atomfp::build_neighbour_list(n, c.positions.data(), c.species.data(), c.cell.data(), nullptr, 5.0);
        std::vector<double> features(n * nf);
        atomfp::compute(*d, list.view(), features.data(), nullptr);
        for (int64_t i = 0; i < n && static_cast<int64_t>(block.weights.size()) < n_references; ++i) {
            block.references.insert(block.references.end(), features.begin() + i * nf, features.begin() + (i + 1) * nf);
            block.weights.push_back(normal(generator));
        }
    }
    atomfp::Model model(atomfp::parse_json(power_spectrum),
                        atomfp::Kernel::from_json(atomfp::parse_json(R"({"type": "polynomial", "zeta": 4})")), {block});
    if (with_covariance) {
        std::uniform_real_distribution<double> uniform(-0.01, 0.01);
        const int64_t m = n_references;
        std::vector<double> lower(m * m, 0.0), upper(m * m, 0.0);
        for (int64_t i = 0; i < m; ++i) {
            for (int64_t j = 0; j < i; ++j) lower[i * m + j] = uniform(generator);
            for (int64_t j = i + 1; j < m; ++j) upper[i * m + j] = uniform(generator);
            lower[i * m + i] = upper[i * m + i] = 1.0;
        }
        model = std::move(model).with_covariance(
            std::make_shared<const atomfp::PosteriorCovariance>(std::vector<std::vector<double>>{lower}, upper));
    }
    const std::string path = "atomfp_bench_model.afp";
    atomfp::save_model(model, path);
    atomfp_model_t* handle = nullptr;
    check(atomfp_model_load(path.c_str(), &handle));
    std::remove(path.c_str());
    return handle;
}

// Rattled diamond Si of k^3 cells with its neighbour list for the model's 5 Å cutoff.
struct Crystal {
    atomfp::test::DiamondCrystal atoms;
    int64_t n_atoms;
    atomfp_neighbours_t* list = nullptr;
    atomfp_system_t system{};
    explicit Crystal(int cells)
        : atoms(atomfp::test::rattled_diamond(cells, 5.431, 0.1, 42)), n_atoms(static_cast<int64_t>(atoms.species.size())) {
        check(atomfp_neighbours_build(n_atoms, atoms.positions.data(), atoms.species.data(), atoms.cell.data(), nullptr, 5.0, &list));
        check(atomfp_neighbours_system(list, &system));
    }
    ~Crystal() { atomfp_neighbours_free(list); }
    Crystal(const Crystal&) = delete;
    Crystal& operator=(const Crystal&) = delete;
};

// range(0): threads.
void predict_energy_forces_virial_silicon(benchmark::State& state) {
    static atomfp_model_t* model = silicon_model(2000);
    const Crystal crystal(5);
    const int64_t n_atoms = crystal.n_atoms;
    const atomfp_system_t& system = crystal.system;
    std::vector<double> forces(3 * n_atoms);
    double energy = 0.0, virial[9];
    omp_set_num_threads(static_cast<int>(state.range(0)));
    for (auto _ : state) {
        check(atomfp_model_predict(model, &system, &energy, nullptr, forces.data(), virial));
        benchmark::DoNotOptimize(forces.data());
    }
    state.counters["atoms/s"] = benchmark::Counter(static_cast<double>(n_atoms), benchmark::Counter::kIsIterationInvariantRate);
}

// Energy and forces of 1000 atoms with a 1000-reference model, without (range(0) = 0) and then
// with the posterior variance of every centre (1), of the total alone (2) or both (3): what
// uncertainty costs an MD step, one thread.
void predict_with_variance(benchmark::State& state) {
    static atomfp_model_t* model = silicon_model(1000, true);
    const Crystal crystal(5);
    const int64_t n_atoms = crystal.n_atoms;
    const atomfp_system_t& system = crystal.system;
    std::vector<double> forces(3 * n_atoms), variances(n_atoms);
    double energy = 0.0, energy_variance = 0.0;
    omp_set_num_threads(1);
    for (auto _ : state) {
        check(atomfp_model_predict(model, &system, &energy, nullptr, forces.data(), nullptr));
        if (state.range(0)) {
            check(atomfp_model_predict_variance(model, &system, state.range(0) != 2 ? variances.data() : nullptr,
                                                state.range(0) >= 2 ? &energy_variance : nullptr));
        }
        benchmark::DoNotOptimize(forces.data());
        benchmark::DoNotOptimize(variances.data());
    }
    state.counters["atoms/s"] = benchmark::Counter(static_cast<double>(n_atoms), benchmark::Counter::kIsIterationInvariantRate);
}

// range(0): cells per side (8 k^3 atoms: 64, the size of a small cell in active learning or i-PI, to
// 32,768); range(1): 1 for energy, forces and virial, 0 for the energy alone.
void predict_by_size(benchmark::State& state) {
    static atomfp_model_t* model = silicon_model(2000);
    const Crystal crystal(static_cast<int>(state.range(0)));
    const int64_t n_atoms = crystal.n_atoms;
    const atomfp_system_t& system = crystal.system;
    const bool with_forces = state.range(1) != 0;
    std::vector<double> forces(3 * n_atoms);
    double energy = 0.0, virial[9];
    omp_set_num_threads(1);
    for (auto _ : state) {
        check(atomfp_model_predict(model, &system, &energy, nullptr, with_forces ? forces.data() : nullptr,
                                   with_forces ? virial : nullptr));
        benchmark::DoNotOptimize(energy);
    }
    state.counters["atoms/s"] = benchmark::Counter(static_cast<double>(n_atoms), benchmark::Counter::kIsIterationInvariantRate);
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    state.counters["peak RSS MiB"] = static_cast<double>(usage.ru_maxrss) / 1024.0;
}

}  // namespace

BENCHMARK(predict_by_size)
    ->ArgNames({"cells", "forces"})
    ->ArgsProduct({{2, 4, 8, 16}, {0, 1}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

BENCHMARK(predict_energy_forces_virial_silicon)
    ->Apply(atomfp::bench::best_of_repetitions)
    ->ArgNames({"threads"})
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

BENCHMARK(predict_with_variance)
    ->Apply(atomfp::bench::best_of_repetitions)
    ->ArgNames({"variance"})
    ->Arg(0)
    ->Arg(1)
    ->Arg(2)
    ->Arg(3)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

BENCHMARK_MAIN();
