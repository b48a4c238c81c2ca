#include "analysis/manifold.hpp"
#include "analysis/superposition.hpp"
#include "cli/centre_input.hpp"
#include "cli/options.hpp"
#include "cli/svg_plot.hpp"
#include "core/error.hpp"
#include "core/lapack.hpp"
#include "descriptors/factory.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>

namespace atomfp::cli {

namespace {

struct ManifoldCommandOptions {
    std::string spec, input, output, tracer;
    std::vector<std::string> probes;
    int64_t centre = 0, frame = 0;
};

// The frames superposed on the first (rotation and translation only), so that what remains is the
// internal motion: a closed loop in internal coordinates can accumulate a net rotation otherwise.
std::vector<double> superposed_frames(const ManifoldTrace& trace) {
    const int64_t n = 3 * trace.n_atoms;
    std::vector<double> out;
    for (int64_t f = 0; f < trace.n_frames(); ++f) {
        const std::vector<double> frame =
            superposed_positions(trace.n_atoms, trace.positions.data(), trace.positions.data() + f * n);
        out.insert(out.end(), frame.begin(), frame.end());
    }
    return out;
}

// Every atom's path about its mean position, projected on the plane of the two largest principal
// components of the motion: the rings of Parsaeifard & Goedecker's Fig. 1, at a readable scale.
void principal_plane(const ManifoldTrace& trace, const std::vector<double>& positions, std::vector<double>& u,
                     std::vector<double>& v) {
    const int64_t frames = trace.n_frames(), n = 3 * trace.n_atoms;
    std::vector<double> mean(n, 0.0), centred(positions.size());
    for (int64_t f = 0; f < frames; ++f)
        for (int64_t k = 0; k < n; ++k) mean[k] += positions[f * n + k] / static_cast<double>(frames);
    for (int64_t f = 0; f < frames; ++f)
        for (int64_t k = 0; k < n; ++k) centred[f * n + k] = positions[f * n + k] - mean[k];
    std::vector<double> covariance(9, 0.0), eigenvalues;
    for (std::size_t p = 0; p < centred.size(); p += 3)
        for (int i = 0; i < 3; ++i)
            for (int j = 0; j < 3; ++j) covariance[3 * i + j] += centred[p + i] * centred[p + j];
    symmetric_eigen(3, covariance, eigenvalues);
    const double* e1 = covariance.data() + 6;
    const double* e2 = covariance.data() + 3;
    u.clear();
    v.clear();
    for (std::size_t p = 0; p < centred.size(); p += 3) {
        u.push_back(centred[p] * e1[0] + centred[p + 1] * e1[1] + centred[p + 2] * e1[2]);
        v.push_back(centred[p] * e2[0] + centred[p + 1] * e2[1] + centred[p + 2] * e2[2]);
    }
}

Figure manifold_figure(const ManifoldTrace& trace, const std::vector<double>& superposed,
                       const std::vector<std::string>& names, const std::string& title) {
    const int64_t frames = trace.n_frames(), n = 3 * trace.n_atoms, nd = trace.n_descriptors;
    std::vector<double> index(frames);
    for (int64_t f = 0; f < frames; ++f) index[f] = static_cast<double>(f);

    Panel path{"Atomic paths about their mean positions", "u / Å", "v / Å", false, false, true, {}};
    std::vector<double> u, v;
    principal_plane(trace, superposed, u, v);
    for (int64_t a = 0; a < trace.n_atoms; ++a) {
        Series s;
        s.style = Series::Style::line;
        s.label = a == 0 ? "centre" : "atom " + std::to_string(a);
        for (int64_t f = 0; f < frames; ++f) {
            s.x.push_back(u[f * trace.n_atoms + a]);
            s.y.push_back(v[f * trace.n_atoms + a]);
        }
        path.series.push_back(std::move(s));
    }

    Panel distances{"Fingerprint distance to the start", "frame", "|F - F_0|", false, true, false, {}};
    const char* const colours[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"};
    for (int64_t d = 0; d < nd; ++d) {
        Series on{names[d] + " on the path", index, {}, Series::Style::markers, Series::Marker::triangle, colours[d % 6]};
        Series off{names[d] + " random, same D", index, {}, Series::Style::markers, Series::Marker::circle, colours[d % 6]};
        for (int64_t f = 0; f < frames; ++f) {
            on.y.push_back(trace.distances[f * nd + d]);
            off.y.push_back(trace.random_distances[f * nd + d]);
        }
        distances.series.push_back(std::move(on));
        distances.series.push_back(std::move(off));
    }
    Panel displacement{"Displacement from the start", "frame", "D / Å", false, false, false, {}};
    displacement.series.push_back({"", index, trace.displacement, Series::Style::line, Series::Marker::circle, "#000"});

    Panel spectrum{"Sensitivity eigenvalues (rigid modes and the largest not shown)", "frame", "eigenvalue", false, true,
                   false, {}};
    for (int64_t k = trace.n_rigid; k < n - 1; ++k) {
        Series s;
        s.label = k == trace.n_rigid ? "softest" : "";
        s.x = index;
        for (int64_t f = 0; f < frames; ++f) s.y.push_back(trace.eigenvalues[f * n + k]);
        spectrum.series.push_back(std::move(s));
    }
    Figure figure;
    figure.title = title;
    figure.columns = 2;
    figure.panels = {path, distances, displacement, spectrum};
    return figure;
}

void run_manifold(const ManifoldCommandOptions& cli_options) {
    std::string options_text = cli_options.tracer;
    if (!options_text.empty() && options_text.find('{') == std::string::npos) options_text = read_text_file(options_text);
    const ManifoldOptions options = ManifoldOptions::parse(options_text);

    auto traced = create_descriptor(read_text_file(cli_options.spec));
    std::vector<std::unique_ptr<Descriptor>> probe_owners;
    std::vector<const Descriptor*> probes;
    std::vector<std::string> names = {file_stem(cli_options.spec)};
    for (const std::string& path : cli_options.probes) {
        probe_owners.push_back(create_descriptor(read_text_file(path)));
        probes.push_back(probe_owners.back().get());
        names.push_back(file_stem(path));
    }
    const CentreInput input = read_centre_input(cli_options.input, cli_options.frame, cli_options.centre, traced->cutoff());
    const ManifoldTrace trace = trace_manifold(*traced, probes, input.list.view(), input.center, options);

    const std::string& prefix = cli_options.output;
    const int64_t frames = trace.n_frames(), n = 3 * trace.n_atoms, nd = trace.n_descriptors;
    const std::vector<double> superposed = superposed_frames(trace);
    {
        std::ofstream out(prefix + ".extxyz");
        if (!out) fail(Status::io, "cannot open '", prefix, ".extxyz' for writing");
        for (int64_t f = 0; f < frames; ++f) {
            Frame frame;
            frame.species = trace.species;
            frame.positions.assign(superposed.begin() + f * n, superposed.begin() + (f + 1) * n);
            frame.info["step"] = std::to_string(f);
            frame.info["D"] = std::to_string(trace.displacement[f]);
            write_extxyz(out, frame);
        }
        if (!out) fail(Status::io, "cannot write '", prefix, ".extxyz'");
    }
    {
        std::ofstream out(prefix + ".csv");
        if (!out) fail(Status::io, "cannot open '", prefix, ".csv' for writing");
        // The moments of the bond-length and angle distributions, which a three-body manifold keeps,
        // and the largest change of a single bond and angle from the first frame (labels follow the
        // path continuously, so no relabelling is needed).
        const EnvironmentGeometry start = environment_geometry(trace.n_atoms, trace.positions.data());
        out << "step,step_size,D,mean_r,mean_r2,mean_cos,mean_cos2,max_bond_change,max_angle_change_deg";
        for (int64_t d = 0; d < nd; ++d) out << ",distance_" << names[d];
        for (int64_t d = 0; d < nd; ++d) out << ",random_" << names[d];
        for (int64_t k = trace.n_rigid; k < n; ++k) out << ",lambda_" << k - trace.n_rigid;
        out << "\n";
        out.precision(10);
        for (int64_t f = 0; f < frames; ++f) {
            const EnvironmentGeometry g = environment_geometry(trace.n_atoms, trace.positions.data() + f * n);
            double bond_change = 0, angle_change = 0;
            for (std::size_t j = 0; j < g.distances.size(); ++j) bond_change = std::max(bond_change, std::abs(g.distances[j] - start.distances[j]));
            for (std::size_t j = 0; j < g.cosines.size(); ++j) {
                angle_change = std::max(angle_change, std::abs(std::acos(std::clamp(g.cosines[j], -1.0, 1.0)) -
                                                               std::acos(std::clamp(start.cosines[j], -1.0, 1.0))));
            }
            out << f << "," << trace.step_sizes[f] << "," << trace.displacement[f] << "," << g.mean_distance << ","
                << g.mean_squared_distance << "," << g.mean_cosine << "," << g.mean_squared_cosine << "," << bond_change << ","
                << angle_change * 180.0 / M_PI;
            for (int64_t d = 0; d < nd; ++d) out << "," << trace.distances[f * nd + d];
            for (int64_t d = 0; d < nd; ++d) out << "," << trace.random_distances[f * nd + d];
            for (int64_t k = trace.n_rigid; k < n; ++k) out << "," << trace.eigenvalues[f * n + k];
            out << "\n";
        }
        if (!out) fail(Status::io, "cannot write '", prefix, ".csv'");
    }
    write_svg(prefix + ".svg",
              manifold_figure(trace, superposed, names, "Manifold of " + names[0] + " around centre " + std::to_string(input.center)));

    const int64_t peak = std::max_element(trace.displacement.begin(), trace.displacement.end()) - trace.displacement.begin();
    double softest_min = INFINITY, softest_max = 0.0;
    for (int64_t f = 0; f < frames; ++f) {
        softest_min = std::min(softest_min, trace.eigenvalues[f * n + trace.n_rigid]);
        softest_max = std::max(softest_max, trace.eigenvalues[f * n + trace.n_rigid]);
    }
    std::printf("atomfp manifold: %lld environment atoms, %lld frames, %s\n", static_cast<long long>(trace.n_atoms),
                static_cast<long long>(frames), trace.closed ? "closed loop" : "open path (step limit)");
    std::printf("  softest non-rigid eigenvalue%s along the path: %.3e ... %.3e\n", options.scale_max ? " (scaled)" : "",
                softest_min, softest_max);
    std::printf("  largest displacement D = %.4f A at frame %lld\n", trace.displacement[peak], static_cast<long long>(peak));
    std::printf("  %-24s %14s %14s %10s\n", "descriptor", "|F - F_0|", "random, same D", "ratio");
    for (int64_t d = 0; d < nd; ++d) {
        const double on = trace.distances[peak * nd + d], off = trace.random_distances[peak * nd + d];
        std::printf("  %-24s %14.4e %14.4e %10.4f\n", (names[d] + (d == 0 ? " (traced)" : "")).c_str(), on, off,
                    off > 0.0 ? on / off : 0.0);
    }
    std::printf("  wrote %s.extxyz, %s.csv, %s.svg\n", prefix.c_str(), prefix.c_str(), prefix.c_str());
}

}  // namespace

Command add_manifold(CLI::App& tool) {
    auto options = std::make_shared<ManifoldCommandOptions>();
    CLI::App* app = add_command(tool, "manifold", "trace a manifold of quasi-constant fingerprint from one centre's environment",
                                "atomfp manifold --spec SPEC.json --centre I INPUT.extxyz -o PREFIX [options]",
                                "Traces a manifold of quasi-constant fingerprint (Parsaeifard & Goedecker 2022): starting from\n"
                                "the environment of centre I (the centre and its neighbours inside the cutoff, as an open\n"
                                "cluster), it steps along the softest non-rigid eigenvector of the sensitivity matrix with a\n"
                                "predictor-corrector step and step control. For every frame it records the displacement D from\n"
                                "the start (largest atomic deviation after superposition, modulo relabelling of like\n"
                                "neighbours), the fingerprint distance to the start of the traced and of every probe\n"
                                "descriptor, the mean distance of random displacements with the same D, and the sensitivity\n"
                                "spectrum.");
    add_input(app, options->input, "INPUT", "extended XYZ file");
    add_spec(app, options->spec, "the traced descriptor (JSON)")->required();
    repeatable(app->add_option("--probe", options->probes, "a probe descriptor (JSON); repeatable")->type_name("FILE"));
    add_centre(app, options->centre);
    add_frame(app, options->frame);
    app->add_option("--options", options->tracer,
                    "tracer options as inline JSON or a JSON file: steps, step, min_step,\n"
                    "max_step, tolerance, mode, scale_max, stop_at_loop, loop_tolerance,\n"
                    "random_samples, seed, permutations (see docs/sensitivity.md)")
        ->type_name("JSON");
    add_output(app, options->output, "PREFIX", "writes PREFIX.extxyz (the frames superposed on the first),\nPREFIX.csv and PREFIX.svg")
        ->required();
    return {app, [options] { run_manifold(*options); }};
}

}  // namespace atomfp::cli
