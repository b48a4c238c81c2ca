// atomfp audit: how far a dataset can trust a model, and its descriptor, in one self-contained HTML
// report (SVG figures inline) with a JSON summary: per-centre posterior variances against the
// training data, extrapolation counts, the blind-spot index with the worst environments, the
// feature-space completeness of the descriptor against a finer and a higher-body-order one (GFRE),
// and how the blind-spot index and the GFRE converge with the basis.
#include "analysis/feature_space.hpp"
#include "analysis/sensitivity.hpp"
#include "cli/options.hpp"
#include "cli/progress.hpp"
#include "cli/svg_plot.hpp"
#include "core/elements.hpp"
#include "core/error.hpp"
#include "core/json_spec.hpp"
#include "descriptors/descriptor.hpp"
#include "descriptors/factory.hpp"
#include "io/atomic_output.hpp"
#include "io/extxyz.hpp"
#include "models/evaluation.hpp"
#include "models/model_file.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <sstream>

namespace atomfp::cli {

namespace {

struct AuditOptions {
    std::string input, model, spec, training, output;
    int64_t max_environments = 2000;
    int64_t blind_spot_environments = 300;
    double threshold = 1e-6;
    uint64_t seed = 1;
    LabelKeyOptions labels;
};

struct Environment {
    int64_t frame = 0, atom = 0;
    int32_t species = 0;
};

// A GFRE above this means the target descriptor holds information the audited one lacks.
constexpr double gfre_tolerance = 0.05;

std::string html_escape(const std::string& text) {
    std::string out;
    for (char c : text) {
        if (c == '<') out += "&lt;";
        else if (c == '>') out += "&gt;";
        else if (c == '&') out += "&amp;";
        else if (c == '"') out += "&quot;";
        else out += c;
    }
    return out;
}

std::string format(const char* pattern, double value) {
    char text[64];
    std::snprintf(text, sizeof text, pattern, value);
    return text;
}

// An inline figure: render_svg's document without its XML declaration.
std::string inline_svg(const Figure& figure) {
    std::string svg = render_svg(figure);
    const size_t start = svg.find("<svg");
    return start == std::string::npos ? svg : svg.substr(start);
}

double median(std::vector<double> values) {
    if (values.empty()) return NAN;
    const size_t mid = values.size() / 2;
    std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid), values.end());
    return values[mid];
}

// Fractions per bin of log10(value) over shared edges: one series per group, drawn as a line.
Panel log_histogram(const std::string& title, const std::string& x_label,
                    const std::vector<std::pair<std::string, std::vector<double>>>& groups) {
    double lo = INFINITY, hi = -INFINITY;
    for (const auto& [name, values] : groups)
        for (double v : values)
            if (v > 0 && std::isfinite(v)) lo = std::min(lo, std::log10(v)), hi = std::max(hi, std::log10(v));
    Panel panel(title, x_label, "fraction of environments");
    if (!(hi >= lo)) return panel;
    if (hi - lo < 1e-9) lo -= 0.5, hi += 0.5;
    for (const auto& [name, values] : groups) {
        std::vector<double> logs;
        for (double v : values)
            if (v > 0) logs.push_back(std::log10(v));
        panel.series.push_back(histogram_series(name, logs, lo, hi, 30, true));
    }
    return panel;
}

// The features [environments][n_features] of the listed environments, grouped by frame so that each
// frame's neighbour list and features are built once.
FeatureMatrix environment_features(const Descriptor& descriptor, const std::vector<Frame>& frames,
                                   const std::vector<Environment>& environments) {
    FeatureMatrix x(static_cast<int64_t>(environments.size()), descriptor.feature_count());
    std::map<int64_t, std::vector<size_t>> by_frame;
    for (size_t e = 0; e < environments.size(); ++e) by_frame[environments[e].frame].push_back(e);
    std::vector<double> features;
    for (const auto& [frame, rows] : by_frame) {
        const NeighbourList list = neighbours_of(frames[frame], descriptor.cutoff());
        features.resize(static_cast<size_t>(frames[frame].size() * x.cols));
        compute(descriptor, list.view(), features.data(), nullptr);
        for (size_t e : rows) {
            std::copy_n(features.begin() + environments[e].atom * x.cols, x.cols, x.values.begin() + static_cast<int64_t>(e) * x.cols);
        }
    }
    return x;
}

std::vector<BlindSpot> blind_spots(const Descriptor& descriptor, const std::vector<Frame>& frames,
                                   const std::vector<Environment>& environments, double threshold, const ProgressBar& bar,
                                   const std::string& stage) {
    std::vector<BlindSpot> out(environments.size());
    std::map<int64_t, std::vector<size_t>> by_frame;
    for (size_t e = 0; e < environments.size(); ++e) by_frame[environments[e].frame].push_back(e);
    int64_t done = 0;
    for (const auto& [frame, rows] : by_frame) {
        const NeighbourList list = neighbours_of(frames[frame], descriptor.cutoff());
        for (size_t e : rows) {
            out[e] = blind_spot(descriptor, list.view(), environments[e].atom, threshold);
            bar.show(stage, ++done, static_cast<int64_t>(environments.size()), "environments");
        }
    }
    return out;
}

// Up to `cap` environments of the data, diverse in the descriptor's feature space: a seeded uniform
// reservoir of 4 cap first (memory stays bounded whatever the data's size), then farthest-point
// sampling down to cap. The order is the sampling order, most distinct first.
std::vector<Environment> sample_environments(const Descriptor& descriptor, const std::vector<Frame>& frames, int64_t cap,
                                             uint64_t seed, const ProgressBar& bar) {
    std::vector<Environment> reservoir;
    const int64_t reservoir_size = 4 * cap;
    std::mt19937_64 generator(seed);
    int64_t seen = 0;
    for (int64_t f = 0; f < static_cast<int64_t>(frames.size()); ++f) {
        for (int64_t i = 0; i < frames[f].size(); ++i, ++seen) {
            const Environment e{f, i, frames[f].species[i]};
            if (static_cast<int64_t>(reservoir.size()) < reservoir_size) {
                reservoir.push_back(e);
            } else {
                const auto k = static_cast<int64_t>(generator() % static_cast<uint64_t>(seen + 1));
                if (k < reservoir_size) reservoir[k] = e;
            }
        }
        bar.show("sampling environments", f + 1, static_cast<int64_t>(frames.size()));
    }
    std::sort(reservoir.begin(), reservoir.end(),
              [](const Environment& a, const Environment& b) { return a.frame != b.frame ? a.frame < b.frame : a.atom < b.atom; });
    if (static_cast<int64_t>(reservoir.size()) <= 2) return reservoir;
    const FeatureMatrix x = environment_features(descriptor, frames, reservoir);
    const std::vector<int64_t> order = fps_select_rows(standardized(x, "features"), std::min<int64_t>(cap, x.rows));
    std::vector<Environment> chosen;
    for (int64_t r : order) chosen.push_back(reservoir[r]);
    return chosen;
}

// The SOAP-family variants the completeness and convergence sections compare with; empty for other
// descriptor types.
bool is_soap_family(const json& parameters) {
    const std::string type = parameters.value("type", "");
    return type.rfind("soap_", 0) == 0 && parameters.contains("max_radial") && parameters.contains("max_angular") &&
           type != "soap_radial_spectrum";
}

json with_basis(json parameters, int n, int l) {
    parameters["max_radial"] = n;
    parameters["max_angular"] = l;
    return parameters;
}

struct Comparison {
    std::string name;
    json spec;
    int64_t features = 0;
    double forward = NAN;   // GFRE(audited -> this): what this holds that the audited descriptor lacks
    double backward = NAN;  // GFRE(this -> audited)
};

struct ConvergencePoint {
    int n = 0, l = 0;
    int64_t features = 0;
    double gfre_to_reference = NAN;
    double median_index = NAN;
    double median_soft = NAN;
};

std::string table_row(const std::vector<std::string>& cells, bool header = false) {
    std::string row = "<tr>";
    for (const std::string& c : cells) row += (header ? "<th>" : "<td>") + c + (header ? "</th>" : "</td>");
    return row + "</tr>\n";
}

void run_audit(const AuditOptions& options) {
    if (options.model.empty() == options.spec.empty()) fail(Status::invalid_argument, "give exactly one of --model and --spec");
    const std::string html_path = options.output + ".html", json_path = options.output + ".json";
    check_writable(html_path);
    check_writable(json_path);
    std::unique_ptr<Model> model;
    std::shared_ptr<const Descriptor> owned;
    if (!options.model.empty()) {
        model = std::make_unique<Model>(load_model(options.model));
    } else {
        owned = create_descriptor(read_text_file(options.spec));
    }
    const Descriptor& descriptor = model ? model->descriptor() : *owned;
    LabelKeys labels;
    options.labels.apply_to(labels);
    const std::vector<Frame> frames = read_extxyz(options.input, labels);
    if (frames.empty()) fail(Status::invalid_argument, options.input, " holds no structures");
    const ProgressBar bar("structures");
    json summary = {{"data", options.input}, {"structures", frames.size()}, {"descriptor", descriptor.parameters()}};
    std::string body;
    std::printf("atomfp audit: %zu structures from %s\n", frames.size(), options.input.c_str());

    std::map<int32_t, int64_t> atoms_per_species;
    std::map<std::string, int64_t> structures_per_type;
    for (const Frame& f : frames) {
        for (int32_t z : f.species) ++atoms_per_species[z];
        ++structures_per_type[config_type_of(f)];
    }
    body += "<h2>Data</h2>\n<p>" + std::to_string(frames.size()) + " structures from <code>" + html_escape(options.input) +
            "</code>; descriptor <code>" + html_escape(descriptor.parameters().dump()) + "</code>" +
            (model ? "; model <code>" + html_escape(options.model) + "</code>" : std::string()) + ".</p>\n<table>\n" +
            table_row({"species", "atoms"}, true);
    for (const auto& [z, n] : atoms_per_species) body += table_row({element_symbol(z), std::to_string(n)});
    body += "</table>\n<table>\n" + table_row({"config_type", "structures"}, true);
    for (const auto& [type, n] : structures_per_type) body += table_row({html_escape(type), std::to_string(n)});
    body += "</table>\n";

    // ---- the model's signals on every centre
    if (model) {
        const bool variances = model->covariance() != nullptr, ranges = model->has_feature_ranges();
        auto predict_all = [&](const std::vector<Frame>& data, const std::string& stage) {
            std::vector<FramePrediction> out;
            for (size_t a = 0; a < data.size(); ++a) {
                out.push_back(predict_frames(*model, {data[a]}, false, false, variances, ranges).front());
                bar.show(stage, static_cast<int64_t>(a + 1), static_cast<int64_t>(data.size()));
            }
            return out;
        };
        const std::vector<FramePrediction> predictions = predict_all(frames, "variances of the data");
        body += "<h2>Predictive variance</h2>\n";
        if (!variances) {
            body += "<p>This model carries no posterior covariance (kernel ridge regression, a fit with "
                    "<code>\"predictive_variance\": false</code>, or a file older than format version 3): no variances.</p>\n";
            summary["variance"] = nullptr;
        } else {
            std::map<std::string, std::vector<double>> by_species, by_type;
            for (size_t a = 0; a < frames.size(); ++a) {
                for (int64_t i = 0; i < frames[a].size(); ++i) {
                    by_species[element_symbol(frames[a].species[i])].push_back(predictions[a].centre_variances[i]);
                    by_type[config_type_of(frames[a])].push_back(predictions[a].centre_variances[i]);
                }
            }
            std::vector<std::pair<std::string, std::vector<double>>> species_groups(by_species.begin(), by_species.end()),
                type_groups(by_type.begin(), by_type.end());
            json variance = json::object();
            std::string rows = table_row({"group", "environments", "median σ² (eV²)", "largest σ² (eV²)"}, true);
            auto describe = [&](const std::string& label, const std::vector<double>& v) {
                const double largest = *std::max_element(v.begin(), v.end());
                variance[label] = {{"environments", v.size()}, {"median", median(v)}, {"largest", largest}};
                rows += table_row({html_escape(label), std::to_string(v.size()), format("%.3e", median(v)), format("%.3e", largest)});
            };
            for (const auto& [name, v] : species_groups) describe("data, " + name, v);
            for (const auto& [name, v] : type_groups) describe("data, config_type " + name, v);
            if (!options.training.empty()) {
                const std::vector<Frame> training = read_extxyz(options.training, labels);
                const std::vector<FramePrediction> trained = predict_all(training, "variances of the training data");
                std::map<std::string, std::vector<double>> training_species;
                for (size_t a = 0; a < training.size(); ++a)
                    for (int64_t i = 0; i < training[a].size(); ++i)
                        training_species[element_symbol(training[a].species[i])].push_back(trained[a].centre_variances[i]);
                for (const auto& [name, v] : training_species) {
                    describe("training, " + name, v);
                    species_groups.push_back({"training, " + name, v});
                }
            }
            Figure figure;
            figure.columns = 2;
            figure.panels.push_back(log_histogram("Per-centre variance by species", "log10 σ² / eV²", species_groups));
            figure.panels.push_back(log_histogram("Per-centre variance by config_type", "log10 σ² / eV²", type_groups));
            body += "<p>The posterior variance σ² of each centre's local energy (docs/models.md): large where the "
                    "centre's fingerprint is far from every reference environment. Compare the data's distribution with "
                    "the training data's (<code>--training</code>): a tail to the right is extrapolation.</p>\n" +
                    inline_svg(figure) + "<table>\n" + rows + "</table>\n";
            const Calibration c = calibrate(frames, predictions);
            if (c.n > 0) {
                variance["calibration"] = c.to_json();
                body += "<p>Against the " + std::to_string(c.n) + " reference energies of the data: " +
                        format("%.0f", 100 * c.within_one_sigma) + " % of the errors within 1σ (68 % if calibrated), " +
                        format("%.0f", 100 * c.within_two_sigma) + " % within 2σ (95 %); the variance scale that would fit "
                        "these errors is " + format("%.3g", c.likelihood_scale) + ".</p>\n";
            }
            summary["variance"] = variance;
        }
        body += "<h2>Extrapolation</h2>\n";
        if (!ranges) {
            body += "<p>This model carries no training ranges of its features (a file older than format version 3).</p>\n";
            summary["extrapolation"] = nullptr;
        } else {
            std::map<std::string, std::pair<int64_t, int64_t>> by_type;  // extrapolating, all
            int64_t extrapolating = 0, all = 0;
            for (size_t a = 0; a < frames.size(); ++a) {
                auto& [out, n] = by_type[config_type_of(frames[a])];
                for (int64_t k : predictions[a].features_outside) {
                    out += k > 0;
                    ++n;
                }
            }
            json extrapolation = json::object();
            std::string rows = table_row({"config_type", "environments", "with features outside the training range"}, true);
            for (const auto& [type, counts] : by_type) {
                extrapolation[type] = {{"environments", counts.second}, {"extrapolating", counts.first}};
                rows += table_row({html_escape(type), std::to_string(counts.second),
                                   std::to_string(counts.first) + " (" + format("%.0f", 100.0 * counts.first / counts.second) + " %)"});
                extrapolating += counts.first;
                all += counts.second;
            }
            summary["extrapolation"] = extrapolation;
            body += "<p>A centre extrapolates when a feature leaves the range it took over the training environments "
                    "of its species (as n2p2 warns). " + std::to_string(extrapolating) + " of " + std::to_string(all) +
                    " environments do.</p>\n<table>\n" + rows + "</table>\n";
        }
    }

    // ---- sampled environments: blind spots, completeness, convergence
    const std::vector<Environment> sample = sample_environments(descriptor, frames, options.max_environments, options.seed, bar);
    std::printf("  %zu environments sampled (farthest-point sampling, at most %lld)\n", sample.size(),
                static_cast<long long>(options.max_environments));
    summary["sampled_environments"] = sample.size();
    const std::vector<Environment> probed(sample.begin(),
                                          sample.begin() + std::min<int64_t>(options.blind_spot_environments, static_cast<int64_t>(sample.size())));
    const std::vector<BlindSpot> spots = blind_spots(descriptor, frames, probed, options.threshold, bar, "blind-spot index");
    {
        std::map<std::string, std::vector<double>> by_species;
        for (size_t e = 0; e < probed.size(); ++e) by_species[element_symbol(probed[e].species)].push_back(spots[e].index);
        std::vector<size_t> order(probed.size());
        for (size_t e = 0; e < order.size(); ++e) order[e] = e;
        std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return spots[a].index < spots[b].index; });
        json worst = json::array();
        std::string rows = table_row({"frame", "atom", "species", "blind-spot index", "soft directions"}, true);
        for (size_t k = 0; k < std::min<size_t>(10, order.size()); ++k) {
            const Environment& e = probed[order[k]];
            worst.push_back({{"frame", e.frame}, {"atom", e.atom}, {"species", element_symbol(e.species)},
                             {"index", spots[order[k]].index}, {"soft_directions", spots[order[k]].below}});
            rows += table_row({std::to_string(e.frame), std::to_string(e.atom), element_symbol(e.species),
                               format("%.3e", spots[order[k]].index), std::to_string(spots[order[k]].below)});
        }
        json per_species = json::object();
        std::vector<std::pair<std::string, std::vector<double>>> groups;
        for (const auto& [name, v] : by_species) {
            per_species[name] = {{"environments", v.size()}, {"median", median(v)}};
            // a zero index has no logarithm: drawn at the smallest positive double's decade
            std::vector<double> shown = v;
            for (double& x : shown) x = std::max(x, 1e-17);
            groups.push_back({name, shown});
        }
        json every = json::array();
        for (size_t e = 0; e < probed.size(); ++e) {
            every.push_back({{"frame", probed[e].frame}, {"atom", probed[e].atom}, {"index", spots[e].index},
                             {"soft_directions", spots[e].below}});
        }
        summary["blind_spots"] = {{"threshold", options.threshold}, {"environments", probed.size()}, {"per_species", per_species},
                                  {"worst", worst}, {"probed", every}};
        Figure figure;
        figure.panels.push_back(log_histogram("Blind-spot index", "log10 (smallest / largest non-rigid eigenvalue)", groups));
        body += "<h2>Blind spots of the fingerprint</h2>\n<p>The blind-spot index of an environment is the smallest "
                "non-rigid eigenvalue of its sensitivity matrix JᵀJ over the largest (docs/sensitivity.md). Near 0, some "
                "motion of the atoms leaves the fingerprint unchanged: a model of this fingerprint cannot tell those "
                "configurations apart however much data it sees, and its predictive variance does not notice. Soft "
                "directions are the non-rigid eigenvalues below " + format("%.0e", options.threshold) +
                " × the largest. Condensed environments with many neighbours have several (the power spectrum does "
                "not resolve every motion of 15 or more neighbours, and neighbours on the cutoff are invisible); "
                "<code>examples/uncertainty</code> shows how to read it.</p>\n" + inline_svg(figure) +
                "<p>The 10 environments with the smallest index (of the " + std::to_string(probed.size()) + " probed):</p>\n<table>\n" +
                rows + "</table>\n";
    }

    const json parameters = descriptor.parameters();
    if (!is_soap_family(parameters)) {
        body += "<h2>Completeness and convergence</h2>\n<p>These compare the descriptor with finer and higher-body-order "
                "members of its family; they are computed for the SOAP family (power spectrum, bispectrum, density "
                "expansion). For this descriptor compare by hand with <code>atomfp compare</code>.</p>\n";
        summary["completeness"] = nullptr;
        summary["convergence"] = nullptr;
    } else {
        const int n = parameters["max_radial"].get<int>(), l = parameters["max_angular"].get<int>();
        const bool bispectrum = parameters["type"] == "soap_bispectrum";
        const int max_l = bispectrum ? 10 : 20;
        const FeatureMatrix own = environment_features(descriptor, frames, sample);
        std::vector<Comparison> comparisons;
        comparisons.push_back({"finer basis (n_max + 2, l_max + 2)", with_basis(parameters, n + 2, std::min(l + 2, max_l))});
        if (!bispectrum) {
            json body_order = with_basis(parameters, std::min(n, 4), std::min(l, 4));
            body_order["type"] = "soap_bispectrum";
            comparisons.push_back({"higher body order (bispectrum, n_max, l_max ≤ 4)", body_order});
        }
        json completeness = json::array();
        std::string rows = table_row({"compared with", "features", "GFRE(audited → it)", "GFRE(it → audited)", "reading"}, true);
        for (size_t k = 0; k < comparisons.size(); ++k) {
            Comparison& c = comparisons[k];
            bar.show("completeness", static_cast<int64_t>(k), static_cast<int64_t>(comparisons.size()), "descriptors");
            const auto other = create_descriptor_from_spec(c.spec);
            const FeatureMatrix y = environment_features(*other, frames, sample);
            c.features = y.cols;
            const TwoWayComparison both = compare_both_ways(own, y, ComparisonOptions{options.seed, -1, 0}, false);
            c.forward = both.global[0].test_error;
            c.backward = both.global[1].test_error;
            const std::string reading = c.forward > gfre_tolerance
                                            ? "it holds information the audited descriptor lacks: consider it"
                                            : "the audited descriptor already holds what it adds, linearly";
            completeness.push_back({{"name", c.name}, {"spec", c.spec}, {"features", c.features}, {"gfre_forward", c.forward},
                                    {"gfre_backward", c.backward}, {"reading", reading}});
            rows += table_row({html_escape(c.name), std::to_string(c.features), format("%.3f", c.forward), format("%.3f", c.backward),
                               reading});
        }
        bar.show("completeness", static_cast<int64_t>(comparisons.size()), static_cast<int64_t>(comparisons.size()), "descriptors");
        summary["completeness"] = completeness;
        body += "<h2>Feature-space completeness</h2>\n<p>The global feature-space reconstruction error GFRE(A → B) is "
                "the part of B that a linear map from A cannot reconstruct on held-out environments (0: none, 1: all; "
                "Goscinski et al. 2021, docs/feature_space.md), on the " + std::to_string(sample.size()) +
                " sampled environments. Above " + format("%.2f", gfre_tolerance) +
                " the compared descriptor sees structure the audited one does not.</p>\n<table>\n" + rows + "</table>\n";

        // Convergence: a ladder of bases up to one step beyond the audited one, each compared with a
        // reference basis one step beyond the ladder (so that the recommendation is never the
        // reference itself).
        std::vector<std::pair<int, int>> ladder = {{4, 2}, {6, 4}, {8, 6}, {10, 8}, {12, 10}};
        ladder.push_back({n, l});
        for (auto& [ln, ll] : ladder) ll = std::min(ll, max_l);
        std::sort(ladder.begin(), ladder.end());
        ladder.erase(std::unique(ladder.begin(), ladder.end()), ladder.end());
        ladder.erase(std::remove_if(ladder.begin(), ladder.end(), [&](const std::pair<int, int>& b) { return b.first > n + 2; }),
                     ladder.end());
        const std::pair<int, int> reference_basis{ladder.back().first + 2, std::min(ladder.back().second + 2, max_l)};
        const std::vector<Environment> convergence_probes(sample.begin(), sample.begin() + std::min<int64_t>(40, static_cast<int64_t>(sample.size())));
        const auto largest = create_descriptor_from_spec(with_basis(parameters, reference_basis.first, reference_basis.second));
        const FeatureMatrix reference = environment_features(*largest, frames, sample);
        std::vector<ConvergencePoint> points;
        for (size_t k = 0; k < ladder.size(); ++k) {
            ConvergencePoint p;
            p.n = ladder[k].first;
            p.l = ladder[k].second;
            const auto d = create_descriptor_from_spec(with_basis(parameters, p.n, p.l));
            const FeatureMatrix x = environment_features(*d, frames, sample);
            p.features = x.cols;
            p.gfre_to_reference = gfre(x, reference, ComparisonOptions{options.seed, -1, 0}).test_error;
            const std::vector<BlindSpot> s = blind_spots(*d, frames, convergence_probes, options.threshold, bar,
                                                         "convergence n=" + std::to_string(p.n) + " l=" + std::to_string(p.l));
            std::vector<double> index, soft;
            for (const BlindSpot& b : s) index.push_back(b.index), soft.push_back(static_cast<double>(b.below));
            p.median_index = median(index);
            p.median_soft = median(soft);
            points.push_back(p);
        }
        const auto recommended = std::find_if(points.begin(), points.end(),
                                              [](const ConvergencePoint& p) { return p.gfre_to_reference <= gfre_tolerance; });
        json convergence = json::array();
        std::string table = table_row({"n_max", "l_max", "features", "GFRE(→ reference)", "median blind-spot index", "median soft directions"}, true);
        Series gfre_series{"GFRE to the reference basis", {}, {}, Series::Style::line_and_markers, Series::Marker::circle, ""};
        Series index_series{"median blind-spot index", {}, {}, Series::Style::line_and_markers, Series::Marker::square, ""};
        for (const ConvergencePoint& p : points) {
            convergence.push_back({{"max_radial", p.n}, {"max_angular", p.l}, {"features", p.features},
                                   {"gfre_to_reference", p.gfre_to_reference}, {"median_blind_spot_index", p.median_index},
                                   {"median_soft_directions", p.median_soft}});
            table += table_row({std::to_string(p.n), std::to_string(p.l), std::to_string(p.features), format("%.3f", p.gfre_to_reference),
                                format("%.2e", p.median_index), format("%.0f", p.median_soft)});
            gfre_series.x.push_back(static_cast<double>(p.features));
            gfre_series.y.push_back(std::max(p.gfre_to_reference, 1e-4));
            index_series.x.push_back(static_cast<double>(p.features));
            index_series.y.push_back(std::max(p.median_index, 1e-17));
        }
        summary["convergence"] = {{"bases", convergence},
                                  {"reference", {{"max_radial", reference_basis.first}, {"max_angular", reference_basis.second}}},
                                  {"recommended", recommended == points.end()
                                                      ? json(nullptr)
                                                      : json{{"max_radial", recommended->n}, {"max_angular", recommended->l}}}};
        Figure figure;
        figure.columns = 2;
        figure.panels.push_back(Panel("GFRE of each basis to the reference", "features", "GFRE", true, true, false, {gfre_series}));
        figure.panels.push_back(Panel("Blind-spot index", "features", "median index", true, true, false, {index_series}));
        std::string advice = recommended == points.end()
                                 ? "No basis of the ladder reconstructs the reference within " + format("%.2f", gfre_tolerance) +
                                       ": the basis is not converged; try a larger one."
                                 : "Recommended: n_max = " + std::to_string(recommended->n) + ", l_max = " +
                                       std::to_string(recommended->l) + ", the smallest basis whose GFRE to the reference is at most " +
                                       format("%.2f", gfre_tolerance) + (recommended->n == n && recommended->l == l
                                                                             ? " (the audited one)."
                                                                             : ".");
        body += "<h2>Convergence with the basis</h2>\n<p>The same descriptor with other n_max, l_max on the " +
                std::to_string(sample.size()) + " sampled environments (blind-spot index on the " +
                std::to_string(convergence_probes.size()) + " most distinct), each reconstructing a reference basis n_max = " +
                std::to_string(reference_basis.first) + ", l_max = " + std::to_string(reference_basis.second) +
                ". A basis is converged when the reference adds nothing linearly (GFRE near 0) and the blind-spot index "
                "has stopped moving. " + html_escape(advice) + "</p>\n" +
                inline_svg(figure) + "<table>\n" + table + "</table>\n";
        std::printf("  %s\n", advice.c_str());
    }

    const std::string html =
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>atomfp audit of " + html_escape(options.input) +
        "</title>\n<style>\nbody { font-family: sans-serif; max-width: 1180px; margin: 2em auto; color: #222; line-height: 1.4; }\n"
        "table { border-collapse: collapse; margin: 0.8em 0; }\nth, td { border: 1px solid #bbb; padding: 3px 9px; text-align: left; }\n"
        "th { background: #eee; }\ncode { background: #f4f4f4; padding: 0 3px; word-break: break-all; }\nsvg { max-width: 100%; height: auto; }\n"
        "</style>\n</head>\n<body>\n<h1>atomfp audit</h1>\n" + body + "</body>\n</html>\n";
    AtomicOutput html_file(html_path, false);
    html_file.stream() << html;
    html_file.commit();
    AtomicOutput json_file(json_path, false);
    json_file.stream() << summary.dump(1) << "\n";
    json_file.commit();
    std::printf("  wrote %s and %s\n", html_path.c_str(), json_path.c_str());
}

}  // namespace

Command add_audit(CLI::App& tool) {
    auto options = std::make_shared<AuditOptions>();
    CLI::App* app = add_command(
        tool, "audit", "how far a dataset can trust a model and its descriptor: an HTML report",
        "atomfp audit (--model MODEL.afp | --spec SPEC.json) DATA.extxyz -o REPORT [--training TRAIN.extxyz]",
        "Writes REPORT.html (self-contained, figures inline) and REPORT.json: with a model, the\n"
        "per-centre posterior variances of DATA by species and config_type (against TRAIN's with\n"
        "--training, and their calibration where DATA has energies) and extrapolation counts; for any\n"
        "descriptor, the blind-spot index of sampled environments with the worst ones listed, the GFRE\n"
        "against a finer basis and a higher body order, and a convergence ladder of bases with a\n"
        "recommended size (SOAP family). Environments are sampled by farthest-point sampling beyond\n"
        "--max-environments, so memory stays bounded.");
    add_input(app, options->input, "DATA", "extended XYZ file of the structures to audit");
    app->add_option("--model", options->model, "an atomfp model file")->type_name("FILE");
    add_spec(app, options->spec, "a descriptor specification, to audit without a model");
    add_output(app, options->output, "PREFIX", "writes PREFIX.html and PREFIX.json")->required();
    app->add_option("--training", options->training, "the training structures, to compare variances with")->type_name("FILE");
    app->add_option("--max-environments", options->max_environments,
                    "at most N environments for the descriptor analyses (farthest-point sampling)")
        ->type_name("N")
        ->check(CLI::Range(int64_t{4}, int64_t{1} << 40).description(""))
        ->capture_default_str();
    app->add_option("--blind-spot-environments", options->blind_spot_environments,
                    "how many of them get a blind-spot index (the most distinct first)")
        ->type_name("N")
        ->check(CLI::Range(int64_t{1}, int64_t{1} << 40).description(""))
        ->capture_default_str();
    app->add_option("--threshold", options->threshold, "relative eigenvalue below which a direction counts as soft")
        ->type_name("T")
        ->check(CLI::Range(0.0, 1.0).description(""))
        ->capture_default_str();
    add_seed(app, options->seed, "the environment sample and the GFRE train/test split");
    add_label_keys(app, options->labels);
    return {app, [options] { run_audit(*options); }};
}

}  // namespace atomfp::cli
