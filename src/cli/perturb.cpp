#include "analysis/perturbation.hpp"
#include "analysis/sensitivity.hpp"
#include "cli/centre_input.hpp"
#include "cli/options.hpp"
#include "cli/svg_plot.hpp"
#include "core/error.hpp"
#include "descriptors/factory.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>

namespace atomfp::cli {

namespace {

struct PerturbOptions {
    std::vector<std::string> specs;
    std::string input, output, kind, direction = "1,0,0", pattern;
    int64_t centre = 0, frame = 0, atom = -1, mode = 0;
    double rattle = 0.0, t_min = 1e-8, t_max = 0.1, fit_max = 1e-3;
    int per_decade = 4;
    uint64_t seed = 1;
    bool symmetric = false, all_centres = false;
};

std::vector<double> parse_direction(const std::string& text, std::mt19937_64& generator) {
    if (text == "random") {
        std::normal_distribution<double> normal(0.0, 1.0);
        return {normal(generator), normal(generator), normal(generator)};
    }
    const std::vector<double> out = parse_number_list(text, "--direction");
    if (out.size() != 3) fail(Status::invalid_argument, "--direction '", text, "' is not x,y,z");
    return out;
}

// One "dx dy dz" line per atom (blank lines and lines starting with # skipped), largest row 1.
std::vector<double> read_pattern(const std::string& path, int64_t n_atoms) {
    std::istringstream lines(read_text_file(path));
    std::vector<double> pattern;
    std::string line;
    int line_number = 0;
    while (std::getline(lines, line)) {
        ++line_number;
        if (line.find_first_not_of(" \t\r") == std::string::npos || line[line.find_first_not_of(" \t")] == '#') continue;
        std::istringstream row(line);
        double v[3];
        std::string extra;
        if (!(row >> v[0] >> v[1] >> v[2]) || (row >> extra) || !std::isfinite(v[0] + v[1] + v[2])) {
            fail(Status::format, path, ":", line_number, ": expected three finite numbers 'dx dy dz'");
        }
        pattern.insert(pattern.end(), v, v + 3);
    }
    if (static_cast<int64_t>(pattern.size()) != 3 * n_atoms) {
        fail(Status::format, path, " has ", pattern.size() / 3, " rows but the frame has ", n_atoms, " atoms");
    }
    double largest = 0.0;
    for (std::size_t a = 0; a < pattern.size(); a += 3)
        largest = std::max(largest, std::sqrt(pattern[a] * pattern[a] + pattern[a + 1] * pattern[a + 1] + pattern[a + 2] * pattern[a + 2]));
    if (!(largest > 0.0)) fail(Status::format, path, " moves no atom");
    for (double& x : pattern) x /= largest;
    return pattern;
}

// The path --kind asks for, around centre `input.center` of `system` (whose positions are the
// reference); `one` is that centre alone, `first` the descriptor whose modes --kind mode follows.
Perturbation perturbation_from_options(const PerturbOptions& options, const CentreInput& input, const SystemView& system,
                                       const SystemView& one, const Descriptor& first, std::mt19937_64& generator) {
    const std::string& kind = options.kind;
    Perturbation perturbation;
    perturbation.atom = options.atom < 0 ? input.center : options.atom;
    if (perturbation.atom >= input.frame.size()) fail(Status::invalid_argument, "--atom takes one atom index of the frame");
    if (kind == "radial" || kind == "tangential") {
        if (options.atom < 0) fail(Status::invalid_argument, "--kind ", kind, " needs --atom J, a neighbour of the centre");
        bond_to_neighbour(one, 0, perturbation.atom, perturbation.bond);
        perturbation.kind = kind == "radial" ? PerturbationKind::radial : PerturbationKind::tangential;
    } else if (kind == "translation") {
        perturbation.kind = PerturbationKind::translation;
    } else if (kind == "mode") {
        perturbation.kind = PerturbationKind::pattern;
        perturbation.pattern = environment_mode_pattern(first, system, input.center, options.mode);
    } else {
        if (options.pattern.empty()) fail(Status::invalid_argument, "--kind pattern needs --pattern FILE");
        perturbation.kind = PerturbationKind::pattern;
        perturbation.pattern = read_pattern(options.pattern, input.frame.size());
    }
    const std::vector<double> direction = parse_direction(options.direction, generator);
    std::copy(direction.begin(), direction.end(), perturbation.direction);
    return perturbation;
}

// prefix.csv: t, then |F(t) - F(0)| and the projected change of every descriptor.
void write_curves(const std::string& prefix, const std::vector<std::string>& names, const std::vector<double>& amplitudes,
                  const std::vector<PerturbationCurve>& curves) {
    const std::size_t nd = curves.size(), nt = amplitudes.size();
    std::ofstream out(prefix + ".csv");
    if (!out) fail(Status::io, "cannot open '", prefix, ".csv' for writing");
    out << "t";
    for (const auto& name : names) out << ",change_" << name;
    for (const auto& name : names) out << ",projected_" << name;
    out << "\n";
    out.precision(12);
    for (std::size_t k = 0; k < nt; ++k) {
        out << amplitudes[k];
        for (std::size_t d = 0; d < nd; ++d) out << "," << curves[d].change[k];
        for (std::size_t d = 0; d < nd; ++d) out << "," << curves[d].projected[k];
        out << "\n";
    }
    if (!out) fail(Status::io, "cannot write '", prefix, ".csv'");
}

// The log-log change of every descriptor with its slope, and with --symmetric the projected change.
Figure curve_figure(const std::string& title, const std::vector<std::string>& names, const std::vector<double>& amplitudes,
                    const std::vector<PerturbationCurve>& curves, bool symmetric, double t_max) {
    const std::size_t nd = curves.size(), nt = amplitudes.size();
    Figure figure;
    figure.title = title;
    Panel loglog{"Descriptor change", "t / Å", "|F(t) - F(0)|", true, true, false, {}};
    for (std::size_t d = 0; d < nd; ++d) {
        Series s;
        char label[128];
        std::snprintf(label, sizeof label, "%s (slope %.2f)", names[d].c_str(), curves[d].slope);
        s.label = label;
        s.style = Series::Style::line_and_markers;
        for (std::size_t k = 0; k < nt; ++k) {
            if (amplitudes[k] > 0.0 && curves[d].change[k] > curves[d].noise_floor) {
                s.x.push_back(amplitudes[k]);
                s.y.push_back(curves[d].change[k]);
            }
        }
        loglog.series.push_back(std::move(s));
    }
    figure.panels.push_back(std::move(loglog));
    if (symmetric) {
        Panel signed_panel{"Change along the path's feature direction (eq 15)", "t / Å", "projected change", false, false,
                           false, {}};
        for (std::size_t d = 0; d < nd; ++d) {
            Series s;
            s.label = names[d];
            // Linear axes show the small-t shape only where t is comparable to the largest.
            for (std::size_t k = 0; k < nt; ++k) {
                if (std::abs(amplitudes[k]) >= 1e-3 * t_max) {
                    s.x.push_back(amplitudes[k]);
                    const std::vector<double>& p = curves[d].projected;
                    s.y.push_back(p[k] / std::max(std::abs(p.front()), std::abs(p.back())));
                }
            }
            signed_panel.series.push_back(std::move(s));
        }
        signed_panel.y_label = "projected change / its value at |t| = t_max";
        figure.panels.push_back(std::move(signed_panel));
        figure.columns = 2;
    }
    return figure;
}

void run_perturb(const PerturbOptions& options) {
    std::vector<std::unique_ptr<Descriptor>> descriptors;
    std::vector<std::string> names;
    double cutoff = 0.0;
    for (const std::string& path : options.specs) {
        descriptors.push_back(create_descriptor(read_text_file(path)));
        cutoff = std::max(cutoff, descriptors.back()->cutoff());
        names.push_back(file_stem(path));
    }
    const std::string& kind = options.kind;
    const double t_min = options.t_min, t_max = options.t_max, fit_max = options.fit_max, rattle = options.rattle;
    const std::string& prefix = options.output;
    std::mt19937_64 generator(options.seed);

    // The list is built once with a skin that covers the largest move; pairs beyond each
    // descriptor's cutoff are ignored by it.
    CentreInput input = read_centre_input(options.input, options.frame, options.centre, cutoff + t_max + 4.0 * rattle + 0.1);
    std::vector<double> reference = input.frame.positions;
    if (rattle > 0.0) {
        std::normal_distribution<double> normal(0.0, rattle);
        for (int64_t a = 0; a < input.frame.size(); ++a)
            if (a != input.center)
                for (int k = 0; k < 3; ++k) reference[3 * a + k] += normal(generator);
    }
    SystemView system = input.list.view();
    system.positions = reference.data();
    const CentreView centre(system, {input.center});
    const SystemView one = centre.view();
    const SystemView observed = options.all_centres ? system : one;

    const Perturbation perturbation = perturbation_from_options(options, input, system, one, *descriptors[0], generator);

    std::vector<double> amplitudes = log_amplitudes(t_min, t_max, options.per_decade);
    if (options.symmetric) {
        std::vector<double> negative;
        for (auto it = amplitudes.rbegin(); it != amplitudes.rend(); ++it) negative.push_back(-*it);
        amplitudes.insert(amplitudes.begin(), negative.begin(), negative.end());
    }
    std::vector<PerturbationCurve> curves;
    for (const auto& descriptor : descriptors) {
        curves.push_back(perturbation_curve(*descriptor, observed, perturbation, amplitudes, fit_max, std::max(1e-4, t_min)));
    }
    write_curves(prefix, names, amplitudes, curves);
    write_svg(prefix + ".svg", curve_figure(kind + " perturbation around centre " + std::to_string(input.center), names,
                                            amplitudes, curves, options.symmetric, t_max));

    std::printf("atomfp perturb: %s perturbation around centre %lld, t = %.3g ... %.3g A, slope fitted over t <= %.3g\n",
                kind.c_str(), static_cast<long long>(input.center), t_min, t_max, fit_max);
    std::printf("  %-28s %10s %14s\n", "descriptor", "slope", "|dF| at t_max");
    for (std::size_t d = 0; d < curves.size(); ++d) {
        std::printf("  %-28s %10.3f %14.4e\n", names[d].c_str(), curves[d].slope, curves[d].change.back());
    }
    std::printf("  wrote %s.csv, %s.svg\n", prefix.c_str(), prefix.c_str());
}

}  // namespace

Command add_perturb(CLI::App& tool) {
    auto options = std::make_shared<PerturbOptions>();
    CLI::App* app = add_command(tool, "perturb", "descriptor change along a perturbation path and its log-log slope",
                                "atomfp perturb --spec SPEC.json [--spec ...] --centre I --kind KIND INPUT.extxyz -o PREFIX [options]",
                                "Moves atoms along a path R(t) through the input configuration for amplitudes t from --t-min\n"
                                "to --t-max and records |F(t) - F(0)| of the centre's features for every descriptor, with the\n"
                                "log-log slope k of |F(t) - F(0)| ~ a t^k fitted at small t: k = 1 is linear sensitivity, k = 2\n"
                                "a direction the descriptor sees only to second order.\n"
                                "\n"
                                "KIND  radial:      --atom J (a neighbour of I) moves away from I by t\n"
                                "      tangential:  --atom J moves on its sphere about I by an arc length t\n"
                                "      translation: --atom J (default I) moves by t along --direction\n"
                                "      mode:        the environment moves along the (K+1)-th softest non-rigid sensitivity\n"
                                "                   mode of the first --spec (--mode K), scaled so that t is the largest\n"
                                "                   atomic move\n"
                                "      pattern:     every atom moves by t times its row of --pattern FILE (one 'dx dy dz'\n"
                                "                   line per atom), scaled so that the largest row is 1");
    const CLI::Validator positive = CLI::PositiveNumber.description("");
    add_input(app, options->input, "INPUT", "extended XYZ file");
    add_specs(app, options->specs, "a descriptor (JSON); repeatable")->required();
    add_centre(app, options->centre);
    app->add_option("--kind", options->kind, "the path (below)")
        ->check(CLI::IsMember({"radial", "tangential", "translation", "mode", "pattern"}))
        ->required();
    app->add_option("--atom", options->atom, "the moved atom (0-based)")->type_name("J")->check(non_negative_integer());
    app->add_option("--direction", options->direction, "x,y,z or 'random' (tangential, translation)")
        ->type_name("D")
        ->capture_default_str();
    app->add_option("--mode", options->mode, "see --kind mode")->type_name("K")->check(non_negative_integer())->capture_default_str();
    app->add_option("--pattern", options->pattern, "see --kind pattern")->type_name("FILE");
    app->add_option("--rattle", options->rattle, "first displace every atom but the centre by Gaussian noise of SIGMA Å")
        ->type_name("SIGMA")
        ->check(CLI::NonNegativeNumber.description(""))
        ->capture_default_str();
    add_seed(app, options->seed, "seed of --rattle and of a random direction");
    app->add_option("--t-min", options->t_min, "smallest amplitude (Å)")->type_name("T")->check(positive)->capture_default_str();
    app->add_option("--t-max", options->t_max, "largest amplitude (Å)")->type_name("T")->check(positive)->capture_default_str();
    app->add_option("--per-decade", options->per_decade, "amplitudes per decade")->type_name("N")->check(positive)->capture_default_str();
    app->add_option("--fit-max", options->fit_max, "fit the slope over t <= T")->type_name("T")->check(positive)->capture_default_str();
    app->add_flag("--symmetric", options->symmetric,
                  "also negative t, and plot the change projected on the path's own direction\n"
                  "in feature space (Pozdnyakov et al. 2021, eqs 15-16) against signed t");
    app->add_flag("--all-centres,--all-centers", options->all_centres,
                  "record the change of every atom's features together (the structure's\n"
                  "representation) instead of the centre's");
    add_frame(app, options->frame);
    add_output(app, options->output, "PREFIX", "writes PREFIX.csv and PREFIX.svg")->required();
    return {app, [options] { run_perturb(*options); }};
}

}  // namespace atomfp::cli
