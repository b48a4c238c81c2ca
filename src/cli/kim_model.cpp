// atomfp kim-model: any atomfp model file as a KIM portable model (a parameterised item of the atomfp
// model driver), optionally built and installed into a KIM collection with the KIM API's own
// kim-api-collections-management, which builds items with CMake.
#include "cli/options.hpp"
#include "cli/process.hpp"
#include "core/elements.hpp"
#include "core/error.hpp"
#include "models/model_file.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

namespace atomfp::cli {

namespace {

namespace fs = std::filesystem;

struct KimModelOptions {
    std::string model, name, output, install, species_map, driver_source;
};

const std::regex kim_model_name(R"([A-Za-z_][A-Za-z0-9_]*__MO_[0-9]{12}_[0-9]{3})");

// The installation prefix of this program (bin/..), from /proc/self/exe.
fs::path own_prefix() {
    std::error_code error;
    const fs::path exe = fs::read_symlink("/proc/self/exe", error);
    if (error) fail(Status::io, "cannot locate the atomfp program (/proc/self/exe): ", error.message());
    return exe.parent_path().parent_path();
}

// Runs `argv` with stdout and stderr appended to `log`; returns the exit status (-1 if it could not run).
int run_logged(const std::vector<std::string>& argv, const fs::path& log) {
    const ProcessOutcome run = run_process(argv, {"", log.string(), true, 0});
    if (!run.started || run.signal != 0 || run.exit_status == 127) return -1;
    return run.exit_status;
}

std::string tail_of(const fs::path& log, std::size_t lines) {
    std::ifstream in(log);
    std::vector<std::string> all;
    for (std::string line; std::getline(in, line);) all.push_back(line);
    std::string out;
    for (std::size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i) out += "    " + all[i] + "\n";
    return out;
}

void append_to_log(const fs::path& log, const std::string& text) {
    std::ofstream(log, std::ios::app) << text << "\n";
}

// "user01=1,bead=2" -> {1: "user01", 2: "bead"}
std::map<int32_t, std::string> parse_species_map(const std::string& text) {
    std::map<int32_t, std::string> names;
    std::stringstream entries(text);
    for (std::string entry; std::getline(entries, entry, ',');) {
        const std::size_t eq = entry.find('=');
        const std::string name = entry.substr(0, eq);
        const std::string number = eq == std::string::npos ? "" : entry.substr(eq + 1);
        char* end = nullptr;
        const long z = std::strtol(number.c_str(), &end, 10);
        if (name.empty() || number.empty() || *end != '\0' || z < 1 || z > 118 ||
            name.find_first_of(" \t\n#") != std::string::npos) {
            fail(Status::invalid_argument, "--species-map entry '", entry,
                 "' is not KIM_NAME=Z with an atomic number Z in 1..118");
        }
        if (!names.emplace(static_cast<int32_t>(z), name).second) {
            fail(Status::invalid_argument, "--species-map maps atomic number ", z, " twice");
        }
    }
    return names;
}

void write_file(const fs::path& path, const std::string& text) {
    std::ofstream out(path);
    out << text;
    if (!out) fail(Status::io, "cannot write '", path.string(), "'");
}

std::string item_cmakelists(const std::string& name, bool with_species_map) {
    std::ostringstream s;
    s << "# A KIM portable model: an atomfp model file run by the atomfp model driver. Written by\n"
         "# `atomfp kim-model`; install it with kim-api-collections-management install <collection> <this directory>.\n"
         "cmake_minimum_required(VERSION 3.16)\n"
         "list(APPEND CMAKE_PREFIX_PATH $ENV{KIM_API_CMAKE_PREFIX_DIR})\n"
         "find_package(KIM-API-ITEMS 2.2 REQUIRED CONFIG)\n"
         "kim_api_items_setup_before_project(ITEM_TYPE \"portableModel\")\n"
         "project("
      << name
      << ")\n"
         "kim_api_items_setup_after_project(ITEM_TYPE \"portableModel\")\n"
         "add_kim_api_model_library(NAME ${PROJECT_NAME} DRIVER_NAME \"" ATOMFP_KIM_DRIVER_NAME "\"\n"
         "  PARAMETER_FILES \"model.afp\""
      << (with_species_map ? " \"species.map\"" : "")
      << "\n  METADATA_FILES \"kimspec.edn\")\n";
    return s.str();
}

std::string kimspec(const std::string& name, const std::vector<std::string>& species_names, double cutoff) {
    std::ostringstream s;
    s << "{\n  \"extended-id\" \"" << name << "\"\n  \"kim-api-version\" \"2.2\"\n  \"model-driver\" \""
      << ATOMFP_KIM_DRIVER_NAME << "\"\n  \"species\" [";
    for (std::size_t i = 0; i < species_names.size(); ++i) s << (i ? " " : "") << '"' << species_names[i] << '"';
    s << "]\n  \"title\" \"atomfp model " << name << " (cutoff " << cutoff << " A)\"\n  \"potential-type\" \"atomfp\"\n}\n";
    return s.str();
}

void run_kim_model(const KimModelOptions& options) {
    const std::string& model_path = options.model;
    const std::string& name = options.name;
    if (!std::regex_match(name, kim_model_name)) {
        fail(Status::invalid_argument, "'", name,
             "' is not a valid KIM model name: it must be <description>__MO_<12 digits>_<3 digits> of letters, "
             "digits and underscores, starting with a letter or underscore, e.g. my_model__MO_000000000000_000");
    }
    const Model model = load_model(model_path);
    const std::map<int32_t, std::string> mapped = parse_species_map(options.species_map);
    const std::vector<int32_t> species = model.species();
    std::vector<std::string> species_names;
    for (int32_t z : species) {
        const auto it = mapped.find(z);
        species_names.push_back(it != mapped.end() ? it->second : element_symbol(z));
    }
    for (const auto& [z, kim_name] : mapped) {
        if (std::find(species.begin(), species.end(), z) == species.end()) {
            fail(Status::invalid_argument, "--species-map names atomic number ", z, " (", kim_name,
                 "), which the model does not have");
        }
    }

    const fs::path item = options.output.empty() ? name : options.output;
    fs::create_directories(item);
    fs::copy_file(model_path, item / "model.afp", fs::copy_options::overwrite_existing);
    if (!mapped.empty()) {
        std::ostringstream map;
        map << "# KIM species name and atomic number, read by the atomfp model driver\n";
        for (const auto& [z, kim_name] : mapped) map << kim_name << " " << z << "\n";
        write_file(item / "species.map", map.str());
    } else {
        fs::remove(item / "species.map");
    }
    write_file(item / "CMakeLists.txt", item_cmakelists(name, !mapped.empty()));
    write_file(item / "kimspec.edn", kimspec(name, species_names, model.cutoff()));

    std::string species_line;
    for (const std::string& s : species_names) species_line += " " + s;
    std::printf("atomfp kim-model: wrote the KIM portable model %s in %s\n", name.c_str(), item.string().c_str());
    std::printf("  model %s: species%s, cutoff %g A\n", model_path.c_str(), species_line.c_str(), model.cutoff());

    if (!options.install.empty()) {
        std::string collection = options.install;
        std::string exports;
        if (collection != "user" && collection != "system" && collection != "environment" && collection != "CWD") {
            const fs::path directory = fs::absolute(collection);
            fs::create_directories(directory / "model-drivers");
            fs::create_directories(directory / "portable-models");
            const std::string drivers = (directory / "model-drivers").string();
            const std::string models = (directory / "portable-models").string();
            setenv("KIM_API_MODEL_DRIVERS_DIR", drivers.c_str(), 1);
            setenv("KIM_API_PORTABLE_MODELS_DIR", models.c_str(), 1);
            exports = "  export KIM_API_MODEL_DRIVERS_DIR=" + drivers + "\n  export KIM_API_PORTABLE_MODELS_DIR=" +
                      models + "\n";
            collection = "environment";
        }
        // The driver item must build against this atomfp, wherever the tree has been moved.
        const fs::path prefix = own_prefix();
        const char* previous = std::getenv("CMAKE_PREFIX_PATH");
        const std::string prefix_path = prefix.string() + (previous && *previous ? std::string(":") + previous : "");
        setenv("CMAKE_PREFIX_PATH", prefix_path.c_str(), 1);
        const fs::path driver = !options.driver_source.empty()
                                    ? fs::path(options.driver_source)
                                    : prefix / "share" / "atomfp" / "kim" / ATOMFP_KIM_DRIVER_NAME;
        if (!fs::exists(driver / "CMakeLists.txt")) {
            fail(Status::io, "the atomfp model driver's KIM item is not at ", driver.string(),
                 " (use an installed atomfp, or --driver-source)");
        }
        const fs::path log = fs::absolute(item / "install.log");
        fs::remove(log);
        const std::string manager = "kim-api-collections-management";
        append_to_log(log, "== " + manager + " install " + collection + " " + driver.string());
        int status = run_logged({manager, "install", collection, fs::absolute(driver).string()}, log);
        if (status == -1) fail(Status::io, "cannot run ", manager, " (install libkim-api-dev)");
        if (status != 0 && tail_of(log, 50).find("already installed in collection") == std::string::npos) {
            fail(Status::io, "installing the atomfp model driver into the ", collection, " collection failed (",
                 log.string(), "):\n", tail_of(log, 20));
        }
        append_to_log(log, "== " + manager + " install --force " + collection + " " + item.string());
        status = run_logged({manager, "install", "--force", collection, fs::absolute(item).string()}, log);
        if (status != 0) {
            fail(Status::io, "installing ", name, " into the ", collection, " collection failed (", log.string(),
                 "):\n", tail_of(log, 20));
        }
        std::printf("  installed into the %s collection (log: %s)\n", options.install.c_str(),
                    log.string().c_str());
        if (!exports.empty()) std::printf("  for the simulator's environment:\n%s", exports.c_str());
    } else {
        std::printf("  install it with: kim-api-collections-management install user %s\n", item.string().c_str());
    }
    std::printf("  LAMMPS (units metal; list the species in the order of your atom types):\n"
                "    kim init %s metal\n    kim interactions%s\n",
                name.c_str(), species_line.c_str());
}

}  // namespace

Command add_kim_model(CLI::App& tool) {
    auto options = std::make_shared<KimModelOptions>();
    CLI::App* app = add_command(tool, "kim-model", "a model file as a KIM portable model for LAMMPS and other KIM simulators",
                                "atomfp kim-model MODEL.afp NAME [-o ITEM_DIR] [--install user|system|environment|CWD|DIR]\n"
                                "                        [--species-map KIM_NAME=Z,...] [--driver-source DIR]",
                                "Writes a complete KIM portable-model item for an atomfp model file (CMakeLists.txt, the model as\n"
                                "its parameter file, kimspec.edn). With --install it builds and installs the item, and the\n"
                                "atomfp model driver if it is not installed yet, into a KIM collection: user, system,\n"
                                "environment (the directories named by KIM_API_MODEL_DRIVERS_DIR and\n"
                                "KIM_API_PORTABLE_MODELS_DIR), CWD, or a directory DIR that becomes an environment collection\n"
                                "(DIR/model-drivers, DIR/portable-models). An installed model of the same name is replaced.\n"
                                "It prints the LAMMPS lines that use the model.");
    add_input(app, options->model, "MODEL", "the atomfp model file");
    add_input(app, options->name, "NAME",
              "a KIM model name: <description>__MO_<12 digits>_<3 digits>, letters, digits\n"
              "and underscores, e.g. my_SiC_model__MO_000000000000_000");
    add_output(app, options->output, "DIR", "the item's directory (default ./NAME)");
    app->add_option("--install", options->install, "user, system, environment, CWD or a directory")->type_name("COLLECTION");
    app->add_option("--species-map", options->species_map,
                    "KIM species names for atomic numbers that are not elements of the periodic\n"
                    "table in the simulation (e.g. user01=1); other species keep their symbols")
        ->type_name("MAP");
    app->add_option("--driver-source", options->driver_source,
                    "the driver's KIM item (default: share/atomfp/kim/" ATOMFP_KIM_DRIVER_NAME "\nof this atomfp)")
        ->type_name("DIR");
    return {app, [options] { run_kim_model(*options); }};
}

}  // namespace atomfp::cli
