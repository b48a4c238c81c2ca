#include "cli/options.hpp"
#include "core/elements.hpp"
#include "io/atomic_output.hpp"
#include "models/model_file.hpp"

#include <cstdio>

namespace atomfp::cli {

namespace {

struct InfoOptions {
    std::string model, output;
    bool json_output = false;
};

// One line of errors from ErrorMetrics::to_json, "-" where the quantity was not predicted.
std::string errors_line(const json& e) {
    char text[200];
    std::snprintf(text, sizeof text, "energy %8.2f meV/atom", 1e3 * e.value("energy_rmse_eV_per_atom", 0.0));
    std::string out = text;
    if (e.value("force_components", 0) > 0) {
        std::snprintf(text, sizeof text, "   forces %7.4f eV/A", e.value("force_rmse_eV_per_A", 0.0));
        out += text;
    }
    if (e.value("virial_components", 0) > 0) {
        std::snprintf(text, sizeof text, "   virial %7.4f eV/atom", e.value("virial_rmse_eV_per_atom", 0.0));
        out += text;
    }
    return out + " (RMSE)";
}

void run_info(const InfoOptions& options) {
    const Model model = load_model(options.model);
    const json header = model_header(model);
    if (!options.output.empty()) {
        AtomicOutput file(options.output, false);
        file.stream() << header.dump(2) << '\n';
        file.commit();
    }
    if (options.json_output) {
        std::printf("%s\n", header.dump(2).c_str());
        return;
    }
    const json& descriptor = header.at("descriptor");
    const json& metadata = header.at("metadata");
    std::printf("%s: atomfp model, format version %d\n", options.model.c_str(), header.at("version").get<int>());
    std::printf("  descriptor   %s, cutoff %g A, %lld features\n", descriptor.value("type", "?").c_str(), model.cutoff(),
                static_cast<long long>(header.at("n_features").get<int64_t>()));
    std::printf("  kernel       %s\n", header.at("kernel").dump().c_str());
    for (const json& block : header.at("blocks")) {
        std::printf("  species %-4s %lld references, baseline %.6f eV\n",
                    element_symbol(block.at("species").get<int32_t>()).c_str(),
                    static_cast<long long>(block.at("n_references").get<int64_t>()), block.at("baseline").get<double>());
    }
    if (metadata.contains("library") || metadata.contains("created")) {
        std::printf("  trained      %s with %s\n", metadata.value("created", "?").c_str(), metadata.value("library", "?").c_str());
    }
    if (metadata.contains("training_files")) {
        for (const json& file : metadata.at("training_files")) {
            std::printf("  data         %s (%lld structures, sha256 %s)\n", file.value("path", "?").c_str(),
                        static_cast<long long>(file.value("structures", 0)), file.value("sha256", "?").c_str());
        }
    }
    if (metadata.contains("settings")) std::printf("  settings     %s\n", metadata.at("settings").dump().c_str());
    if (metadata.contains("training")) {
        const json& training = metadata.at("training");
        if (training.contains("config_types")) {
            std::printf("  config_type ");
            for (const auto& [type, count] : training.at("config_types").items()) std::printf(" %s %lld;", type.c_str(), static_cast<long long>(count.get<int64_t>()));
            std::printf("\n");
        }
        if (training.contains("training_errors") && training.at("training_errors").value("energies", 0) > 0) {
            std::printf("  training set %s\n", errors_line(training.at("training_errors")).c_str());
        }
    }
    if (metadata.contains("cross_validation")) {
        const json& cv = metadata.at("cross_validation");
        std::printf("  %d-fold CV    %s\n", cv.value("folds", 0), errors_line(cv.at("pooled")).c_str());
        const json per_type = cv.value("per_config_type", json::object());
        for (const auto& [type, errors] : per_type.items()) {
            std::printf("    %-18s %s\n", type.c_str(), errors_line(errors).c_str());
        }
    }
}

}  // namespace

Command add_info(CLI::App& tool) {
    auto options = std::make_shared<InfoOptions>();
    CLI::App* app = add_command(tool, "info", "what a model file holds: descriptor, kernel, references, training record",
                                "atomfp info MODEL.afp [--json] [-o HEADER.json]",
                                "Prints the descriptor, kernel and references of a model and what its fit recorded: the\n"
                                "training settings, the training files with their SHA-256, the structures per config_type,\n"
                                "the training-set and cross-validation errors, the library version and the date. --json\n"
                                "prints the model file's header (docs/model_file.md).");
    add_input(app, options->model, "MODEL", "the model file");
    app->add_flag("--json", options->json_output, "print the header as JSON");
    add_output(app, options->output, "FILE", "also write the header as JSON to FILE");
    return {app, [options] { run_info(*options); }};
}

}  // namespace atomfp::cli
