#include "atomfp_version.h"
#include "cli/options.hpp"
#include "cli/progress.hpp"
#include "cli/svg_plot.hpp"
#include "core/elements.hpp"
#include "core/error.hpp"
#include "io/atomic_output.hpp"
#include "io/sha256.hpp"
#include "models/model_file.hpp"
#include "models/trainer.hpp"

#include <chrono>
#include <ctime>
#include <cstdio>
#include <memory>

#ifdef ATOMFP_WITH_MPI
#include "cli/mpi_communicator.hpp"

#include <mpi.h>
#endif

namespace atomfp::cli {

namespace {

// "2026-12-02T23:41:07Z"
std::string utc_now() {
    const std::time_t now = std::time(nullptr);
    std::tm utc{};
    gmtime_r(&now, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return text;
}

// Heat maps of the cross-validated RMSE per config_type and per fold: one column per quantity,
// each with its own colour scale and unit.
void write_cv_figure(const std::string& path, const CrossValidation& cv) {
    Figure figure;
    figure.title = std::to_string(cv.folds.size()) + "-fold cross-validation";
    auto add = [&](const std::string& title, const std::vector<std::string>& rows, const std::vector<ErrorMetrics>& errors) {
        const bool forces = errors.front().n_force_components > 0, virials = errors.front().n_virial_components > 0;
        auto column = [&](const std::string& name, auto value) {
            Heatmap h;
            h.x_labels = {name};
            h.y_labels = rows;
            for (const ErrorMetrics& e : errors) h.values.push_back(value(e));
            Panel panel(title, "", "");
            panel.heatmap.push_back(h);
            figure.panels.push_back(panel);
        };
        column("energy RMSE / meV/atom", [](const ErrorMetrics& e) { return 1e3 * e.energy_rmse_per_atom; });
        if (forces) column("force RMSE / eV/Å", [](const ErrorMetrics& e) { return e.force_rmse; });
        if (virials) column("virial RMSE / eV/atom", [](const ErrorMetrics& e) { return e.virial_rmse_per_atom; });
        figure.columns = 1 + forces + virials;
    };
    std::vector<std::string> types;
    std::vector<ErrorMetrics> per_type;
    for (const auto& [type, errors] : cv.by_config_type) {
        types.push_back(type);
        per_type.push_back(errors);
    }
    add("per config_type", types, per_type);
    std::vector<std::string> folds;
    for (std::size_t k = 0; k < cv.folds.size(); ++k) folds.push_back("fold " + std::to_string(k + 1));
    add("per fold", folds, cv.folds);
    figure.panel_width = 330.0;
    figure.panel_height = 90.0 + 22.0 * static_cast<double>(std::max(types.size(), folds.size()));
    if (cv.calibration) {
        // Observed against expected coverage of the held-out energy errors by central intervals
        // of the predicted Gaussians: on the diagonal when the variances are calibrated.
        auto coverage_curve = [](const Calibration& c, const std::string& label, const std::string& colour) {
            Series s{label, {}, {}, Series::Style::line, Series::Marker::circle, colour};
            for (double p = 0.05; p < 0.999; p += 0.05) {
                double lo = 0.0, hi = 10.0;  // the half-width t with erf(t / sqrt 2) = p, by bisection
                for (int k = 0; k < 60; ++k) (std::erf(0.5 * (lo + hi) / std::sqrt(2.0)) < p ? lo : hi) = 0.5 * (lo + hi);
                double inside = 0.0;
                for (double z2 : c.squared_z) inside += z2 <= lo * lo;
                s.x.push_back(p);
                s.y.push_back(inside / static_cast<double>(c.n));
            }
            return s;
        };
        const Calibration& raw = *cv.calibration;
        Panel panel("energy variance calibration", "expected coverage", "observed coverage");
        panel.series = {{"", {0.0, 1.0}, {0.0, 1.0}, Series::Style::line, Series::Marker::circle, "#888"},
                        coverage_curve(raw, "as fitted", "#d62728"),
                        coverage_curve(rescaled(raw, raw.likelihood_scale), "scaled", "#1f77b4")};
        figure.panels.push_back(panel);
        figure.panel_height = std::max(figure.panel_height, 300.0);
        figure.panel_width = 420.0;
    }
    write_svg(path, figure);
}

struct FitOptions {
    std::string config, input, output, svg;
    LabelKeyOptions labels;
    int folds = 0;  // no cross-validation
    uint64_t seed = 1;
};

void print_errors(const char* label, const ErrorMetrics& m) {
    std::printf("  %-18s energy RMSE %8.2f meV/atom (MAE %6.2f)", label, 1e3 * m.energy_rmse_per_atom, 1e3 * m.energy_mae_per_atom);
    if (m.n_force_components) std::printf("   force RMSE %7.4f eV/A (MAE %6.4f)", m.force_rmse, m.force_mae);
    if (m.n_virial_components) std::printf("   virial RMSE %7.4f eV/atom", m.virial_rmse_per_atom);
    std::printf("\n");
}

// Distributed over MPI when the tool is built with it. A failure on any process ends them all: the
// others may be waiting in a collective operation.
void run_fit(const FitOptions& options) {
#ifdef ATOMFP_WITH_MPI
    const MpiSession session(nullptr, nullptr);
    const MpiCommunicator communicator;
#else
    const TrainingCommunicator communicator;
#endif
    const bool root = communicator.rank() == 0;
    try {
        TrainingSettings settings = TrainingSettings::parse(parse_json(read_text_file(options.config)));
        options.labels.apply_to(settings.labels);
        const std::string& output = options.output;
        if (root) check_writable(output);  // before the fit, not after it
        if (!options.svg.empty() && options.folds == 0) fail(Status::invalid_argument, "--svg draws the cross-validation errors: give --cv K");
        if (root && !options.svg.empty()) check_writable(options.svg);
        const ProgressBar bar("structures");
        if (root && bar.enabled()) {
            settings.progress = [&bar](const std::string& stage, int64_t done, int64_t total) {
                bar.show(stage, done, total, stage == "folds" ? "folds" : "");
            };
        }
        const std::vector<Frame> frames = read_extxyz(options.input, settings.labels);
        const auto start = std::chrono::steady_clock::now();
        // Only rank 0 speaks and writes.
        if (!root) std::freopen("/dev/null", "w", stdout);
        std::printf("atomfp fit: %zu structures from %s, %d process(es)\n", frames.size(), options.input.c_str(),
                    communicator.size());
        json provenance = {{"training_files", {{{"path", options.input},
                                                {"sha256", sha256_of_file(options.input)},
                                                {"structures", frames.size()}}}},
                           {"created", utc_now()},
                           {"library", std::string("atomfp ") + ATOMFP_VERSION_STRING}};
        std::optional<double> variance_scale;
        if (options.folds > 0) {
            const CrossValidation cv = cross_validate(frames, settings, options.folds, options.seed, communicator);
            json per_fold = json::array(), per_type = json::object();
            for (std::size_t k = 0; k < cv.folds.size(); ++k) {
                const std::string label = "fold " + std::to_string(k + 1);
                print_errors(label.c_str(), cv.folds[k]);
                per_fold.push_back(cv.folds[k].to_json());
            }
            print_errors((std::to_string(options.folds) + "-fold CV").c_str(), cv.pooled);
            if (cv.by_config_type.size() > 1) {
                std::printf("  %d-fold CV per config_type:\n", options.folds);
                for (const auto& [type, errors] : cv.by_config_type) {
                    print_errors(("  " + type).c_str(), errors);
                    per_type[type] = errors.to_json();
                }
            }
            if (root && !options.svg.empty()) write_cv_figure(options.svg, cv);
            provenance["cross_validation"] = {{"folds", options.folds}, {"seed", options.seed}, {"pooled", cv.pooled.to_json()},
                                              {"per_fold", per_fold}, {"per_config_type", per_type}};
            if (cv.calibration) {
                // The prior scale that makes the held-out energy errors maximum-likelihood under the
                // predicted variances; the final model carries it.
                const Calibration& raw = *cv.calibration;
                variance_scale = raw.likelihood_scale;
                const Calibration scaled = rescaled(raw, *variance_scale);
                std::printf("  %d-fold CV energy errors against the predicted sigma: %.0f %% within 1 sigma, %.0f %% within 2 sigma "
                            "as fitted; with the variance scale %.4g fitted on them, %.0f %% and %.0f %% (68 %% and 95 %% if "
                            "calibrated), mean NLL %.3f -> %.3f\n",
                            options.folds, 100.0 * raw.within_one_sigma, 100.0 * raw.within_two_sigma, *variance_scale,
                            100.0 * scaled.within_one_sigma, 100.0 * scaled.within_two_sigma, raw.mean_negative_log_likelihood,
                            scaled.mean_negative_log_likelihood);
                provenance["cross_validation"]["calibration"] = {
                    {"as_fitted", raw.to_json()}, {"variance_scale", *variance_scale}, {"with_variance_scale", scaled.to_json()}};
            }
        }
        TrainingSummary summary;
        Model model = train(frames, settings, &summary, communicator);
        if (variance_scale && model.covariance() && *variance_scale > 0.0) {
            model = std::move(model).with_covariance(std::make_shared<const PosteriorCovariance>(model.covariance()->with_scale(*variance_scale)));
        }
        json metadata = model.metadata();
        metadata.update(provenance);
        model = std::move(model).with_metadata(metadata);
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
        std::printf("  time per stage (wall / CPU seconds, rank 0):");
        for (const TrainingSummary::Stage& stage : summary.stages) {
            std::printf(" %s %.1f / %.1f;", stage.name.c_str(), stage.wall_seconds, stage.cpu_seconds);
        }
        std::printf("\n");
        std::printf("  wrote %s (%.1f s)\n", output.c_str(), seconds);
    } catch (const std::exception& e) {
#ifdef ATOMFP_WITH_MPI
        if (communicator.size() > 1) {
            std::fprintf(stderr, "atomfp fit (rank %d): %s\n", communicator.rank(), e.what());
            MPI_Abort(MPI_COMM_WORLD, 1);
        }
#endif
        throw;
    }
}

}  // namespace

Command add_fit(CLI::App& tool) {
    auto options = std::make_shared<FitOptions>();
    CLI::App* app = add_command(tool, "fit", "train a sparse GPR model on energies, forces and virials",
                                "atomfp fit --config FIT.json TRAIN.extxyz -o MODEL.afp [--cv K] [--seed S]",
                                "Trains a sparse Gaussian-process model (subset of regressors) on the energies, forces and\n"
                                "(optionally) virials of the training structures, or with \"method\": \"krr\" kernel ridge\n"
                                "regression on energies, and writes a model file. A progress bar appears on stderr when it is a\n"
                                "terminal.\n"
                                "\n"
                                "FIT.json keys (defaults after =): descriptor (a descriptor specification, required),\n"
                                "method=\"sparse_gpr\" (or \"krr\"), kernel={\"type\": \"polynomial\", \"zeta\": 2} (or\n"
                                "\"squared_exponential\" with \"gamma\", or \"linear\"), sparse_per_species=500, selection=\"fps\"\n"
                                "(or \"cur\"), use_energies=true, use_forces=true, use_virials=false, sigma_energy=0.002 (eV/atom),\n"
                                "sigma_forces=0.05 (eV/A), sigma_virial=0.05 (eV/atom), config_type_sigma ({\"liquid\":\n"
                                "{\"sigma_forces\": 0.3}}: per config_type), energy_key=\"energy\", forces_key=\"forces\",\n"
                                "stress_key=\"stress\", virial_key=\"virial\", repulsion ({\"type\": \"zbl\", \"inner\": 1.0, \"outer\":\n"
                                "1.5}: a core repulsion added to the model), baselines ({\"Si\": -158.4}; default: fitted),\n"
                                "learned_species ([\"C\"]: only these centres carry learned energies), jitter=1e-10. A sigma of a\n"
                                "quantity that is not fitted is an error. With use_virials, structures with a virial (or a stress\n"
                                "and a Lattice: W = -V stress) get virial rows; the others do not. A structure's own keys\n"
                                "energy_sigma, force_sigma and virial_sigma replace the sigmas of its config_type. The model file\n"
                                "records the settings, the training file's SHA-256, the structures per config_type and the CV\n"
                                "errors (see atomfp info). See docs/models.md.\n"
                                "\n"
                                "Under mpirun (a build with ATOMFP_ENABLE_MPI=ON) the structures are shared between the\n"
                                "processes; rank 0 prints and writes the model.");
    add_input(app, options->input, "TRAIN", "extended XYZ file of the training structures");
    app->add_option("--config", options->config, "training settings (JSON)")->type_name("FILE")->required();
    add_output(app, options->output, "FILE", "the model")->required();
    app->add_option("--cv", options->folds, "first report K-fold cross-validation errors")
        ->type_name("K")
        ->check(CLI::Range(2, 1000000).description(""));
    add_seed(app, options->seed, "shuffles the structures into cross-validation folds");
    add_label_keys(app, options->labels);
    add_svg(app, options->svg, "with --cv: heat maps of the cross-validated errors per config_type and\nper fold");
    return {app, [options] { run_fit(*options); }};
}

}  // namespace atomfp::cli
