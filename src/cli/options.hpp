// The command-line tool's shared vocabulary on CLI11: the help layout, the options that several
// commands share (spelled the same everywhere, British and American spellings both accepted), and
// the small parsers for list-valued options.
#pragma once

#include "io/frame.hpp"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace atomfp::cli {

// A subcommand: its CLI11 definition and what runs it once its arguments are parsed. `run` throws
// on failure; the tool's main turns every exception into one message and an exit status.
struct Command {
    CLI::App* app = nullptr;
    std::function<void()> run;
};

Command add_describe(CLI::App& tool);
Command add_optimize_basis(CLI::App& tool);
Command add_sensitivity(CLI::App& tool);
Command add_manifold(CLI::App& tool);
Command add_perturb(CLI::App& tool);
Command add_fit(CLI::App& tool);
Command add_predict(CLI::App& tool);
Command add_info(CLI::App& tool);
Command add_scan(CLI::App& tool);
Command add_compare(CLI::App& tool);
Command add_select(CLI::App& tool);
Command add_dims(CLI::App& tool);
Command add_kim_model(CLI::App& tool);
Command add_audit(CLI::App& tool);
Command add_learn(CLI::App& tool);

// Help as "usage: <synopsis>", the one-line summary, the details (the app's footer), then the
// arguments and options. The synopsis of each command is registered with `set_usage`.
class HelpFormatter : public CLI::Formatter {
public:
    HelpFormatter();
    std::string make_help(const CLI::App* app, std::string name, CLI::AppFormatMode mode) const override;
    std::string make_subcommand(const CLI::App* sub) const override;
};

// The usage lines printed first by `atomfp <command> --help` (without the leading "usage: ").
void set_usage(CLI::App* app, const std::string& synopsis);

// A command of the tool: `summary` is its line in `atomfp --help`, `synopsis` its usage lines and
// `details` the paragraphs its --help prints before the option table.
CLI::App* add_command(CLI::App& tool, const std::string& name, const std::string& summary, const std::string& synopsis,
                      const std::string& details);

// Makes a vector option take one value per occurrence (`--spec a --spec b`); without this CLI11
// lets it take every following word, the positional input included.
CLI::Option* repeatable(CLI::Option* option);

// -o/--output: where the command's output goes, everywhere. `kind` is FILE where the command writes
// one file, PREFIX where it writes several (PREFIX.csv, PREFIX.svg, ...), DIR for kim-model.
CLI::Option* add_output(CLI::App* app, std::string& target, const std::string& kind, const std::string& what);
// --svg FILE: a figure of the command's results (checked writable before the work starts).
CLI::Option* add_svg(CLI::App* app, std::string& path, const std::string& what);
// A required positional argument (the input file, or kim-model's NAME).
CLI::Option* add_input(CLI::App* app, std::string& path, const std::string& name, const std::string& what);
// --spec FILE once, or repeatable.
CLI::Option* add_spec(CLI::App* app, std::string& path, const std::string& what);
CLI::Option* add_specs(CLI::App* app, std::vector<std::string>& paths, const std::string& what);
// --centre/--center I and --frame K of the commands that study one environment.
CLI::Option* add_centre(CLI::App* app, int64_t& index);
CLI::Option* add_frame(CLI::App* app, int64_t& index);
// --seed S: a non-negative integer.
CLI::Option* add_seed(CLI::App* app, uint64_t& seed, const std::string& what);

// --energy-key, --forces-key, --stress-key, --virial-key: the names of the labels in the input
// file. Each given option replaces the matching key of `keys` (which may hold a configuration's).
struct LabelKeyOptions {
    std::string energy, forces, stress, virial;  // empty: not given
    void apply_to(LabelKeys& keys) const;
};
void add_label_keys(CLI::App* app, LabelKeyOptions& options);

// Validators with messages that name the value: a 0-based index (non-negative integer), and a
// finite number.
const CLI::Validator& non_negative_integer();
const CLI::Validator& finite_number();

// The whole file as text; throws Error(io) if it cannot be read.
std::string read_text_file(const std::string& path);

// "0,3-5" -> {0, 3, 4, 5}; throws Error(invalid_argument) naming `option` for malformed lists.
std::vector<int64_t> parse_index_list(const std::string& text, const std::string& option);

// "0.1,2,3e-4" -> {0.1, 2, 3e-4}, every entry finite; throws Error(invalid_argument) naming `option`.
std::vector<double> parse_number_list(const std::string& text, const std::string& option);

// "dir/soap.json" -> "soap": names descriptors in tables and CSV columns.
std::string file_stem(const std::string& path);

}  // namespace atomfp::cli
