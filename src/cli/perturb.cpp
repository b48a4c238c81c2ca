#include "analysis/perturbation.hpp"
#include "analysis/sensitivity.hpp"
#include "cli/arguments.hpp"
#include "cli/centre_input.hpp"
#include "cli/commands.hpp"
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

const char* perturb_usage =
    "usage: atomfp perturb --spec SPEC.json [--spec ...] --center I --kind KIND INPUT.extxyz -o PREFIX\n"
    "\n"
    "Moves atoms along a path R(t) through the input configuration for amplitudes t from --t-min\n"
    "to --t-max and records |F(t) - F(0)| of the centre's features for every descriptor, with the\n"
    "log-log slope k of |F(t) - F(0)| ~ a t^k fitted at small t: k = 1 is linear sensitivity, k = 2\n"
    "a direction the descriptor sees only to second order.\n"
    "\n"
    "  --spec FILE         a descriptor (JSON); repeatable\n"
    "  --center I          0-based atom index of the centre\n"
    "  --kind KIND         radial:      --atom J (a neighbour of I) moves away from I by t\n"
    "                      tangential:  --atom J moves on its sphere about I by an arc length t\n"
    "                      translation: --atom J (default I) moves by t along --direction\n"
    "                      mode:        the environment moves along the (K+1)-th softest non-rigid\n"
    "                                   sensitivity mode of the first --spec (--mode K), scaled so\n"
    "                                   that t is the largest atomic move\n"
    "                      pattern:     every atom moves by t times its row of --pattern FILE (one\n"
    "                                   'dx dy dz' line per atom), scaled so that the largest row is 1\n"
    "  --atom J            the moved atom (0-based)\n"
    "  --direction D       x,y,z or 'random' (tangential, translation; default 1,0,0)\n"
    "  --mode K            see --kind mode (default 0)\n"
    "  --rattle SIGMA      first displace every atom but the centre by Gaussian noise of SIGMA Å\n"
    "  --seed S            seed of --rattle and of a random direction (default 1)\n"
    "  --t-min T, --t-max T, --per-decade N   amplitudes (default 1e-8, 0.1, 4)\n"
    "  --fit-max T         fit the slope over t <= T (default 1e-3)\n"
    "  --symmetric         also negative t, and plot the change projected on the path's own direction\n"
    "                      in feature space (Pozdnyakov et al. eqs 15-16) against signed t\n"
    "  --all-centres       record the change of every atom's features together (the structure's\n"
    "                      representation) instead of the centre's\n"
    "  --frame K           0-based frame of the input (default 0)\n"
    "  -o, --output PREFIX writes PREFIX.csv and PREFIX.svg\n"
    "  --help              show this message\n";

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
Perturbation perturbation_from_arguments(const Arguments& args, const CentreInput& input, const SystemView& system,
                                         const SystemView& one, const Descriptor& first, std::mt19937_64& generator) {
    const std::string kind = args.value("--kind");
    Perturbation perturbation;
    const std::vector<int64_t> atom = parse_index_list(args.value("--atom", std::to_string(input.center)));
    if (atom.size() != 1 || atom[0] >= input.frame.size()) fail(Status::invalid_argument, "--atom takes one atom index of the frame");
    perturbation.atom = atom[0];
    if (kind == "radial" || kind == "tangential") {
        if (!args.has("--atom")) fail(Status::invalid_argument, "--kind ", kind, " needs --atom J, a neighbour of the centre");
        bond_to_neighbour(one, 0, perturbation.atom, perturbation.bond);
        perturbation.kind = kind == "radial" ? PerturbationKind::radial : PerturbationKind::tangential;
    } else if (kind == "translation") {
        perturbation.kind = PerturbationKind::translation;
    } else if (kind == "mode") {
        perturbation.kind = PerturbationKind::pattern;
        const std::vector<int64_t> mode = parse_index_list(args.value("--mode", "0"));
        if (mode.size() != 1) fail(Status::invalid_argument, "--mode takes one index");
        perturbation.pattern = environment_mode_pattern(first, system, input.center, mode[0]);
    } else if (kind == "pattern") {
        if (!args.has("--pattern")) fail(Status::invalid_argument, "--kind pattern needs --pattern FILE");
        perturbation.kind = PerturbationKind::pattern;
        perturbation.pattern = read_pattern(args.value("--pattern"), input.frame.size());
    } else {
        fail(Status::invalid_argument, "--kind '", kind, "' is not radial, tangential, translation, mode or pattern");
    }
    const std::vector<double> direction = parse_direction(args.value("--direction", "1,0,0"), generator);
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

}  // namespace

int perturb(int argc, char** argv) {
    try {
        Arguments args(argc, argv,
                       {"--spec", "--center", "--kind", "--atom", "--direction", "--mode", "--rattle", "--seed", "--t-min",
                        "--t-max", "--per-decade", "--fit-max", "--frame", "--pattern", "-o", "--output"},
                       {"--help", "-h", "--symmetric", "--all-centres"});
        if (args.flag("--help") || args.flag("-h")) {
            std::fputs(perturb_usage, stdout);
            return 0;
        }
        const std::string prefix = args.has("-o") ? args.value("-o") : args.value("--output");
        if (!args.has("--spec") || !args.has("--center") || !args.has("--kind") || args.positional().size() != 1 ||
            prefix.empty()) {
            std::fputs(perturb_usage, stderr);
            return 2;
        }
        std::vector<std::unique_ptr<Descriptor>> descriptors;
        std::vector<std::string> names;
        double cutoff = 0.0;
        for (const std::string& path : args.values("--spec")) {
            descriptors.push_back(create_descriptor(read_text_file(path)));
            cutoff = std::max(cutoff, descriptors.back()->cutoff());
            names.push_back(file_stem(path));
        }
        const std::string kind = args.value("--kind");
        const double t_min = number_option(args, "--t-min", 1e-8), t_max = number_option(args, "--t-max", 0.1);
        const double fit_max = number_option(args, "--fit-max", 1e-3), rattle = number_option(args, "--rattle", 0.0);
        const double per_decade = number_option(args, "--per-decade", 4.0);
        const double seed = number_option(args, "--seed", 1.0);
        if (rattle < 0.0 || seed < 0.0 || per_decade < 1.0) fail(Status::invalid_argument, "--rattle, --seed and --per-decade must be positive");
        std::mt19937_64 generator(static_cast<uint64_t>(seed));

        // The list is built once with a skin that covers the largest move; pairs beyond each
        // descriptor's cutoff are ignored by it.
        CentreInput input = read_centre_input(args, cutoff + t_max + 4.0 * rattle + 0.1);
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
        const SystemView observed = args.flag("--all-centres") ? system : one;

        const Perturbation perturbation = perturbation_from_arguments(args, input, system, one, *descriptors[0], generator);

        std::vector<double> amplitudes = log_amplitudes(t_min, t_max, static_cast<int>(per_decade));
        if (args.flag("--symmetric")) {
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
                                                amplitudes, curves, args.flag("--symmetric"), t_max));

        std::printf("atomfp perturb: %s perturbation around centre %lld, t = %.3g ... %.3g A, slope fitted over t <= %.3g\n",
                    kind.c_str(), static_cast<long long>(input.center), t_min, t_max, fit_max);
        std::printf("  %-28s %10s %14s\n", "descriptor", "slope", "|dF| at t_max");
        for (std::size_t d = 0; d < curves.size(); ++d) {
            std::printf("  %-28s %10.3f %14.4e\n", names[d].c_str(), curves[d].slope, curves[d].change.back());
        }
        std::printf("  wrote %s.csv, %s.svg\n", prefix.c_str(), prefix.c_str());
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "atomfp perturb: %s\n", e.what());
        return 1;
    }
}

}  // namespace atomfp::cli
