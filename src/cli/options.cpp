#include "cli/options.hpp"

#include "core/error.hpp"
#include "io/input_file.hpp"

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

namespace atomfp::cli {

namespace {

// The registered synopses, by command; only the tool's own apps are registered.
std::map<const CLI::App*, std::string>& usages() {
    static std::map<const CLI::App*, std::string> table;
    return table;
}

// Option tables wrap at this column; long descriptions continue on indented lines.
constexpr std::size_t option_column = 24;

}  // namespace

HelpFormatter::HelpFormatter() {
    column_width(option_column);
    label("Positionals", "arguments");
    label("Options", "options");
    label("REQUIRED", "(required)");
    label("TEXT", "TEXT");
}

std::string HelpFormatter::make_help(const CLI::App* app, std::string name, CLI::AppFormatMode mode) const {
    if (mode == CLI::AppFormatMode::Sub) return make_expanded(app);
    std::ostringstream out;
    const auto usage = usages().find(app);
    out << "usage: " << (usage != usages().end() ? usage->second : name + " [options]") << "\n\n";
    if (!app->get_description().empty()) out << app->get_description() << "\n";
    if (!app->get_footer().empty()) out << "\n" << app->get_footer() << "\n";
    out << make_positionals(app) << make_groups(app, mode) << make_subcommands(app, mode);
    return out.str();
}

std::string HelpFormatter::make_subcommand(const CLI::App* sub) const {
    std::ostringstream out;
    CLI::detail::format_help(out, sub->get_name(), sub->get_description(), get_column_width());
    return out.str();
}

void set_usage(CLI::App* app, const std::string& synopsis) { usages()[app] = synopsis; }

CLI::App* add_command(CLI::App& tool, const std::string& name, const std::string& summary, const std::string& synopsis,
                      const std::string& details) {
    CLI::App* app = tool.add_subcommand(name, summary);
    set_usage(app, synopsis);
    app->footer(details);
    return app;
}

CLI::Option* repeatable(CLI::Option* option) {
    return option->expected(1)->allow_extra_args(false)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

CLI::Option* add_output(CLI::App* app, std::string& target, const std::string& kind, const std::string& what) {
    return app->add_option("-o,--output", target, what)->type_name(kind);
}

CLI::Option* add_input(CLI::App* app, std::string& path, const std::string& name, const std::string& what) {
    return app->add_option(name, path, what)->type_name("")->required();
}

CLI::Option* add_spec(CLI::App* app, std::string& path, const std::string& what) {
    return app->add_option("--spec", path, what)->type_name("FILE");
}

CLI::Option* add_specs(CLI::App* app, std::vector<std::string>& paths, const std::string& what) {
    return repeatable(app->add_option("--spec", paths, what)->type_name("FILE"));
}

CLI::Option* add_centre(CLI::App* app, int64_t& index) {
    return app->add_option("--centre,--center", index, "0-based atom index of the centre")
        ->type_name("I")
        ->check(non_negative_integer())
        ->required();
}

CLI::Option* add_frame(CLI::App* app, int64_t& index) {
    return app->add_option("--frame", index, "0-based frame of the input")->type_name("K")->check(non_negative_integer())->capture_default_str();
}

CLI::Option* add_svg(CLI::App* app, std::string& path, const std::string& what) {
    return app->add_option("--svg", path, what)->type_name("FILE");
}

CLI::Option* add_seed(CLI::App* app, uint64_t& seed, const std::string& what) {
    return app->add_option("--seed", seed, what)->type_name("S")->check(non_negative_integer())->capture_default_str();
}

void LabelKeyOptions::apply_to(LabelKeys& keys) const {
    if (!energy.empty()) keys.energy = energy;
    if (!forces.empty()) keys.forces = forces;
    if (!stress.empty()) keys.stress = stress;
    if (!virial.empty()) keys.virial = virial;
}

void add_label_keys(CLI::App* app, LabelKeyOptions& options) {
    const LabelKeys defaults;
    auto add = [app](const char* name, std::string& target, const std::string& fallback, const char* what) {
        app->add_option(name, target, std::string(what) + " (default \"" + fallback + "\")")->type_name("KEY");
    };
    add("--energy-key", options.energy, defaults.energy, "the comment-line key of the reference energy");
    add("--forces-key", options.forces, defaults.forces, "the per-atom column of the reference forces");
    add("--stress-key", options.stress, defaults.stress, "the comment-line key of the reference stress");
    add("--virial-key", options.virial, defaults.virial, "the comment-line key of the reference virial");
}

const CLI::Validator& non_negative_integer() {
    static const CLI::Validator validator(
        [](std::string& text) -> std::string {
            char* end = nullptr;
            const long long value = std::strtoll(text.c_str(), &end, 10);
            if (text.empty() || *end != '\0' || value < 0) return "'" + text + "' is not a non-negative integer";
            return {};
        },
        "");
    return validator;
}

const CLI::Validator& finite_number() {
    static const CLI::Validator validator(
        [](std::string& text) -> std::string {
            char* end = nullptr;
            const double value = std::strtod(text.c_str(), &end);
            if (text.empty() || *end != '\0' || !std::isfinite(value)) return "'" + text + "' is not a finite number";
            return {};
        },
        "");
    return validator;
}

std::string read_text_file(const std::string& path) {
    std::ifstream in = open_input_file(path, "input file");
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// No structure has more atoms than this; a longer range is a typing mistake.
constexpr int64_t max_index_range = 100000000;

std::vector<int64_t> parse_index_list(const std::string& text, const std::string& option) {
    std::vector<int64_t> out;
    std::istringstream stream(text);
    std::string item;
    auto number = [&](const std::string& s) {
        char* end = nullptr;
        long long v = std::strtoll(s.c_str(), &end, 10);
        if (s.empty() || *end != '\0' || v < 0) fail(Status::invalid_argument, "'", s, "' in ", option, " is not an atom index");
        return static_cast<int64_t>(v);
    };
    while (std::getline(stream, item, ',')) {
        auto dash = item.find('-');
        if (dash == std::string::npos) {
            out.push_back(number(item));
        } else {
            int64_t first = number(item.substr(0, dash)), last = number(item.substr(dash + 1));
            if (last < first) fail(Status::invalid_argument, "range '", item, "' in ", option, " is empty");
            if (last - first >= max_index_range) {
                fail(Status::invalid_argument, "range '", item, "' in ", option, " has more than ", max_index_range, " atoms");
            }
            for (int64_t i = first; i <= last; ++i) out.push_back(i);
        }
    }
    if (out.empty()) fail(Status::invalid_argument, option, " lists no atoms");
    return out;
}

std::vector<double> parse_number_list(const std::string& text, const std::string& option) {
    std::vector<double> out;
    std::stringstream stream(text);
    std::string item;
    while (std::getline(stream, item, ',')) {
        char* end = nullptr;
        out.push_back(std::strtod(item.c_str(), &end));
        if (item.empty() || *end != '\0' || !std::isfinite(out.back())) {
            fail(Status::invalid_argument, option, " '", text, "' is not a list of numbers");
        }
    }
    if (out.empty()) fail(Status::invalid_argument, option, " needs at least one value");
    return out;
}

std::string file_stem(const std::string& path) {
    const std::size_t slash = path.find_last_of('/');
    std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
    const std::size_t dot = name.rfind('.');
    return dot == std::string::npos || dot == 0 ? name : name.substr(0, dot);
}

}  // namespace atomfp::cli
