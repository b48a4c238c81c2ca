#include "cli/arguments.hpp"
#include "cli/commands.hpp"
#include "cli/progress.hpp"
#include "core/elements.hpp"
#include "core/error.hpp"
#include "io/atomic_output.hpp"
#include "models/model_file.hpp"
#include "models/trainer.hpp"

#include <chrono>
#include <cstdio>
#include <memory>

#ifdef ATOMFP_WITH_MPI
#include "cli/mpi_communicator.hpp"

#include <mpi.h>
#endif

namespace atomfp::cli {

namespace {

const char* fit_usage =
    "usage: atomfp fit --config FIT.json TRAIN.extxyz -o MODEL.afp [--cv K] [--seed S]\n"
    "\n"
    "Trains a sparse Gaussian-process model (subset of regressors) on the energies, forces and\n"
    "(optionally) virials of the training structures, or with \"method\": \"krr\" kernel ridge\n"
    "regression on energies, and writes a model file. With --cv K it first reports K-fold\n"
    "cross-validation errors (structures shuffled with --seed, default 1). A progress bar appears on\n"
    "stderr when it is a terminal.\n"
    "\n"
    "FIT.json keys: descriptor (a descriptor specification, required), method (\"sparse_gpr\" or\n"
    "\"krr\"), kernel ({\"type\":\n"
    "\"polynomial\", \"zeta\": 4}, \"squared_exponential\" with \"gamma\", or \"linear\"),\n"
    "sparse_per_species, sigma_energy (eV/atom), sigma_forces (eV/A), sigma_virial (eV/atom),\n"
    "use_energies, use_forces, use_virials, baselines ({\"Si\": -158.4}; default: fitted),\n"
    "learned_species ([\"C\"]: only these centres carry learned energies), selection (\"fps\" or\n"
    "\"cur\"), jitter.\n"
    "See docs/models.md. Under mpirun (a build with ATOMFP_ENABLE_MPI=ON) the structures are\n"
    "shared between the processes; rank 0 prints and writes the model.\n";

void print_errors(const char* label, const ErrorMetrics& m) {
    std::printf("  %-18s energy RMSE %8.2f meV/atom (MAE %6.2f)", label, 1e3 * m.energy_rmse_per_atom, 1e3 * m.energy_mae_per_atom);
    if (m.n_force_components) std::printf("   force RMSE %7.4f eV/A (MAE %6.4f)", m.force_rmse, m.force_mae);
    if (m.n_virial_components) std::printf("   virial RMSE %7.4f eV/atom", m.virial_rmse_per_atom);
    std::printf("\n");
}

}  // namespace

int fit(int argc, char** argv) {
#ifdef ATOMFP_WITH_MPI
    const MpiSession session(&argc, &argv);
    const MpiCommunicator communicator;
#else
    const TrainingCommunicator communicator;
#endif
    const bool root = communicator.rank() == 0;
    try {
        Arguments args(argc, argv, {"--config", "-o", "--output", "--cv", "--seed"}, {"--help", "-h"});
        if (args.flag("--help") || args.flag("-h")) {
            std::fputs(fit_usage, stdout);
            return 0;
        }
        const std::string output = args.has("-o") ? args.value("-o") : args.value("--output");
        if (!args.has("--config") || args.positional().size() != 1 || output.empty()) {
            std::fputs(fit_usage, stderr);
            return 2;
        }
        TrainingSettings settings = TrainingSettings::parse(parse_json(read_text_file(args.value("--config"))));
        if (root) check_writable(output);  // before the fit, not after it
        const ProgressBar bar("structures");
        if (root && bar.enabled()) {
            settings.progress = [&bar](const std::string& stage, int64_t done, int64_t total) { bar.show(stage, done, total); };
        }
        const std::vector<Frame> frames = read_extxyz(args.positional()[0]);
        const auto start = std::chrono::steady_clock::now();
        // Only rank 0 speaks and writes.
        if (!root) std::freopen("/dev/null", "w", stdout);
        std::printf("atomfp fit: %zu structures from %s, %d process(es)\n", frames.size(), args.positional()[0].c_str(),
                    communicator.size());
        if (args.has("--cv")) {
            const std::vector<int64_t> folds = parse_index_list(args.value("--cv"));
            const std::vector<int64_t> seed = parse_index_list(args.value("--seed", "1"));
            if (folds.size() != 1 || seed.size() != 1) fail(Status::invalid_argument, "--cv and --seed take one number each");
            const CrossValidation cv =
                cross_validate(frames, settings, static_cast<int>(folds[0]), static_cast<uint64_t>(seed[0]), communicator);
            for (std::size_t k = 0; k < cv.folds.size(); ++k) {
                const std::string label = "fold " + std::to_string(k + 1);
                print_errors(label.c_str(), cv.folds[k]);
            }
            print_errors((std::to_string(folds[0]) + "-fold CV").c_str(), cv.pooled);
        }
        TrainingSummary summary;
        const Model model = train(frames, settings, &summary, communicator);
        if (root) save_model(model, output);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::printf("  %lld environments, %lld energy, %lld force and %lld virial rows; sparse points:",
                    static_cast<long long>(summary.n_environments), static_cast<long long>(summary.n_energy_rows),
                    static_cast<long long>(summary.n_force_rows), static_cast<long long>(summary.n_virial_rows));
        for (const auto& [z, n] : summary.n_sparse) std::printf(" %s %lld", element_symbol(z).c_str(), static_cast<long long>(n));
        std::printf("\n  baselines:");
        for (const auto& [z, e] : summary.baselines) std::printf(" %s %.6f eV", element_symbol(z).c_str(), e);
        std::printf("\n");
        print_errors("training set", summary.training);
        std::printf("  wrote %s (%.1f s)\n", output.c_str(), seconds);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "atomfp fit: %s\n", e.what());
#ifdef ATOMFP_WITH_MPI
        // The other processes may be waiting in a collective operation: end them all.
        if (communicator.size() > 1) MPI_Abort(MPI_COMM_WORLD, 1);
#endif
        return 1;
    }
}

}  // namespace atomfp::cli
